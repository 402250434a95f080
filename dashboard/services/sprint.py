"""Everything the sprint page shows for one product and one sprint, computed once per view.

The page renders what `build_sprint` returns; the demo world's browser tests call it too,
and a hand-made sprint's browser test holds the page against figures worked out by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from config.schema import ProductConfig
from dashboard.cache import cached_view
from kpis.burndown import (
    BURNDOWN_COLUMNS,
    SCOPE_CHANGE_COLUMNS,
    burndown,
    ideal_line,
    scope_changes,
)
from kpis.carry_over import CARRIED_COLUMNS, carried_items, carry_over
from kpis.history import as_text
from kpis.sprint_report import SprintComparison, compare_sprint
from kpis.velocity import (
    ACTIVE,
    CLOSED,
    rebuilt_sprints,
    rolling_velocity,
    sprint_velocity,
    velocity_forecast,
)
from store import queries
from store.db import Store
from store.sprint_figures import valid_sprint_figures
from store.sprint_reports import sprint_report

FORECAST_SPRINTS = 6
ROLLING_WINDOW = 3


@dataclass(frozen=True)
class SprintView:
    product: ProductConfig
    as_of: datetime
    velocity: pd.DataFrame  # every started sprint, + rolling_average (kpis.velocity)
    forecast: tuple[float, float, float] | None  # (low, likely, high) for the next sprint
    forecast_sprints: int  # how many closed sprints the forecast rests on
    carry_over: pd.DataFrame  # kpis.carry_over.carry_over + sprint_name
    selected: pd.Series | None  # the velocity row of the sprint shown (None: no sprint)
    goal: str
    burndown: pd.DataFrame  # kpis.burndown.burndown: the event table
    carried: pd.DataFrame  # kpis.carry_over.carried_items of the sprint shown + to_sprint_name
    ideal: pd.DataFrame  # kpis.burndown.ideal_line, for drawing
    scope_changes: pd.DataFrame  # kpis.burndown.scope_changes
    report: SprintComparison | None = None  # the tracker's sprint report beside dspo's

    @property
    def remaining(self) -> float | None:
        return None if self.burndown.empty else float(self.burndown["remaining"].iloc[-1])

    @property
    def scope_now(self) -> float | None:
        return None if self.burndown.empty else float(self.burndown["scope"].iloc[-1])

    @property
    def scope_at_start(self) -> float | None:
        """The scope the burndown starts from (the commitment)."""
        return None if self.burndown.empty else float(self.burndown["scope"].iloc[0])

    @property
    def scope_change_count(self) -> int:
        return len(self.scope_changes)

    @property
    def carried_count(self) -> int:
        """Items the sprint shown left undone at its close (0 while it is open)."""
        return len(self.carried)

    @property
    def carried_points(self) -> float:
        """Their points: the sprint's remaining at its close."""
        return float(self.carried["points"].sum())


def default_sprint(velocity: pd.DataFrame, wanted: str | None) -> str | None:
    """The sprint named in the URL if it has started; else the active one; else the last."""
    ids = [as_text(v) for v in velocity["external_id"]]
    if wanted in ids:
        return wanted
    active = velocity.loc[velocity["state"] == ACTIVE, "external_id"]
    if len(active):
        return as_text(active.iloc[-1])
    return ids[-1] if ids else None


def _names(sprints: pd.DataFrame) -> dict[str | None, str]:
    return {as_text(k): str(v) for k, v in zip(sprints["external_id"], sprints["name"],
                                               strict=True)}


def _named(frame: pd.DataFrame, column: str, names: dict[str | None, str]) -> pd.DataFrame:
    """`frame` with `<column>_name`: the sprint's name for its id (None stays None)."""
    return frame.assign(**{f"{column}_name": [
        names.get(as_text(k), as_text(k)) if as_text(k) is not None else None
        for k in frame[column]]})


@cached_view("sprint")
def build_sprint(store: Store, product: ProductConfig, sprint: str | None, *,
                 as_of: datetime) -> SprintView:
    sprints = queries.sprints(store, product.key)
    items = queries.backlog_items(store, product.key)
    stored = valid_sprint_figures(store, product.key)  # closed sprints: not rebuilt
    rebuilt = rebuilt_sprints(sprints, stored, as_of)
    events = queries.item_events(store, product.key, sprints=rebuilt)  # their items' only
    velocity = rolling_velocity(sprint_velocity(sprints, items, events, as_of=as_of,
                                                stored=stored), window=ROLLING_WINDOW)
    chosen = default_sprint(velocity, sprint)
    if chosen is not None and chosen not in rebuilt:  # a stored sprint's own burndown
        events = queries.item_events(store, product.key, sprints=rebuilt | {chosen})
    names = _names(sprints)
    selected, goal, report = None, "", None
    frame = pd.DataFrame(columns=BURNDOWN_COLUMNS)
    ideal = pd.DataFrame(columns=["ts", "ideal"])
    changes = pd.DataFrame(columns=SCOPE_CHANGE_COLUMNS)
    carried = pd.DataFrame(columns=CARRIED_COLUMNS)
    if chosen is not None:
        selected = velocity.loc[velocity["external_id"].map(as_text) == chosen].iloc[0]
        row = sprints.loc[sprints["external_id"].map(as_text) == chosen].iloc[0]
        goal = str(row["goal"] or "")
        frame = burndown(sprints, items, events, chosen, as_of=as_of)
        changes = scope_changes(sprints, items, events, chosen, as_of=as_of)
        carried = carried_items(sprints, items, events, chosen, as_of=as_of)
        planned_end = row["end"] if pd.notna(row["end"]) else frame["ts"].iloc[-1]
        ideal = ideal_line(float(selected["commitment"]), row["start"], planned_end)
        if selected["state"] == CLOSED:
            report = _compared(store, product, row, sprints, items, as_of)
    return SprintView(
        product=product,
        as_of=as_of,
        velocity=velocity,
        forecast=velocity_forecast(velocity, last_n=FORECAST_SPRINTS),
        forecast_sprints=min(FORECAST_SPRINTS, int((velocity["state"] == CLOSED).sum())),
        carry_over=_named(carry_over(sprints, items, events, as_of=as_of, stored=stored),
                          "sprint", names),
        selected=selected,
        goal=goal,
        burndown=frame,
        carried=_named(carried, "to_sprint", names),
        ideal=ideal,
        scope_changes=changes,
        report=report,
    )


def _compared(store: Store, product: ProductConfig, sprint: pd.Series, sprints: pd.DataFrame,
              items: pd.DataFrame, as_of: datetime) -> SprintComparison | None:
    """The tracker's own report of a closed sprint beside dspo's, if the tracker gave one.

    It reads every item's history: an item the tracker counts and dspo never saw in the
    sprint is explained from its own events."""
    sprint_id = as_text(sprint["external_id"])
    assert sprint_id is not None
    found = sprint_report(store, product.key, sprint_id, source=str(sprint["source"]))
    if found is None:
        return None
    events = queries.item_events(store, product.key)
    return compare_sprint(found.to_dict(), sprints, items, events, sprint_id, as_of=as_of)
