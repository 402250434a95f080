"""Sprint burndown and burnup as Jira draws them: a step at the exact instant of each event.

A burndown is only honest if it shows *when* and *why* the line moved. Sampling once a day
shows every change up to a day late and loses an item done at 10:00 and reopened at 16:00.
So the burndown here is the list of events, each with what it did to the work remaining,
rebuilt with `kpis.history.ItemHistory` and counted with the rules of `kpis.velocity`, so
the sprint page's charts and tiles agree:

* **scope** at an instant: the estimates (at that instant; none = 0) of the items in the
  sprint then. Items done before the sprint started and still done ("completed outside
  this sprint") are left out, as velocity leaves them out of commitment and completed.
* **completed**: the part of scope that is done at that instant; **remaining** = scope -
  completed. So scope at the start equals velocity's *commitment*, and completed at the
  end equals velocity's *completed*.
* The end is the instant the sprint was completed (planned end without a recorded
  completion); for a sprint still open at `as_of`, `as_of`. Items the tracker moves to the
  next sprint *at* that instant are the close itself: they still count at the end.

Events (one row per item and change; `change` is what it did to `remaining`):

* **start**: the commitment (change = the remaining at the start, so the `change` column
  sums to `remaining` on every row); **end** (closed) or **now** (open): change 0.
* **added**: the item joined the scope (moved in, or created in the sprint): + its
  estimate (0 if it arrived done). **removed**: it left before the close: - its estimate
  (0 if it left done).
* **re-estimated**: its estimate changed: + new - old (0 for a done item: the scope
  moves, the work left does not).
* **done**: it moved to the done category: - its estimate. **reopened**: it left done: +
  its estimate, whether it was done during the sprint or before its start (then it also
  joins the scope, as in Jira).

Added, removed, re-estimated and reopened are the **scope changes** (`scope_changes`), as
Jira's burndown report lists them. Several changes of one item at one instant are listed
in that order: added or reopened, re-estimated, done or reopened, removed.

The **ideal** line falls from the commitment at the start to 0 at the *planned* end,
over working time only (Monday to Friday, in UTC): it is flat over weekends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from kpis._time import utc_timestamp
from kpis.history import DONE, POINTS, SPRINT, STATUS_CATEGORY, ItemHistory, as_text, ever_in
from kpis.velocity import end_instant

BURNDOWN_COLUMNS = ["ts", "item_key", "event", "change", "remaining", "scope", "completed"]
SCOPE_CHANGE_COLUMNS = ["ts", "item_key", "change", "points_delta"]
START, END, NOW = "start", "end", "now"
ADDED, REMOVED, RE_ESTIMATED, DONE_EVENT, REOPENED = (
    "added", "removed", "re-estimated", "done", "reopened")
SCOPE_EVENTS = (ADDED, REMOVED, RE_ESTIMATED, REOPENED)
_DAY = pd.Timedelta(days=1)


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


@dataclass(frozen=True)
class Snapshot:
    """The sprint's items at one instant (arrays in `SprintScope.keys` order)."""

    points: np.ndarray  # float estimate, 0 without one
    member: np.ndarray  # in the sprint (and existing), done or not
    in_scope: np.ndarray  # member, and not done since before the sprint's start
    done: np.ndarray  # in the done category

    def remaining(self) -> np.ndarray:
        return np.where(self.in_scope & ~self.done, self.points, 0.0)

    def scope(self) -> np.ndarray:
        return np.where(self.in_scope, self.points, 0.0)


class SprintScope:
    """One sprint's items at any instant, with the rules of the module docstring."""

    def __init__(self, sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame,
                 sprint: str, as_of: pd.Timestamp) -> None:
        row = sprint_row(sprints, sprint)
        self.id = as_text(row["external_id"])
        self.start = pd.Timestamp(row["start"])
        self.stop, self.closed = end_instant(row, as_of)
        self.planned_end = pd.Timestamp(row["end"]) if pd.notna(row["end"]) else self.stop
        keys = ever_in(items, events, {self.id} if self.id else set())
        self.items = items.loc[items["key"].isin(keys)]
        self.events = events.loc[events["item_key"].isin(keys)] if not events.empty else events
        self.history = ItemHistory(self.items, self.events)
        self.keys: pd.Index = self.history.keys
        created = self.items.set_index("key").loc[self.keys, "created"]
        self.created = pd.to_datetime(created, utc=True).dt.tz_convert(None).to_numpy()
        self.carried = _carried_at(events, self.id, self.stop) if self.closed else set()

    def at(self, at: pd.Timestamp) -> Snapshot:
        """The items at `at`. Plain numpy over `ItemHistory.value_at`: a burndown asks this
        once per event."""
        h = self.history
        sprint = np.array([as_text(v) for v in h.value_at(SPRINT, at)], dtype=object)
        category = np.array([as_text(v) for v in h.value_at(STATUS_CATEGORY, at)], dtype=object)
        points = pd.to_numeric(pd.Series(h.value_at(POINTS, at), dtype=object),
                               errors="coerce").fillna(0.0).to_numpy(dtype=float)
        at64 = at.tz_convert(None).to_datetime64()
        member = (np.isnat(self.created) | (self.created <= at64)) & (sprint == self.id)
        if at == self.stop and self.carried:
            member |= self.keys.isin(list(self.carried))
        done = category == DONE
        done_before = np.zeros(len(done), dtype=bool)
        if done.any():
            done_before[done] = h.last_done_at(at).to_numpy()[done] <= self.start
        return Snapshot(points, member, member & ~done_before, done)

    def moments(self) -> list[pd.Timestamp]:
        """Every instant in (start, stop] at which an item's scope, estimate or category may
        change: its events, its creation and its `resolved` (a category derived from the
        row changes there, `kpis.history`). Between two of them nothing moves."""
        candidates = [*self.items["created"].dropna(), *self.items["resolved"].dropna()]
        if not self.events.empty:
            watched = self.events["field"].isin([SPRINT, POINTS, STATUS_CATEGORY])
            candidates += list(self.events.loc[watched, "ts"])
        return sorted({pd.Timestamp(t) for t in candidates if self.start < t <= self.stop})


