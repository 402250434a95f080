"""The figures of closed sprints, computed once so that pages need not rebuild them.

A closed sprint's velocity (commitment, completed, added and removed mid-sprint) and
carry-over are fixed once it has closed: they change only if its items' history changes.
Rebuilding them from item history for every sprint on every view was most of the time of
the Overview, Sprint and KPI pages on a long history, so the collection path computes them
here after a backlog source writes, the store keeps them, and `kpis.velocity.sprint_velocity`
and `kpis.carry_over.carry_over` take them (`stored=`) instead of rebuilding.

They are computed as of the *horizon*: the latest instant the inputs know of, so every
recorded move is seen. A row holds for any `as_of` at or after:

* `closed_at` for the velocity figures (they look at the sprint's start and close only);
* `settled_at` for the carry-over: the close, or the instant the last carried item left
  the sprint if later (before that, a view sees some items still in the closed sprint).

`start` and `closed_at` are the sprint's start and close the row was computed for: a
sprint re-planned or reopened since has its figures rebuilt (`kpis.velocity.stored_for`).
"""

from __future__ import annotations

import pandas as pd

from kpis.carry_over import STORED, closed_carry_overs, summary
from kpis.history import as_text
from kpis.velocity import CLOSED, FIGURES, end_instant, sprint_velocity

STORED_COLUMNS = ["external_id", "start", "closed_at", "settled_at", *FIGURES,
                  *STORED.values()]


def any_closed(sprints: pd.DataFrame) -> bool:
    """Whether any sprint is closed with a known close (has figures to store)."""
    if sprints.empty:
        return False
    closed = sprints["state"].astype(str).str.lower() == CLOSED
    return bool((closed & (sprints["completed"].notna() | sprints["end"].notna())).any())


def horizon(sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame) -> pd.Timestamp:
    """The latest instant in the inputs: every sprint close, item creation, resolution and
    event lies at or before it."""
    instants = [
        pd.to_datetime(frame[column], utc=True).max()
        for frame, columns in ((sprints, ("start", "end", "completed")),
                               (items, ("created", "resolved")), (events, ("ts",)))
        for column in columns if column in frame and len(frame)
    ]
    known = [t for t in instants if pd.notna(t)]
    return max(known) if known else pd.Timestamp(0, tz="UTC")


def closed_sprint_figures(sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame
                          ) -> pd.DataFrame:
    """One row per sprint closed by the inputs' horizon: `STORED_COLUMNS` (module docstring).

    The figures are exactly `sprint_velocity`'s and `carry_over`'s as of any instant from
    the row's `closed_at` (velocity) or `settled_at` (carry-over) on.
    """
    at = horizon(sprints, items, events)
    velocity = sprint_velocity(sprints, items, events, as_of=at)
    velocity = velocity.loc[velocity["state"] == CLOSED]
    carried = dict(closed_carry_overs(sprints, items, events, at))
    rows = []
    for _, row in velocity.iterrows():
        sprint_id = as_text(row["external_id"])
        sprint = sprints.loc[sprints["external_id"].map(as_text) == sprint_id].iloc[0]
        close = end_instant(sprint, at)[0]
        mine = carried[str(sprint_id)]
        moved = mine["moved"].max() if len(mine) else pd.NaT
        totals = summary(mine)
        rows.append({
            "external_id": sprint_id, "start": pd.Timestamp(sprint["start"]),
            "closed_at": close, "settled_at": max(close, moved) if pd.notna(moved) else close,
            **{column: row[column] for column in FIGURES},
            **{stored: totals[column] for column, stored in STORED.items()},
        })
    frame = pd.DataFrame(rows, columns=STORED_COLUMNS)
    return frame.astype({"commitment": float, "completed": float, "added_mid_sprint": int,
                         "removed_mid_sprint": int, "carry_items": int, "carry_points": float,
                         "into_sprints": float, "to_backlog": float, "stayed": float})
