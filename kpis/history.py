"""Rebuild backlog items' fields at any past instant from their change events.

Velocity, burndown and cumulative flow all ask "what did the board look like at t?", but
the store keeps only each item's *current* row plus a log of changes (`item_event`). The
rule used everywhere:

* value at t = `to_value` of the item's last event at or before t;
* with no event at or before t, the `from_value` of its first event after t (the value it
  had before the history we know of changed it);
* with no events for that field at all, the current value, except for the status
  category (below);
* an item did not exist before its `created` instant (`exists` is False; its field values
  are still filled in so callers can decide what to do with them).

An item with no `status_category` event at all (a CSV export without a history file, or a
tracker that gives history for only some items) has its category derived from its row, so
that an item done today is not counted as done since before it was created:

* current category `done` and `resolved` set: `todo` before `resolved`, `done` from
  `resolved` on;
* current category `done` and no `resolved`: `done` at every instant (nothing says when it
  was finished, so it is treated as done as long as we know it);
* any other current category (`todo`, `in_progress`, a non-standard one): that category at
  every instant (when an in-progress item was started is unknown; there is nothing better).

Items with at least one `status_category` event follow the general rule above. Sprint and
points have no such derivation: with no events, the current value at every instant.

Events at the same instant are applied in the order they appear in the frame (stable
sort), so a source that logs two changes in one second keeps its order.

The field names and the `done` category are spelled here rather than imported from
`store.records`, because `kpis/` never imports the store; a test checks they agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from kpis._time import utc_timestamp

STATUS = "status"
STATUS_CATEGORY = "status_category"
POINTS = "points"
SPRINT = "sprint"

TODO = "todo"
IN_PROGRESS = "in_progress"
DONE = "done"
CATEGORIES = (TODO, IN_PROGRESS, DONE)

STATE_COLUMNS = ["key", SPRINT, POINTS, STATUS_CATEGORY, "exists"]


def as_text(value: object) -> str | None:
    """Event values are text and item values may be NaN: give both one spelling.

    A sprint id read back as a float (`12.0`, because the column held NaN) is turned into
    `"12"` so it still matches the `"12"` written in events.
    """
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    if value is pd.NaT or value is pd.NA:
        return None
    text = str(value)
    return text or None


def _indexed(items: pd.DataFrame) -> pd.DataFrame:
    if items["key"].duplicated().any():
        dupes = sorted(items.loc[items["key"].duplicated(), "key"].astype(str).unique())
        raise ValueError(f"item keys must be unique; repeated: {', '.join(dupes[:5])}")
    return items.set_index("key")


def _naive_utc(values: pd.Series) -> np.ndarray:
    """Aware datetimes as naive-UTC datetime64 (NaT kept), for fast numpy comparisons."""
    return pd.to_datetime(values, utc=True).dt.tz_convert(None).to_numpy()


def _last_per_item(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique item positions and the index of each one's last row (rows in time order)."""
    unique, first_from_end = np.unique(positions[::-1], return_index=True)
    return unique, len(positions) - 1 - first_from_end


@dataclass(frozen=True)
class _Changes:
    """One field's events as arrays, in time order (stable): item position, ts, from, to."""

    pos: np.ndarray
    ts: np.ndarray
    from_value: np.ndarray
    to_value: np.ndarray


