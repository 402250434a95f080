"""Sprint velocity, as Jira's velocity chart and sprint report count it.

* **commitment**: the estimates, *at the sprint's start*, of the items in the sprint at its
  start. Items added later and re-estimates made later do not change it; items already done
  at the start are left out (there is nothing left to commit to).
* **completed**: the estimates, *at the sprint's end*, of the items in the sprint and done
  at that instant, items added mid-sprint included. The end is the instant the sprint was
  completed (its planned end if no completion is recorded); for an active sprint it is
  `as_of`, so the figure is "completed so far".
* Like Jira, an item only counts as completed *in* this sprint if it last moved to done
  after the sprint started. An item done before the start and never reopened ("completed
  outside this sprint") adds nothing; one reopened and done again during the sprint counts.
* Items without an estimate count 0.
* When a sprint is completed, Jira moves its unfinished items to the next sprint *at the
  completion instant*. Such a move is the close itself, not scope change: these items
  still belong to the closing sprint's end snapshot and are not counted as removed. What
  is not done then is the sprint's carry-over (`kpis.carry_over`), wherever it went next.

A closed sprint's figures never change once it is closed, unless its items' history does, so
they may come from `stored` (`kpis.sprint_figures`: computed after a collection) instead of
being rebuilt on every view; sprints without a usable stored row are rebuilt, each from the
items that were ever in it (`kpis.history.ever_in`), which gives the same figures.

`added_mid_sprint` counts items that were in the sprint at some moment after its start but
not at its start (created in it, or moved in); `removed_mid_sprint` counts items that were in
the sprint at its start or joined it later and are no longer in it at its end. An item
added and removed again counts in both.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from kpis._time import utc_timestamp
from kpis.history import DONE, SPRINT, ItemHistory, as_text, ever_in

ACTIVE = "active"
CLOSED = "closed"

VELOCITY_COLUMNS = [
    "external_id",
    "name",
    "state",
    "start",
    "end",
    "commitment",
    "completed",
    "added_mid_sprint",
    "removed_mid_sprint",
]
FIGURES = ["commitment", "completed", "added_mid_sprint", "removed_mid_sprint"]


def _end_instant(sprint: pd.Series, as_of: pd.Timestamp) -> tuple[pd.Timestamp, bool]:
    """The instant the sprint's "end" snapshot is taken, and whether it is closed by then.

    The store's `state` is today's; a sprint closed after `as_of` was still active at
    `as_of`, so a replay of the past sees it as active.
    """
    if str(sprint["state"]).lower() != CLOSED:
        return as_of, False
    close = sprint["completed"] if pd.notna(sprint["completed"]) else sprint["end"]
    if pd.isna(close) or close > as_of:
        return as_of, False
    return pd.Timestamp(close), True


def end_instant(sprint: pd.Series, as_of: datetime) -> tuple[pd.Timestamp, bool]:
    """The instant a sprint's "end" snapshot is taken as of `as_of`, and whether it is closed.

    Public so the burndown ends exactly where velocity's "completed" is counted.
    """
    return _end_instant(sprint, utc_timestamp(as_of))


def _sprint_moves(events: pd.DataFrame, keys: pd.Index) -> pd.DataFrame:
    """Sprint changes of known items, once for all sprints: [item_key, ts, from_id, to_id]."""
    columns = ["item_key", "ts", "from_id", "to_id"]
    if events.empty:
        return pd.DataFrame(columns=columns)
    moves = events.loc[(events["field"] == SPRINT) & events["item_key"].isin(keys)]
    return pd.DataFrame(
        {
            "item_key": moves["item_key"],
            "ts": moves["ts"],
            "from_id": moves["from_value"].map(as_text),
            "to_id": moves["to_value"].map(as_text),
        },
        columns=columns,
    )


def _one_sprint(
    sprint: pd.Series, history: ItemHistory, all_moves: pd.DataFrame, as_of: pd.Timestamp
) -> dict[str, object]:
    sprint_id = as_text(sprint["external_id"])
    start = pd.Timestamp(sprint["start"])
    end_at, closed = _end_instant(sprint, as_of)

    at_start = history.state_at(start).set_index("key")
    at_end = history.state_at(end_at).set_index("key")

    in_at_start = at_start["exists"] & (at_start[SPRINT] == sprint_id)
    committed = in_at_start & (at_start["status_category"] != DONE)
    commitment = float(at_start.loc[committed, "points"].fillna(0.0).sum())

    moves = all_moves.loc[(all_moves["ts"] > start) & (all_moves["ts"] <= end_at)]
    from_here = moves["from_id"] == sprint_id
    to_here = moves["to_id"] == sprint_id

    in_at_end = at_end["exists"] & (at_end[SPRINT] == sprint_id)
    if closed:
        carried = moves.loc[from_here & (moves["ts"] == end_at), "item_key"]
        in_at_end = in_at_end | at_end.index.isin(carried)

    done_at_end = at_end["status_category"] == DONE
    done_in_sprint = history.last_done_at(end_at) > start
    counted = in_at_end & done_at_end & done_in_sprint
    completed = float(at_end.loc[counted, "points"].fillna(0.0).sum())

    touched = moves.loc[from_here | to_here, "item_key"]
    during = in_at_end | at_end.index.isin(touched)
    added = during & ~in_at_start
    removed = (in_at_start | added) & ~in_at_end

    return {
        "external_id": sprint["external_id"],
        "name": sprint["name"],
        "state": CLOSED if closed else ACTIVE,
        "start": start,
        "end": sprint["end"],
        "commitment": commitment,
        "completed": completed,
        "added_mid_sprint": int(added.sum()),
        "removed_mid_sprint": int(removed.sum()),
    }


def sprint_velocity(
    sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame, *, as_of: datetime,
    stored: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Commitment and completed points of every sprint started by `as_of`, ordered by start.

    Columns: external_id, name, state ('active' or 'closed' *as of* `as_of`), start, end
    (planned), commitment, completed (floats), added_mid_sprint, removed_mid_sprint (ints).
    Future sprints, and sprints whose start lies after `as_of`, are left out.

    `stored`: figures kept for closed sprints (`kpis.sprint_figures.STORED_COLUMNS`); a
    sprint closed by `as_of` takes its stored row when that row was computed for the
    sprint's present start and close (`stored_for`), the others are rebuilt.
    """
    as_of = utc_timestamp(as_of)
    if sprints.empty:
        return pd.DataFrame(columns=VELOCITY_COLUMNS)
    state = sprints["state"].astype(str).str.lower()
    started = sprints.loc[
        state.isin([ACTIVE, CLOSED]) & sprints["start"].notna() & (sprints["start"] <= as_of)
    ].sort_values("start", kind="stable")
    kept = stored_for(started, stored, as_of)
    rebuilt = started.loc[~started["external_id"].map(as_text).isin(set(kept))]
    ids = {i for i in rebuilt["external_id"].map(as_text) if i is not None}
    keys = ever_in(items, events, ids)
    mine = events.loc[events["item_key"].isin(keys)] if not events.empty else events
    history = ItemHistory(items.loc[items["key"].isin(keys)], mine)
    moves = _sprint_moves(mine, history.keys)
    rows = [_kept(sprint, kept[sprint_id]) if sprint_id in kept
            else _one_sprint(sprint, history, moves, as_of)
            for sprint_id, (_, sprint) in zip(started["external_id"].map(as_text),
                                             started.iterrows(), strict=True)]
    frame = pd.DataFrame(rows, columns=VELOCITY_COLUMNS)
    return frame.astype(
        {
            "commitment": float,
            "completed": float,
            "added_mid_sprint": int,
            "removed_mid_sprint": int,
        }
    )


