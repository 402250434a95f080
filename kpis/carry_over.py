"""Carry-over: the work a sprint left undone when it closed, and where each item went.

* A closed sprint's carry-over is every item in its scope at the close and not done then,
  with its estimate at the close (none = 0): the same items and points as the burndown's
  *remaining* at the close (`kpis.burndown`, whose rules decide what "in scope" means),
  so the carry-over total is always the "remaining" the PO saw when the sprint closed.
  Whether the item then moved on does not decide whether it is carry-over; it is where it
  went.
* Where it went: the item's first sprint change at or after the close (up to `as_of`)
  that takes it out of the closed sprint: into another sprint (`sprint`, with the
  sprint's id in `to_sprint`) or to no sprint (`backlog`). No such change: it `stayed`
  in the closed sprint (a GitHub milestone closed with open issues, or a tracker that
  leaves unfinished work where it was).
* A sprint still open at `as_of` (or closed after it) has no carry-over yet.

A closed sprint's carry-over may come from stored figures (`kpis.sprint_figures`) once
`as_of` has passed the instant its last carried item left (`settled_at`): from then on the
destinations are final.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pandas as pd

from kpis._time import utc_timestamp
from kpis.burndown import SprintScope
from kpis.history import SPRINT, as_text, members_by_sprint
from kpis.velocity import end_instant, stored_for

CARRIED_COLUMNS = ["item_key", "points", "destination", "to_sprint", "moved"]
CARRY_OVER_COLUMNS = ["sprint", "items", "points", "into_sprints", "to_backlog", "stayed"]
INTO_SPRINT, TO_BACKLOG, STAYED = "sprint", "backlog", "stayed"


def _first_moves_out(s: SprintScope, keys: pd.Index, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per key of `keys`, its first move out of the sprint in [close, as_of]: [ts, to]."""
    e = s.events
    if e.empty:
        return pd.DataFrame(columns=["ts", "to"])
    moves = e.loc[(e["field"] == SPRINT) & e["item_key"].isin(keys) & (e["ts"] >= s.stop)
                  & (e["ts"] <= as_of)]
    moves = moves.assign(to=moves["to_value"].map(as_text))
    moves = moves.loc[moves["to"] != s.id].sort_values("ts", kind="stable")
    return moves.drop_duplicates("item_key").set_index("item_key")[["ts", "to"]]


def _carried(s: SprintScope, as_of: pd.Timestamp) -> pd.DataFrame:
    close = s.at(s.stop)
    left = close.in_scope & ~close.done
    keys = s.keys[left]
    moved = _first_moves_out(s, keys, as_of)
    rows = []
    for key, points in zip(keys, close.points[left], strict=True):
        if key in moved.index:
            ts, to = moved.loc[key, "ts"], moved.loc[key, "to"]
            rows.append((str(key), float(points), INTO_SPRINT if to else TO_BACKLOG, to, ts))
        else:
            rows.append((str(key), float(points), STAYED, None, pd.NaT))
    frame = pd.DataFrame(rows, columns=CARRIED_COLUMNS)
    frame["moved"] = pd.to_datetime(frame["moved"], utc=True)
    return frame.astype({"points": float}).sort_values("item_key", kind="stable").reset_index(
        drop=True)


def carried_items(sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame,
                  sprint: str, *, as_of: datetime) -> pd.DataFrame:
    """The carry-over of one sprint, per item: [item_key, points, destination, to_sprint,
    moved] (module docstring), ordered by key; empty while the sprint is open at `as_of`.

    `destination` is 'sprint', 'backlog' or 'stayed'; `to_sprint` the sprint's id for
    'sprint' (else None); `moved` when it left (NaT for 'stayed').
    """
    at = utc_timestamp(as_of)
    s = SprintScope(sprints, items, events, sprint, at)
    if not s.closed:
        return _carried(s, at).iloc[0:0]
    return _carried(s, at)


def closed_carry_overs(sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame,
                       at: pd.Timestamp) -> Iterator[tuple[str, pd.DataFrame]]:
    """(sprint id, `_carried` frame) of every sprint closed by `at`, ordered by start.

    Each sprint is handed only the items ever in it (found for all sprints in one pass),
    which `SprintScope` would keep anyway: the same frames, without a pass over the whole
    backlog per sprint.
    """
    started = sprints.loc[sprints["start"].notna()].sort_values("start", kind="stable")
    members = members_by_sprint(items, events)
    for _, row in started.iterrows():
        sprint_id = as_text(row["external_id"])
        if end_instant(row, at)[1]:
            assert sprint_id is not None
            keys = members.get(sprint_id, set())
            mine = events.loc[events["item_key"].isin(keys)] if not events.empty else events
            scope = SprintScope(sprints, items.loc[items["key"].isin(keys)], mine, sprint_id, at)
            yield sprint_id, _carried(scope, at)


def summary(carried: pd.DataFrame) -> dict[str, float | int]:
    """A sprint's carry-over row (without its id) from its `_carried` frame."""
    by_destination = carried.groupby("destination")["points"].sum()
    return {
        "items": len(carried),
        "points": float(carried["points"].sum()),
        **{column: float(by_destination.get(destination, 0.0)) for column, destination in
           (("into_sprints", INTO_SPRINT), ("to_backlog", TO_BACKLOG), ("stayed", STAYED))},
    }


def carry_over(sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame, *,
               as_of: datetime, stored: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per sprint closed by `as_of` (ordered by start), what it left undone:
    [sprint, items, points, into_sprints, to_backlog, stayed].

    `points` is the sprint's remaining at its close; the last three split it by where the
    items went (points moved into a sprint, to the backlog, or left in the closed sprint),
    so they add up to `points`. `stored`: as `kpis.velocity.sprint_velocity` takes it; a
    stored row stands for a rebuild once `as_of` has reached its `settled_at`.
    """
    at = utc_timestamp(as_of)
    started = sprints.loc[sprints["start"].notna()].sort_values("start", kind="stable")
    kept = stored_for(started, stored, at, settled=True)
    rows = []
    for _, row in started.iterrows():
        sprint_id = as_text(row["external_id"])
        if sprint_id in kept:
            rows.append({"sprint": sprint_id, **{c: kept[sprint_id][STORED[c]] for c in STORED}})
        elif end_instant(row, at)[1]:
            assert sprint_id is not None
            carried = _carried(SprintScope(sprints, items, events, sprint_id, at), at)
            rows.append({"sprint": sprint_id, **summary(carried)})
    frame = pd.DataFrame(rows, columns=CARRY_OVER_COLUMNS)
    return frame.astype({"items": int, **{c: float for c in CARRY_OVER_COLUMNS[2:]}})


# carry-over columns and the stored figures' columns they come from
STORED = {"items": "carry_items", "points": "carry_points", "into_sprints": "into_sprints",
          "to_backlog": "to_backlog", "stayed": "stayed"}