class ItemHistory:
    """Items and their events prepared once, so that many instants can be asked cheaply.

    Velocity asks two or three instants per sprint; preparing the arrays once keeps a
    velocity chart of a year of sprints within a callback's budget.
    """

    def __init__(self, items: pd.DataFrame, events: pd.DataFrame) -> None:
        indexed = _indexed(items)
        self.keys: pd.Index = indexed.index
        self._current = {
            field: indexed[field].astype(object).to_numpy()
            for field in (SPRINT, POINTS, STATUS_CATEGORY)
        }
        self._created = _naive_utc(indexed["created"])
        self._resolved = _naive_utc(indexed["resolved"])
        self._changes: dict[str, _Changes] = {}
        if not events.empty:
            self._read_changes(events)
        self._todo_until = self._derived_todo_until()

    def _read_changes(self, events: pd.DataFrame) -> None:
        known = events.loc[events["item_key"].isin(self.keys) & events["ts"].notna()]
        known = known.sort_values("ts", kind="stable")
        for field, group in known.groupby("field", sort=False):
            self._changes[str(field)] = _Changes(
                pos=self.keys.get_indexer(group["item_key"]),
                ts=_naive_utc(group["ts"]),
                from_value=group["from_value"].to_numpy(dtype=object),
                to_value=group["to_value"].to_numpy(dtype=object),
            )

    def _derived_todo_until(self) -> np.ndarray:
        """Per item, the instant before which its derived category is `todo` (else NaT).

        Set only for items with no status-category event that are done now and resolved
        (see the module docstring); NaT leaves the current category in place.
        """
        current = np.array([as_text(v) for v in self._current[STATUS_CATEGORY]], dtype=object)
        derived = (current == DONE) & ~np.isnat(self._resolved)
        changes = self._changes.get(STATUS_CATEGORY)
        if changes is not None:
            derived[changes.pos] = False
        return np.where(derived, self._resolved, np.datetime64("NaT"))

    def value_at(self, field: str, at: datetime) -> np.ndarray:
        """Raw value (object array, in item order) of `field` for every item at `at`.

        The status category of an item without status history is derived from its row
        (module docstring).
        """
        at64 = utc_timestamp(at, name="at").tz_convert(None).to_datetime64()
        value = self._current[field].copy()
        if field == STATUS_CATEGORY:
            value[self._todo_until > at64] = TODO
        changes = self._changes.get(field)
        if changes is None:
            return value
        after = changes.ts > at64
        first_pos, first_row = np.unique(changes.pos[after], return_index=True)
        value[first_pos] = changes.from_value[after][first_row]
        before = ~after
        last_pos, last_row = _last_per_item(changes.pos[before])
        value[last_pos] = changes.to_value[before][last_row]
        return value

    def state_at(self, at: datetime) -> pd.DataFrame:
        """See `state_at`."""
        at64 = utc_timestamp(at, name="at").tz_convert(None).to_datetime64()
        points = pd.to_numeric(pd.Series(self.value_at(POINTS, at)), errors="coerce")
        frame = pd.DataFrame(
            {
                "key": self.keys.to_numpy(),
                SPRINT: [as_text(v) for v in self.value_at(SPRINT, at)],
                POINTS: points.astype(float).to_numpy(),
                STATUS_CATEGORY: [as_text(v) for v in self.value_at(STATUS_CATEGORY, at)],
                "exists": np.isnat(self._created) | (self._created <= at64),
            },
            columns=STATE_COLUMNS,
        )
        return frame.astype({SPRINT: object, STATUS_CATEGORY: object})

    def last_done_at(self, at: datetime) -> pd.Series:
        """See `last_done_at`."""
        at64 = utc_timestamp(at, name="at").tz_convert(None).to_datetime64()
        when = np.where(self._resolved <= at64, self._resolved, self._created)
        changes = self._changes.get(STATUS_CATEGORY)
        if changes is not None:
            done = (changes.to_value == DONE) & (changes.ts <= at64)
            last_pos, last_row = _last_per_item(changes.pos[done])
            when[last_pos] = changes.ts[done][last_row]
        return pd.Series(pd.to_datetime(when, utc=True), index=self.keys)


def state_at(items: pd.DataFrame, events: pd.DataFrame, at: datetime) -> pd.DataFrame:
    """Snapshot of every item at `at`: columns [key, sprint, points, status_category, exists].

    `sprint` and `status_category` are text or None, `points` is float (NaN = no estimate),
    `exists` is False for items created after `at`. Rows follow the order of `items`.
    """
    return ItemHistory(items, events).state_at(at)


def last_done_at(items: pd.DataFrame, events: pd.DataFrame, at: datetime) -> pd.Series:
    """When each item last moved into `done` at or before `at` (Series of Timestamps by key).

    Meaningful only for items that are done at `at`. When no such move is recorded (the item
    was done before its known history, or the source keeps no history), `resolved` is used if
    it is at or before `at`, else `created`: the item has been done as long as we know it.
    For an item without status history this matches its derived category: done from
    `resolved` on, or since `created` when it has no `resolved`.
    """
    return ItemHistory(items, events).last_done_at(at)


def ever_in(items: pd.DataFrame, events: pd.DataFrame, sprint_ids: set[str]) -> set[str]:
    """Keys of the items in one of `sprint_ids` now, or moved into or out of one at any time.

    Only these can ever be in those sprints' scope (an item's sprint at any instant is its
    current one or a value one of its sprint events names), so a sprint's figures rebuilt
    from these items alone are those rebuilt from the whole backlog, at a fraction of the
    cost.
    """
    if not sprint_ids:
        return set()
    keys = set(items.loc[items[SPRINT].map(as_text).isin(sprint_ids), "key"])
    if not events.empty:
        moves = events.loc[events["field"] == SPRINT]
        touched = moves["from_value"].map(as_text).isin(sprint_ids) | moves["to_value"].map(
            as_text).isin(sprint_ids)
        keys |= set(moves.loc[touched, "item_key"])
    return keys


def members_by_sprint(items: pd.DataFrame, events: pd.DataFrame) -> dict[str, set[str]]:
    """`ever_in` of every sprint at once (sprint id -> item keys), in one pass over the
    items and events instead of one per sprint."""
    members: dict[str, set[str]] = {}
    for key, sprint in zip(items["key"], items[SPRINT].map(as_text), strict=True):
        if sprint is not None:
            members.setdefault(sprint, set()).add(key)
    if not events.empty:
        moves = events.loc[events["field"] == SPRINT]
        for key, old, new in zip(moves["item_key"], moves["from_value"].map(as_text),
                                 moves["to_value"].map(as_text), strict=True):
            for sprint in (old, new):
                if sprint is not None:
                    members.setdefault(sprint, set()).add(key)
    return members
