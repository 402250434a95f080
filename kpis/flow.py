"""Flow metrics: cumulative flow, throughput, work in progress, cycle and lead time, ageing.

They answer "how does work move?", not "how much did the sprint deliver?", so they count
items (points ride along) over calendar days, whatever the sprint. Rules:

* An item's status category at an instant comes from `kpis.history` (events, else its
  current row). Callers pass the items they want counted: usually `kpis.backlog.work_items`,
  so epics are left out.
* **started** = the item's *first* move to in_progress. Without one: its first move out of
  todo (an item that went straight to done has a cycle time of 0); with no status history
  at all: its `created` (cycle time then equals lead time; `from_history` says so).
* **finished** = its *last* move to done (an item reopened after done finishes when it is
  done again); with no such move, `resolved` (see `kpis.history.last_done_at`).
* cycle time = finished - started, lead time = finished - created, in days.
* Days and weeks are UTC; weeks start on Monday. A day's state is the state at its end
  (or at the range's end, for a day that is not over).
* Percentiles use linear interpolation between the sorted values (numpy's default), so
  "p85 = 6.2 days" means 85 % of the items took at most about 6.2 days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np
import pandas as pd

from kpis._time import utc_timestamp
from kpis.history import CATEGORIES, DONE, IN_PROGRESS, STATUS_CATEGORY, TODO, ItemHistory

CFD_COLUMNS = ["day", *CATEGORIES]
THROUGHPUT_COLUMNS = ["week", "items", "points"]
FLOW_TIME_COLUMNS = [
    "key", "type", "points", "created", "started", "finished", "cycle_days", "lead_days",
    "from_history",
]  # fmt: skip
AGEING_COLUMNS = ["key", "title", "type", "status", "points", "started", "age_days"]
PERCENTILES = (50, 85, 95)
_DAY = pd.Timedelta(days=1)
_TICK = pd.Timedelta(1, "ns")


def _range(start: datetime, end: datetime) -> tuple[pd.Timestamp, pd.Timestamp]:
    a, b = utc_timestamp(start, name="start"), utc_timestamp(end, name="end")
    if b <= a:
        raise ValueError(f"end ({b}) must be after start ({a})")
    return a, b


def _days(items: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """Midnights (UTC) of the days in [start, end), from the first day an item existed."""
    created = pd.to_datetime(items["created"], utc=True).dropna()
    first = start.floor("D")
    if len(created):
        first = max(first, created.min().floor("D"))
    last = (end - _TICK).floor("D")
    if first > last:
        return pd.DatetimeIndex([], tz="UTC")
    return pd.date_range(first, last, freq="D")


def cumulative_flow(items: pd.DataFrame, events: pd.DataFrame, *, start: datetime,
                    end: datetime) -> pd.DataFrame:
    """Items per status category at the end of each day: [day, todo, in_progress, done].

    `day` is the day's midnight (UTC). Days before the first item existed are left out, so
    a wide date range does not draw (or compute) years of zeros. Items not yet created
    and items in a non-standard category are not counted. An item done now without any
    status history counts as todo until its `resolved`, then done (its start is unknown).
    WIP per day is `in_progress`.
    """
    a, b = _range(start, end)
    days = _days(items, a, b) if not items.empty else pd.DatetimeIndex([], tz="UTC")
    if items.empty or days.empty:
        return pd.DataFrame(columns=CFD_COLUMNS).astype({c: int for c in CATEGORIES})
    history = ItemHistory(items, events)
    current = items.set_index("key").loc[history.keys]
    created = pd.to_datetime(current["created"], utc=True)
    resolved = pd.to_datetime(current["resolved"], utc=True)
    guessed = (~history.keys.isin(list(_with_status_history(events)))
               & (current[STATUS_CATEGORY] == DONE).to_numpy() & resolved.notna().to_numpy())
    rows = []
    for day in days:
        at = min(day + _DAY - _TICK, b)
        category = history.value_at(STATUS_CATEGORY, at)
        category[guessed & (resolved > at).to_numpy()] = TODO
        exists = (created.isna() | (created <= at)).to_numpy()
        rows.append([int(((category == c) & exists).sum()) for c in CATEGORIES])
    frame = pd.DataFrame(rows, columns=list(CATEGORIES))
    frame.insert(0, "day", days)
    return frame


def wip(items: pd.DataFrame, events: pd.DataFrame, *, as_of: datetime) -> int:
    """Items in progress at `as_of` (created by then)."""
    if items.empty:
        return 0
    state = ItemHistory(items, events).state_at(utc_timestamp(as_of))
    return int((state["exists"] & (state[STATUS_CATEGORY] == IN_PROGRESS)).sum())


def _first_moves(events: pd.DataFrame, keys: Iterable[str]) -> tuple[pd.Series, pd.Series]:
    """(first move to in_progress, first move out of todo) per item key, from the events."""
    if events.empty:
        empty = pd.Series(dtype="datetime64[ns, UTC]")
        return empty, empty
    moves = events.loc[(events["field"] == STATUS_CATEGORY) & events["item_key"].isin(list(keys))
                       & events["ts"].notna()]
    to_progress = moves.loc[moves["to_value"] == IN_PROGRESS].groupby("item_key")["ts"].min()
    out_of_todo = moves.loc[(moves["from_value"] == TODO) & (moves["to_value"] != TODO)]
    return to_progress, out_of_todo.groupby("item_key")["ts"].min()


def _with_status_history(events: pd.DataFrame) -> set[str]:
    if events.empty:
        return set()
    return set(events.loc[events["field"] == STATUS_CATEGORY, "item_key"])


def flow_times(items: pd.DataFrame, events: pd.DataFrame, *, start: datetime,
               end: datetime) -> pd.DataFrame:
    """Cycle and lead time of the items done at `end` that finished in [start, end).

    Columns: key, type, points, created, started, finished (UTC), cycle_days, lead_days
    (floats), from_history (False when the item has no status history and its cycle
    start fell back to `created`). Ordered by finish.
    """
    a, b = _range(start, end)
    if items.empty:
        return pd.DataFrame(columns=FLOW_TIME_COLUMNS)
    history = ItemHistory(items, events)
    state = history.state_at(b).set_index("key")
    finished = history.last_done_at(b)
    done = (state[STATUS_CATEGORY] == DONE) & (finished >= a) & (finished < b)
    keys = state.index[done]
    if keys.empty:
        return pd.DataFrame(columns=FLOW_TIME_COLUMNS)
    rows = items.set_index("key").loc[keys]
    to_progress, out_of_todo = _first_moves(events, keys)
    created = pd.to_datetime(rows["created"], utc=True)
    end_at = finished[keys]
    started = to_progress.reindex(keys)
    started = started.where(started <= end_at, pd.NaT)
    fallback = out_of_todo.reindex(keys)
    started = started.fillna(fallback.where(fallback <= end_at, pd.NaT))
    known = pd.Series(keys.isin(list(_with_status_history(events))), index=keys)
    started = started.fillna(created)
    frame = pd.DataFrame({
        "key": keys,
        "type": rows["type"].to_numpy(),
        "points": pd.to_numeric(rows["points"], errors="coerce").to_numpy(dtype=float),
        "created": created.to_numpy(),
        "started": pd.to_datetime(started, utc=True).to_numpy(),
        "finished": end_at.to_numpy(),
        "from_history": known.to_numpy(),
    })
    for column in ("created", "started", "finished"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["cycle_days"] = ((frame["finished"] - frame["started"]) / _DAY).clip(lower=0.0)
    frame["lead_days"] = ((frame["finished"] - frame["created"]) / _DAY).clip(lower=0.0)
    frame = frame.sort_values(["finished", "key"], kind="stable").reset_index(drop=True)
    return frame[FLOW_TIME_COLUMNS]


def started_from_created(times: pd.DataFrame) -> int:
    """How many of `flow_times`' items had no status history, so that their cycle time
    counts from their creation (a caveat the cycle-time chart states)."""
    if times.empty:
        return 0
    return int((~times["from_history"].astype(bool)).sum())


def percentiles(values: pd.Series, levels: Iterable[int] = PERCENTILES
                ) -> dict[int, float | None]:
    """{level: value} of the non-missing values (linear interpolation); None when empty."""
    clean = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    levels = list(levels)
    if clean.size == 0:
        return dict.fromkeys(levels)
    return {level: float(np.percentile(clean, level)) for level in levels}


def throughput(items: pd.DataFrame, events: pd.DataFrame, *, start: datetime,
               end: datetime) -> pd.DataFrame:
    """Items (and their current points) finished per week: [week, items, points].

    Counts the items of `flow_times` (done at `end`, each once, in the week of its last
    move to done). `week` is the Monday (UTC) starting it; every week of the range is
    listed, zero-filled.
    """
    a, b = _range(start, end)
    first, last = a.floor("D"), (b - _TICK).floor("D")
    weeks = pd.date_range(first - first.weekday() * _DAY, last - last.weekday() * _DAY,
                          freq="7D")
    times = flow_times(items, events, start=a, end=b)
    if times.empty:
        counts = pd.DataFrame({"items": 0, "points": 0.0}, index=weeks)
    else:
        day = times["finished"].dt.floor("D")
        week = day - pd.to_timedelta(day.dt.weekday, unit="D")
        grouped = times.assign(week=week, points=times["points"].fillna(0.0)).groupby("week")
        counts = grouped.agg(items=("key", "size"), points=("points", "sum")).reindex(
            weeks, fill_value=0)
    frame = counts.rename_axis("week").reset_index()
    return frame.astype({"items": int, "points": float})[THROUGHPUT_COLUMNS]


def wip_ageing(items: pd.DataFrame, events: pd.DataFrame, *, as_of: datetime) -> pd.DataFrame:
    """Items in progress at `as_of` and how long since each first moved to in progress.

    Columns: key, title, type, status (current), points, started, age_days; oldest first.
    With no recorded move to in progress the age counts from `created`.
    """
    at = utc_timestamp(as_of)
    if items.empty:
        return pd.DataFrame(columns=AGEING_COLUMNS)
    state = ItemHistory(items, events).state_at(at).set_index("key")
    keys = state.index[state["exists"] & (state[STATUS_CATEGORY] == IN_PROGRESS)]
    rows = items.set_index("key").loc[keys]
    to_progress, _ = _first_moves(events, keys)
    started = to_progress.reindex(keys)
    started = started.where(started <= at, pd.NaT).fillna(
        pd.to_datetime(rows["created"], utc=True))
    frame = pd.DataFrame({
        "key": keys,
        "title": rows["title"].to_numpy(),
        "type": rows["type"].to_numpy(),
        "status": rows["status"].to_numpy(),
        "points": pd.to_numeric(rows["points"], errors="coerce").to_numpy(dtype=float),
        "started": pd.to_datetime(started, utc=True).to_numpy(),
    })
    frame["started"] = pd.to_datetime(frame["started"], utc=True)
    frame["age_days"] = ((at - frame["started"]) / _DAY).astype(float)
    frame = frame.sort_values(["age_days", "key"], ascending=[False, True], kind="stable")
    return frame.reset_index(drop=True)[AGEING_COLUMNS]
