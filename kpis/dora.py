"""DORA for ML: the four delivery metrics, read from a model registry's alias history.

A *deployment* is a promotion of the production alias (default `champion`): the alias
moves to a higher version than it last held, or is set for the first time. A move back to
a lower version is a *rollback*; a move to the version the alias already points to is no
move at all (the same promotion both tagged and observed), and a removed alias is a
*removal*. Versions compare as numbers where they are numbers, as MLflow's are.

- Deployment frequency: promotions in [start, end) per week.
- Lead time for changes: from the start of the training run of the promoted version to the
  promotion. (A model's "commit" is its training run; code changes before it are outside
  the registry's view.)
- Change failure rate: the share of promotions followed within `failure_days` by a failure
  signal: a rollback of the same model's alias, or an alert starting to fire. Each signal
  counts against the latest promotion at or before it, so a rollback blames the release it
  undid, not an older one. A promotion younger than `failure_days` can still fail later.
- Time to restore: from a rollback to the next promotion of that alias (the fixed release),
  or from an alert firing to its resolution; the median over restored incidents. Open
  incidents are listed with no restore time and left out of the median.

Frames in (as `store.queries` returns them): alias events [model, alias, version, ts,
origin], model versions [model, version, run_id, ...], runs [run_id, start, ...], alerts
[started, resolved] (may be empty). Everything here is pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from kpis._time import utc_timestamp

PRODUCTION_ALIAS = "champion"
FAILURE_DAYS = 7
MOVE_COLUMNS = ["model", "alias", "version", "previous", "ts", "kind"]
PROMOTION = "promotion"
ROLLBACK = "rollback"
REMOVAL = "removal"
REDEPLOY = "redeploy"  # set again to the version it held before a removal
WEEK = timedelta(days=7)


def version_key(version: str) -> tuple[int, int | str]:
    """MLflow versions are integers in text: compare them as numbers where they are."""
    return (0, int(version)) if version.isdigit() else (1, version)


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in columns.items()})


def alias_moves(events: pd.DataFrame, *, alias: str = PRODUCTION_ALIAS) -> pd.DataFrame:
    """Every real move of `alias`, oldest first, classified: [model, alias, version,
    previous, ts, kind]; `previous` is the last version the alias pointed at (None for the
    first move), kind is promotion, rollback, removal or redeploy."""
    rows: list[dict[str, object]] = []
    mine = events.loc[events["alias"] == alias] if not events.empty else events
    for model, group in mine.groupby("model", sort=True) if not mine.empty else []:
        current: str | None = None  # where the alias points now (None: unset or removed)
        last: str | None = None  # the last version it pointed at
        for row in group.sort_values("ts", kind="stable").itertuples(index=False):
            version = None if pd.isna(row.version) else str(row.version)
            if version == current:
                continue
            if version is None:
                kind = REMOVAL
            elif last is None or version_key(version) > version_key(last):
                kind = PROMOTION
            elif version_key(version) < version_key(last):
                kind = ROLLBACK
            else:
                kind = REDEPLOY
            rows.append({"model": model, "alias": alias, "version": version, "previous": last,
                         "ts": row.ts, "kind": kind})
            current = version
            last = version if version is not None else last
    if not rows:
        return _empty({"model": "object", "alias": "object", "version": "object",
                       "previous": "object", "ts": "datetime64[ns, UTC]", "kind": "object"})
    moves = pd.DataFrame(rows, columns=MOVE_COLUMNS)
    moves["ts"] = pd.to_datetime(moves["ts"], utc=True)
    return moves.sort_values(["ts", "model"], kind="stable", ignore_index=True)


def _in(frame: pd.DataFrame, column: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    return (frame[column] >= start) & (frame[column] < end)


def _span(start: datetime, end: datetime) -> tuple[pd.Timestamp, pd.Timestamp]:
    lo, hi = utc_timestamp(start, name="start"), utc_timestamp(end, name="end")
    if hi <= lo:
        raise ValueError(f"end ({hi}) must be after start ({lo})")
    return lo, hi


def promotions(moves: pd.DataFrame, *, start: datetime, end: datetime) -> pd.DataFrame:
    """The promotions among `moves` in [start, end), oldest first."""
    lo, hi = _span(start, end)
    return moves.loc[(moves["kind"] == PROMOTION) & _in(moves, "ts", lo, hi)].reset_index(
        drop=True)


def deployment_frequency(moves: pd.DataFrame, *, start: datetime, end: datetime) -> float:
    """Promotions in [start, end) per week (0.0 when there were none)."""
    lo, hi = _span(start, end)
    return len(promotions(moves, start=lo, end=hi)) / ((hi - lo) / WEEK)


def weekly_moves(moves: pd.DataFrame, *, start: datetime, end: datetime) -> pd.DataFrame:
    """[week, promotions, rollbacks] per 7-day bucket from `start` (the last bucket may be
    cut short by `end`): the deployment frequency's trend."""
    lo, hi = _span(start, end)
    weeks = pd.date_range(lo, hi, freq=WEEK, inclusive="left")
    frame = moves.loc[_in(moves, "ts", lo, hi)]
    bucket = ((frame["ts"] - lo) // WEEK).astype(int) if len(frame) else pd.Series([], dtype=int)
    counts = {kind: bucket[frame["kind"] == kind].value_counts() for kind in (PROMOTION, ROLLBACK)}
    return pd.DataFrame({
        "week": weeks,
        "promotions": [int(counts[PROMOTION].get(i, 0)) for i in range(len(weeks))],
        "rollbacks": [int(counts[ROLLBACK].get(i, 0)) for i in range(len(weeks))],
    })


def lead_times(promoted: pd.DataFrame, versions: pd.DataFrame, runs: pd.DataFrame
               ) -> pd.DataFrame:
    """Per promotion: [model, version, ts, trained, lead_time]; `trained` is the start of
    the version's training run (NaT when the run is unknown, and lead_time with it)."""
    run_start = dict(zip(runs["run_id"], runs["start"], strict=True)) if len(runs) else {}
    run_of = ({(m, str(v)): r for m, v, r in zip(versions["model"], versions["version"],
                                                  versions["run_id"], strict=True)}
              if len(versions) else {})
    frame = promoted[["model", "version", "ts"]].copy()
    trained = [run_start.get(run_of.get((m, v))) for m, v in zip(frame["model"],
                                                                frame["version"], strict=True)]
    frame["trained"] = pd.to_datetime(pd.Series(trained, index=frame.index, dtype=object),
                                      utc=True)
    frame["lead_time"] = frame["ts"] - frame["trained"]
    return frame.reset_index(drop=True)


def median_duration(durations: pd.Series) -> timedelta | None:
    """The median of the known durations (NaT left out); None when there is none."""
    known = durations.dropna()
    return None if known.empty else pd.Timedelta(known.median()).to_pytimedelta()


def _alert_starts(alerts: pd.DataFrame) -> pd.Series:
    if alerts.empty:
        return pd.Series([], dtype="datetime64[ns, UTC]")
    return pd.to_datetime(alerts["started"], utc=True).dropna().sort_values()


def change_failures(moves: pd.DataFrame, alerts: pd.DataFrame, *, start: datetime,
                    end: datetime, failure_days: float = FAILURE_DAYS) -> pd.DataFrame:
    """Per promotion in [start, end): [model, version, ts, failed, cause, signal_at].

    cause is 'rollback' or 'alert' (the earliest signal within `failure_days`), else None.
    """
    window = timedelta(days=failure_days)
    everything = moves.loc[moves["kind"] == PROMOTION]
    signals: list[tuple[pd.Timestamp, str, str | None]] = [
        (ts, ROLLBACK, model) for ts, model in
        zip(moves.loc[moves["kind"] == ROLLBACK, "ts"],
            moves.loc[moves["kind"] == ROLLBACK, "model"], strict=True)
    ] + [(ts, "alert", None) for ts in _alert_starts(alerts)]
    blamed: dict[int, tuple[pd.Timestamp, str]] = {}
    for ts, cause, model in sorted(signals, key=lambda s: s[0]):
        earlier = everything.loc[everything["ts"] <= ts]
        if model is not None:
            earlier = earlier.loc[earlier["model"] == model]
        if earlier.empty:
            continue
        index, promoted_at = earlier.index[-1], earlier["ts"].iloc[-1]
        if ts - promoted_at <= window and index not in blamed:
            blamed[index] = (ts, cause)
    lo, hi = _span(start, end)
    shown = everything.loc[_in(everything, "ts", lo, hi), ["model", "version", "ts"]].copy()
    shown["failed"] = [i in blamed for i in shown.index]
    shown["cause"] = [blamed[i][1] if i in blamed else None for i in shown.index]
    shown["signal_at"] = pd.to_datetime(
        pd.Series([blamed[i][0] if i in blamed else None for i in shown.index],
                  index=shown.index, dtype=object), utc=True)
    return shown.reset_index(drop=True)


def change_failure_rate(failures: pd.DataFrame) -> float | None:
    """Failed promotions / promotions; None when there was no promotion."""
    if failures.empty:
        return None
    return float(failures["failed"].sum() / len(failures))


def restore_times(moves: pd.DataFrame, alerts: pd.DataFrame, *, start: datetime,
                  end: datetime) -> pd.DataFrame:
    """Incidents that began in [start, end): [kind, model, started, restored, duration];
    restored (and duration) NaT while the incident is open."""
    lo, hi = _span(start, end)
    rows: list[dict[str, object]] = []
    for rollback in moves.loc[moves["kind"] == ROLLBACK].itertuples(index=False):
        later = moves.loc[(moves["kind"] == PROMOTION) & (moves["model"] == rollback.model)
                          & (moves["ts"] > rollback.ts), "ts"]
        rows.append({"kind": ROLLBACK, "model": rollback.model, "started": rollback.ts,
                     "restored": later.min() if len(later) else None})
    if not alerts.empty:
        for started, resolved in zip(alerts["started"], alerts["resolved"], strict=True):
            if not pd.isna(started):
                rows.append({"kind": "alert", "model": None, "started": started,
                             "restored": None if pd.isna(resolved) else resolved})
    frame = pd.DataFrame(rows, columns=["kind", "model", "started", "restored"])
    for column in ("started", "restored"):
        frame[column] = pd.to_datetime(frame[column].astype(object), utc=True)
    frame = frame.loc[_in(frame, "started", lo, hi)].sort_values("started", kind="stable")
    frame["duration"] = frame["restored"] - frame["started"]
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class Dora:
    """The four metrics over [start, end) with the tables they come from."""

    alias: str
    start: datetime
    end: datetime
    failure_days: float
    moves: pd.DataFrame  # every move of the alias, all time (context for the window)
    weekly: pd.DataFrame  # [week, promotions, rollbacks]
    deployment_frequency: float  # promotions per week
    lead_times: pd.DataFrame  # per promotion in the window
    lead_time_p50: timedelta | None
    failures: pd.DataFrame  # per promotion in the window
    change_failure_rate: float | None
    restores: pd.DataFrame  # incidents that began in the window
    time_to_restore_p50: timedelta | None

    @property
    def promotions(self) -> int:
        return len(self.failures)

    @property
    def failed_promotions(self) -> int:
        """Promotions in the window that failed: the change failure rate's numerator."""
        return int(self.failures["failed"].sum()) if len(self.failures) else 0

    @property
    def promotions_with_lead_time(self) -> int:
        """Promotions whose training run is known: what the lead time's median is over."""
        return int(self.lead_times["lead_time"].notna().sum())

    @property
    def restored(self) -> int:
        """Incidents of the window that were restored: what time to restore is over."""
        return int(self.restores["duration"].notna().sum())

    @property
    def open_incidents(self) -> int:
        """Incidents of the window not restored yet (left out of time to restore)."""
        return len(self.restores) - self.restored


def dora(events: pd.DataFrame, versions: pd.DataFrame, runs: pd.DataFrame,
         alerts: pd.DataFrame, *, start: datetime, end: datetime,
         alias: str = PRODUCTION_ALIAS, failure_days: float = FAILURE_DAYS) -> Dora:
    """All four DORA metrics of one product's models over [start, end)."""
    moves = alias_moves(events, alias=alias)
    promoted = promotions(moves, start=start, end=end)
    lead = lead_times(promoted, versions, runs)
    failures = change_failures(moves, alerts, start=start, end=end, failure_days=failure_days)
    restores = restore_times(moves, alerts, start=start, end=end)
    return Dora(
        alias=alias, start=start, end=end, failure_days=failure_days, moves=moves,
        weekly=weekly_moves(moves, start=start, end=end),
        deployment_frequency=deployment_frequency(moves, start=start, end=end),
        lead_times=lead, lead_time_p50=median_duration(lead["lead_time"]),
        failures=failures, change_failure_rate=change_failure_rate(failures),
        restores=restores, time_to_restore_p50=median_duration(restores["duration"]),
    )