def stored_for(started: pd.DataFrame, stored: pd.DataFrame | None, as_of: pd.Timestamp,
               settled: bool = False) -> dict[str | None, pd.Series]:
    """The stored rows that stand for a live rebuild as of `as_of`, by sprint id.

    A row counts for a sprint closed by `as_of` whose start and close are those the row was
    computed for (a sprint re-planned or reopened since is rebuilt). With `settled`, also
    only once `as_of` has reached the row's `settled_at` (where the carry-over's last item
    left the sprint: before that, its destinations were not all known yet).
    """
    if stored is None or stored.empty:
        return {}
    by_id = {as_text(row["external_id"]): row for _, row in stored.iterrows()}
    kept = {}
    for _, sprint in started.iterrows():
        sprint_id = as_text(sprint["external_id"])
        row = by_id.get(sprint_id)
        if row is None:
            continue
        close, closed = _end_instant(sprint, as_of)
        if (closed and row["closed_at"] == close and row["start"] == sprint["start"]
                and (not settled or row["settled_at"] <= as_of)):
            kept[sprint_id] = row
    return kept


def rebuilt_sprints(sprints: pd.DataFrame, stored: pd.DataFrame | None, as_of: datetime
                    ) -> set[str]:
    """Ids of the sprints `sprint_velocity` or `kpis.carry_over.carry_over` may rebuild as
    of `as_of` with `stored` (every started sprint without a settled stored row): only the
    history of the items ever in these is needed, so a page can read just that."""
    started = sprints.loc[sprints["start"].notna()]
    kept = stored_for(started, stored, utc_timestamp(as_of), settled=True)
    ids = {as_text(i) for i in started["external_id"]}
    return {i for i in ids if i is not None and i not in kept}


