"""Sprint burndown and burnup, scope changes and carry-over, rebuilt from the item history.

A burndown is only honest if it shows *why* the line moved: work done, or scope added,
removed or re-estimated. Everything here is rebuilt with `kpis.history.ItemHistory`, and
counted with the same rules as `kpis.velocity`, so the two charts on the sprint page agree:

* **scope** at an instant: the estimates (at that instant; none = 0) of the items in the
  sprint then. Items done before the sprint started and still done ("completed outside
  this sprint") are left out, as velocity leaves them out of commitment and completed; one
  reopened during the sprint joins the scope.
* **completed**: the part of scope that is done at that instant; **remaining** = scope -
  completed. So scope at the start equals velocity's *commitment*, and completed at the
  end equals velocity's *completed*.
* The end is the instant the sprint was completed (planned end without a recorded
  completion); for a sprint still open at `as_of`, `as_of`. Items the tracker moves to the
  next sprint *at* that instant are the close itself: they still count at the end.
* The **ideal** line falls from the commitment at the start to 0 at the *planned* end,
  over working time only (Monday to Friday, in UTC): it is flat over weekends.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from kpis._time import utc_timestamp
from kpis.history import DONE, POINTS, SPRINT, STATUS_CATEGORY, ItemHistory, as_text
from kpis.velocity import CLOSED, end_instant

BURNDOWN_COLUMNS = ["ts", "scope", "completed", "remaining", "ideal"]
SCOPE_CHANGE_COLUMNS = ["ts", "item_key", "change", "points_delta"]
CARRY_OVER_COLUMNS = ["sprint", "next_sprint", "items", "points"]
ADDED, REMOVED, RE_ESTIMATED = "added", "removed", "re-estimated"
_DAY = pd.Timedelta(days=1)
_TICK = pd.Timedelta(1, "ns")


def sprint_row(sprints: pd.DataFrame, sprint: str) -> pd.Series:
    """The sprint `sprint` (an external id) of `sprints`; a clear error if unknown or unstarted."""
    match = sprints.loc[sprints["external_id"].map(as_text) == as_text(sprint)]
    if match.empty:
        raise ValueError(f"no sprint with external_id {sprint!r}")
    row = match.iloc[0]
    if pd.isna(row["start"]):
        raise ValueError(f"sprint {sprint!r} has no start")
    return row


def _carried_at(events: pd.DataFrame, sprint_id: str | None, at: pd.Timestamp) -> set[str]:
    """Items moved out of the sprint exactly at its close: the carry-over, not a removal."""
    if events.empty:
        return set()
    moves = events.loc[(events["field"] == SPRINT) & (events["ts"] == at)]
    return set(moves.loc[moves["from_value"].map(as_text) == sprint_id, "item_key"])


def _ever_in(items: pd.DataFrame, events: pd.DataFrame, sprint_id: str | None) -> set[str]:
    """Keys of the items in the sprint now or moved in or out of it at any time.

    Only these can ever be in its scope; leaving the rest out keeps a burndown of a large
    backlog cheap.
    """
    keys = set(items.loc[items[SPRINT].map(as_text) == sprint_id, "key"])
    if not events.empty:
        moves = events.loc[events["field"] == SPRINT]
        touched = (moves["from_value"].map(as_text) == sprint_id) | (
            moves["to_value"].map(as_text) == sprint_id)
        keys |= set(moves.loc[touched, "item_key"])
    return keys


class _Sprint:
    """One sprint's scope at any instant, with the rules of the module docstring."""

    def __init__(self, sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame,
                 sprint: str, as_of: pd.Timestamp) -> None:
        row = sprint_row(sprints, sprint)
        self.id = as_text(row["external_id"])
        self.start = pd.Timestamp(row["start"])
        self.stop, self.closed = end_instant(row, as_of)
        self.planned_end = pd.Timestamp(row["end"]) if pd.notna(row["end"]) else self.stop
        keys = _ever_in(items, events, self.id)
        self.items = items.loc[items["key"].isin(keys)]
        self.events = events.loc[events["item_key"].isin(keys)] if not events.empty else events
        self.history = ItemHistory(self.items, self.events)
        created = self.items.set_index("key").loc[self.history.keys, "created"]
        self.created = pd.to_datetime(created, utc=True).dt.tz_convert(None).to_numpy()
        self.carried = _carried_at(events, self.id, self.stop) if self.closed else set()

    def scope(self, at: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
        """(points of every item, NaN where not in scope; done flag), indexed by key.

        Plain numpy over `ItemHistory.value_at`: a burndown asks this a few dozen times.
        """
        h = self.history
        sprint = np.array([as_text(v) for v in h.value_at(SPRINT, at)], dtype=object)
        category = np.array([as_text(v) for v in h.value_at(STATUS_CATEGORY, at)], dtype=object)
        points = pd.to_numeric(pd.Series(h.value_at(POINTS, at), dtype=object),
                               errors="coerce").fillna(0.0).to_numpy(dtype=float)
        at64 = at.tz_convert(None).to_datetime64()
        in_sprint = (np.isnat(self.created) | (self.created <= at64)) & (sprint == self.id)
        if at == self.stop and self.carried:
            in_sprint |= h.keys.isin(list(self.carried))
        done = category == DONE
        if done.any():
            last_done = h.last_done_at(at).to_numpy()
            done_before = np.zeros(len(done), dtype=bool)
            done_before[done] = last_done[done] <= self.start
            in_sprint &= ~done_before
        return (pd.Series(np.where(in_sprint, points, np.nan), index=h.keys),
                pd.Series(done, index=h.keys))

    def instants(self) -> list[pd.Timestamp]:
        """The start, every 24 hours after it, and the end."""
        days = int((self.stop - self.start) / _DAY)
        ticks = [self.start + k * _DAY for k in range(days + 1)]
        return [t for t in ticks if t < self.stop] + [self.stop]


def working_seconds(start: datetime, end: datetime) -> float:
    """Seconds of [start, end) that fall on Monday to Friday (UTC); 0 when end <= start."""
    a, b = utc_timestamp(start, name="start"), utc_timestamp(end, name="end")
    total = 0.0
    day = a.floor("D")
    while day < b:
        if day.weekday() < 5:
            total += max(0.0, (min(b, day + _DAY) - max(a, day)).total_seconds())
        day += _DAY
    return total


def _ideal_at(commitment: float, start: pd.Timestamp, end: pd.Timestamp,
              instants: list[pd.Timestamp]) -> list[float]:
    total = working_seconds(start, end) if end > start else 0.0
    values = []
    for at in instants:
        if at >= end:
            values.append(0.0)
        elif total == 0.0 or at <= start:
            values.append(commitment)
        else:
            values.append(commitment * (1.0 - working_seconds(start, at) / total))
    return values


def ideal_line(commitment: float, start: datetime, end: datetime) -> pd.DataFrame:
    """[ts, ideal]: the guideline from `commitment` at `start` to 0 at `end`, for drawing.

    Points at the start, at every midnight (UTC) in between and at the end: the line is
    straight between them, so weekends draw flat.
    """
    a, b = utc_timestamp(start, name="start"), utc_timestamp(end, name="end")
    ticks = [a]
    midnight = a.floor("D") + _DAY
    while midnight < b:
        ticks.append(midnight)
        midnight += _DAY
    if b > a:
        ticks.append(b)
    return pd.DataFrame({"ts": pd.DatetimeIndex(ticks),
                         "ideal": _ideal_at(float(commitment), a, b, ticks)})


def burndown(sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame,
             sprint: str, *, as_of: datetime) -> pd.DataFrame:
    """One row per sprint day: [ts, scope, completed, remaining, ideal] (floats).

    Rows at the start, every 24 hours after it while before the end, and at the end
    (completion, planned end, or `as_of` for an open sprint). A burndown chart draws
    `remaining`, a burnup `scope` and `completed`; `ideal` is the guideline at each row.
    """
    s = _Sprint(sprints, items, events, sprint, utc_timestamp(as_of))
    if s.stop < s.start:
        return pd.DataFrame(columns=BURNDOWN_COLUMNS)
    instants = s.instants()
    scope, completed = [], []
    for at in instants:
        points, done = s.scope(at)
        scope.append(float(points.sum()))
        completed.append(float(points[done].sum()))
    commitment = scope[0]
    frame = pd.DataFrame({
        "ts": pd.DatetimeIndex(instants),
        "scope": scope,
        "completed": completed,
        "remaining": np.subtract(scope, completed),
        "ideal": _ideal_at(commitment, s.start, s.planned_end, instants),
    }, columns=BURNDOWN_COLUMNS)
    return frame.astype({c: float for c in BURNDOWN_COLUMNS[1:]})


def scope_changes(sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame,
                  sprint: str, *, as_of: datetime) -> pd.DataFrame:
    """Every change of the sprint's scope after its start: [ts, item_key, change, points_delta].

    `change` is 'added' (moved in, created in it, or reopened after being done outside
    it; delta = its estimate), 'removed' (moved out before the close; delta = minus its
    estimate) or 're-estimated' (delta = new - old). An unestimated item added counts as
    a change of 0 points: the PO still sees it arrive. Ordered by time, then key.
    """
    s = _Sprint(sprints, items, events, sprint, utc_timestamp(as_of))
    candidates: list[pd.Timestamp] = list(s.items["created"].dropna())
    if not s.events.empty:
        fields = s.events["field"].isin([SPRINT, POINTS, STATUS_CATEGORY])
        candidates += list(s.events.loc[fields, "ts"])
    moments = sorted({pd.Timestamp(t) for t in candidates if s.start < t <= s.stop})
    rows: list[tuple[pd.Timestamp, str, str, float]] = []
    for at in moments:
        before, _ = s.scope(at - _TICK)
        after, _ = s.scope(at)
        was, now = before.notna(), after.notna()
        for key in before.index[~was & now]:
            rows.append((at, str(key), ADDED, float(after[key])))
        for key in before.index[was & ~now]:
            rows.append((at, str(key), REMOVED, -float(before[key])))
        changed = was & now & (before != after)
        for key in before.index[changed]:
            rows.append((at, str(key), RE_ESTIMATED, float(after[key] - before[key])))
    frame = pd.DataFrame(rows, columns=SCOPE_CHANGE_COLUMNS)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame.sort_values(["ts", "item_key"], kind="stable").reset_index(drop=True).astype(
        {"points_delta": float})


def carry_over(sprints: pd.DataFrame, items: pd.DataFrame,
               events: pd.DataFrame) -> pd.DataFrame:
    """Unfinished work each closed sprint handed on: [sprint, next_sprint, items, points].

    For every sprint closed in the store (ordered by start): the items in it at its close
    and not done then, which were in the next sprint (by start) at that sprint's start,
    with their estimates at the close (none = 0). `next_sprint` is None when no later
    sprint exists yet; then `items`/`points` count all unfinished items at the close, the
    work still waiting for a sprint. Items sent back to the backlog are not carry-over.
    Needs no `as_of`: a closed sprint's close is in the past by definition.
    """
    if sprints.empty:
        return pd.DataFrame(columns=CARRY_OVER_COLUMNS).astype({"items": int, "points": float})
    ordered = sprints.loc[sprints["start"].notna()].sort_values("start", kind="stable")
    history = ItemHistory(items, events)
    rows = []
    for position, (_, sprint) in enumerate(ordered.iterrows()):
        if str(sprint["state"]).lower() != CLOSED:
            continue
        sprint_id = as_text(sprint["external_id"])
        close = sprint["completed"] if pd.notna(sprint["completed"]) else sprint["end"]
        if pd.isna(close):
            continue
        close = pd.Timestamp(close)
        state = history.state_at(close).set_index("key")
        in_sprint = (state["exists"] & (state[SPRINT] == sprint_id)) | state.index.isin(
            list(_carried_at(events, sprint_id, close)))
        unfinished = in_sprint & (state[STATUS_CATEGORY] != DONE)
        following = ordered.iloc[position + 1] if position + 1 < len(ordered) else None
        next_id = None if following is None else as_text(following["external_id"])
        if following is not None:
            at_next = history.state_at(max(pd.Timestamp(following["start"]), close))
            unfinished &= (at_next.set_index("key")[SPRINT] == next_id)
        rows.append({
            "sprint": sprint_id,
            "next_sprint": next_id,
            "items": int(unfinished.sum()),
            "points": float(state.loc[unfinished, POINTS].fillna(0.0).sum()),
        })
    frame = pd.DataFrame(rows, columns=CARRY_OVER_COLUMNS)
    return frame.astype({"items": int, "points": float})


def sprint_window(sprints: pd.DataFrame, sprint: str, *, as_of: datetime
                  ) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp, bool]:
    """(start, planned end, end instant, closed) of a sprint as `burndown` uses them."""
    row = sprint_row(sprints, sprint)
    stop, closed = end_instant(row, utc_timestamp(as_of))
    planned = pd.Timestamp(row["end"]) if pd.notna(row["end"]) else stop
    return pd.Timestamp(row["start"]), planned, stop, closed