Step = tuple[str, float, float]  # (event, change of remaining, change of scope)


def _steps(before: Snapshot, after: Snapshot, i: int) -> list[Step]:
    """What happened to item `i` between two snapshots, in the docstring's order."""
    was, now = bool(before.in_scope[i]), bool(after.in_scope[i])
    old, new = float(before.points[i]), float(after.points[i])
    done_before, done_after = bool(before.done[i]), bool(after.done[i])
    if not was and not now:
        return []
    if not was:  # joined: moved in or created, or reopened after being done before the start
        event = REOPENED if before.member[i] else ADDED
        return [(event, 0.0 if done_after else new, new)]
    if not now:
        return [(REMOVED, 0.0 if done_before else 0.0 - old, 0.0 - old)]
    steps: list[Step] = []
    if new != old:
        steps.append((RE_ESTIMATED, 0.0 if done_before else new - old, new - old))
    if done_after and not done_before:
        steps.append((DONE_EVENT, 0.0 - new, 0.0))  # 0.0 - 0.0 is no -0.0
    elif done_before and not done_after:
        steps.append((REOPENED, new, 0.0))
    return steps


Row = tuple[pd.Timestamp, str | None, str, float, float]  # ts, key, event, Δremaining, Δscope


def _event_rows(s: SprintScope) -> list[Row]:
    """The start, every change after it in time order (then by key), and the end."""
    first = s.at(s.start)
    rows: list[Row] = [(s.start, None, START, float(first.remaining().sum()),
                        float(first.scope().sum()))]
    previous, by_key = first, np.argsort(s.keys.to_numpy(dtype=str), kind="stable")
    for at in s.moments():
        current = s.at(at)
        for i in by_key:
            rows += [(at, str(s.keys[i]), event, d_remaining, d_scope)
                     for event, d_remaining, d_scope in _steps(previous, current, int(i))]
        previous = current
    rows.append((s.stop, None, END if s.closed else NOW, 0.0, 0.0))
    return rows


def _sprint(sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame, sprint: str,
            as_of: datetime) -> SprintScope:
    return SprintScope(sprints, items, events, sprint, utc_timestamp(as_of))


def burndown(sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame,
             sprint: str, *, as_of: datetime) -> pd.DataFrame:
    """The sprint's events: [ts, item_key, event, change, remaining, scope, completed].

    One row per event (module docstring), in time order; `remaining`, `scope` and
    `completed` are the figures *after* the row, so a step chart through (ts, remaining)
    is Jira's burndown and (ts, scope), (ts, completed) its burnup. `item_key` is None on
    the start and end rows. Empty when the sprint ends before it starts.
    """
    s = _sprint(sprints, items, events, sprint, as_of)
    if s.stop < s.start:
        return _empty_burndown()
    rows = _event_rows(s)
    frame = pd.DataFrame([r[:4] for r in rows], columns=BURNDOWN_COLUMNS[:4])
    frame["remaining"] = np.cumsum([r[3] for r in rows])
    frame["scope"] = np.cumsum([r[4] for r in rows])
    frame["completed"] = frame["scope"] - frame["remaining"]
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame.astype({c: float for c in BURNDOWN_COLUMNS[3:]})


def _empty_burndown() -> pd.DataFrame:
    frame = pd.DataFrame(columns=BURNDOWN_COLUMNS)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame.astype({c: float for c in BURNDOWN_COLUMNS[3:]})


def scope_changes(sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame,
                  sprint: str, *, as_of: datetime) -> pd.DataFrame:
    """The scope changes after the start: [ts, item_key, change, points_delta].

    `change` is 'added', 'removed', 're-estimated' or 'reopened'; `points_delta` is the
    change of scope (added: + the estimate, removed: - it, re-estimated: new - old), and
    for 'reopened' the work it puts back (+ the estimate). An unestimated item added counts
    0 points: the PO still sees it arrive. Ordered by time, then key.
    """
    s = _sprint(sprints, items, events, sprint, as_of)
    rows = [] if s.stop < s.start else [
        (ts, key, event, d_remaining if event == REOPENED else d_scope)
        for ts, key, event, d_remaining, d_scope in _event_rows(s) if event in SCOPE_EVENTS]
    frame = pd.DataFrame(rows, columns=SCOPE_CHANGE_COLUMNS)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame.astype({"points_delta": float})


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