def _kept(sprint: pd.Series, row: pd.Series) -> dict[str, object]:
    """A velocity row from stored figures: as `_one_sprint` would rebuild it."""
    return {
        "external_id": sprint["external_id"],
        "name": sprint["name"],
        "state": CLOSED,
        "start": pd.Timestamp(sprint["start"]),
        "end": sprint["end"],
        **{column: row[column] for column in FIGURES},
    }


def average_velocity(velocity: pd.DataFrame, last_n: int = 3) -> float | None:
    """Mean `completed` of the last `last_n` closed sprints (by start); None if none closed.

    Active sprints are left out: their "completed so far" would drag the average down.
    """
    if last_n < 1:
        raise ValueError(f"last_n must be at least 1, got {last_n}")
    closed = velocity.loc[velocity["state"] == CLOSED].sort_values("start", kind="stable")
    if closed.empty:
        return None
    return float(closed["completed"].tail(last_n).mean())


FORECAST_PERCENTILES = (10.0, 50.0, 90.0)


def velocity_forecast(
    velocity: pd.DataFrame, last_n: int = 6
) -> tuple[float, float, float] | None:
    """(low, likely, high) points the team may complete next sprint; None if none closed.

    The 10th, 50th and 90th percentiles (linear interpolation, numpy's default) of
    `completed` over the last `last_n` closed sprints. Percentiles, not mean +- standard
    deviation: a handful of sprints is no normal distribution, and the band then never
    leaves the range the team has actually delivered (with 1 or 2 sprints it is close
    to min and max). The median as "likely" ignores one odd sprint, which the mean would
    not. Active sprints are left out, as in `average_velocity`.
    """
    if last_n < 1:
        raise ValueError(f"last_n must be at least 1, got {last_n}")
    closed = velocity.loc[velocity["state"] == CLOSED].sort_values("start", kind="stable")
    if closed.empty:
        return None
    done = closed["completed"].tail(last_n).to_numpy(dtype=float)
    low, likely, high = np.percentile(done, FORECAST_PERCENTILES)
    return float(low), float(likely), float(high)


def rolling_velocity(velocity: pd.DataFrame, window: int = 3) -> pd.DataFrame:
    """`velocity` with a `rolling_average` column: mean completed of the last `window` closed.

    For each closed sprint, the mean of its `completed` and that of the closed sprints
    before it, up to `window` in all (fewer at the start of the history), so the last
    closed sprint's value equals `average_velocity(velocity, window)`. Active sprints get
    NaN: "completed so far" is no velocity yet.
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    frame = velocity.sort_values("start", kind="stable").copy()
    closed = frame["state"] == CLOSED
    rolling = frame.loc[closed, "completed"].astype(float).rolling(window, min_periods=1).mean()
    frame["rolling_average"] = rolling.reindex(frame.index)
    return frame.astype({"rolling_average": float})
