"""Model KPIs: metric history per version, champion vs challenger, the registry timeline,
and each model objective's value and trend.

Frames in as `store.queries` returns them: metric points per version
(`model_metric_points`: [ts, value, step, run_id]), alias events [model, alias, version,
ts, origin], model versions [model, version, run_id, status, stage, aliases, created,
updated], runs [run_id, start, ...]. Pure: explicit `as_of`, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from config.schema import ModelMetricObjective, Op
from kpis._time import utc_timestamp
from kpis.dora import version_key
from kpis.health import ObjectiveResult, evaluate_objective
from kpis.trend import trend, week_over_week

HISTORY_COLUMNS = ["version", "ts", "value", "step", "run_id"]
INTERVAL_COLUMNS = ["model", "alias", "version", "start", "end", "current", "origin"]
REGISTRY_ORIGIN = "registry"  # an alias the registry shows with no recorded history
LAST_N = 3


def metric_history(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One long frame [version, ts, value, step, run_id] of each version's points; versions
    in version order, each oldest first; NaN values left out."""
    parts = []
    for version in sorted(frames, key=version_key):
        frame = frames[version]
        if frame.empty:
            continue
        part = frame.loc[frame["value"].notna(), ["ts", "value", "step", "run_id"]].copy()
        part.insert(0, "version", version)
        parts.append(part.sort_values(["ts", "step"], kind="stable"))
    if not parts:
        return pd.DataFrame({
            "version": pd.Series([], dtype=object),
            "ts": pd.Series([], dtype="datetime64[ns, UTC]"),
            "value": pd.Series([], dtype=float),
            "step": pd.Series([], dtype="int64"),
            "run_id": pd.Series([], dtype=object),
        })
    return pd.concat(parts, ignore_index=True)[HISTORY_COLUMNS]


def direction(op: Op | None) -> int | None:
    """+1 when higher values are better (>=, >), -1 when lower are (<=, <), None unknown."""
    if op in (">=", ">"):
        return 1
    if op in ("<=", "<"):
        return -1
    return None


@dataclass(frozen=True)
class VersionStats:
    version: str
    latest: float
    latest_at: datetime
    mean_last: float  # mean of the last n points
    points: int  # how many points the mean is over (at most n)


@dataclass(frozen=True)
class Comparison:
    """Champion vs challenger on one metric; `delta` = challenger - champion of the means
    of their last n points; `better` is 'champion', 'challenger', 'tie', or None when a side
    has no data or the metric's direction is unknown."""

    metric: str
    champion: VersionStats | None
    challenger: VersionStats | None
    last_n: int
    direction: int | None
    delta: float | None
    better: str | None


def version_stats(version: str | None, points: pd.DataFrame, *, as_of: datetime,
                  last_n: int = LAST_N) -> VersionStats | None:
    """Latest value and mean of the last `last_n` points at or before `as_of`."""
    if version is None or points.empty:
        return None
    at = utc_timestamp(as_of)
    valid = points.loc[points["value"].notna() & (points["ts"] <= at)]
    if valid.empty:
        return None
    ordered = valid.sort_values(["ts", "step"], kind="stable")
    tail = ordered.tail(last_n)
    return VersionStats(version=version, latest=float(ordered["value"].iloc[-1]),
                        latest_at=pd.Timestamp(ordered["ts"].iloc[-1]).to_pydatetime(),
                        mean_last=float(tail["value"].mean()), points=len(tail))


def compare(metric: str, champion: VersionStats | None, challenger: VersionStats | None,
            *, op: Op | None, last_n: int = LAST_N) -> Comparison:
    """Which of the two is better on `metric`, by the means of their last n points."""
    sign = direction(op)
    delta = better = None
    if champion is not None and challenger is not None:
        delta = challenger.mean_last - champion.mean_last
        if sign is not None:
            better = "tie" if delta == 0 else ("challenger" if delta * sign > 0 else "champion")
    return Comparison(metric=metric, champion=champion, challenger=challenger, last_n=last_n,
                      direction=sign, delta=delta, better=better)


def alias_intervals(events: pd.DataFrame, versions: pd.DataFrame, *, as_of: datetime
                    ) -> pd.DataFrame:
    """When each alias pointed at each version: [model, alias, version, start, end,
    current, origin]; the open interval ends at `as_of` with current True.

    Built from the alias events at or before `as_of` (a move to the version already held
    is no move). An alias the registry shows now but no event explains (a model collected
    before any history existed) gets one interval from its version's creation, origin
    'registry': it held the alias at least since then, as far as dspo can tell.
    """
    at = utc_timestamp(as_of)
    rows: list[dict[str, object]] = []
    open_now: set[tuple[str, str]] = set()
    known = events.loc[events["ts"] <= at] if not events.empty else events
    groups = known.groupby(["model", "alias"], sort=True) if not known.empty else []
    for (model, alias), group in groups:
        held: dict[str, object] | None = None
        for row in group.sort_values("ts", kind="stable").itertuples(index=False):
            version = None if pd.isna(row.version) else str(row.version)
            if held is not None and held["version"] == version:
                continue
            if held is not None:
                rows.append({**held, "end": row.ts, "current": False})
                held = None
            if version is not None:
                held = {"model": model, "alias": alias, "version": version, "start": row.ts,
                        "origin": row.origin}
        if held is not None:
            rows.append({**held, "end": at, "current": True})
            open_now.add((str(model), str(alias)))
    for row in versions.itertuples(index=False) if not versions.empty else []:
        for alias in row.aliases or []:
            if (row.model, alias) not in open_now and row.created <= at:
                rows.append({"model": row.model, "alias": alias, "version": str(row.version),
                             "start": row.created, "end": at, "current": True,
                             "origin": REGISTRY_ORIGIN})
    frame = pd.DataFrame(rows, columns=INTERVAL_COLUMNS)
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column].astype(object), utc=True)
    frame["current"] = frame["current"].astype(bool)
    return frame.sort_values(["model", "alias", "start"], kind="stable", ignore_index=True)


def version_births(versions: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """[model, version, trained, created]: each version with the start of its training
    run (NaT when unknown): the registry's own creation time can be much later (a
    backfilled registry), the run start is when the model was made."""
    start = dict(zip(runs["run_id"], runs["start"], strict=True)) if len(runs) else {}
    frame = versions[["model", "version", "run_id", "created"]].copy()
    frame["trained"] = pd.to_datetime(
        pd.Series([start.get(r) for r in frame["run_id"]], index=frame.index, dtype=object),
        utc=True)
    frame["version"] = frame["version"].astype(str)
    return frame[["model", "version", "trained", "created"]].reset_index(drop=True)


@dataclass(frozen=True)
class ObjectiveTrend:
    """A model objective now, its trailing points and its week-over-week change."""

    result: ObjectiveResult
    trend: pd.DataFrame  # [ts, value] in (as_of - days, as_of]
    week_over_week: float | None


def objective_trend(objective: ModelMetricObjective, points: pd.DataFrame, *,
                    as_of: datetime, days: float = 28) -> ObjectiveTrend:
    """Evaluate a model objective on its version's points and take its trend."""
    return ObjectiveTrend(
        result=evaluate_objective(objective, points, as_of=as_of),
        trend=trend(points, as_of=as_of, days=days),
        week_over_week=week_over_week(points, as_of=as_of),
    )
