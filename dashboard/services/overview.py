"""Everything the overview page shows for one product, computed once per view.

The only place that strings store reads to KPI functions for the overview: the page module
renders what this returns, the browser test and the benchmark call it directly, so the
numbers on the page are the KPI functions' results by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from config.schema import AnyObjective, ProductConfig
from dashboard.cache import cached_view
from kpis.backlog import backlog_progress, progress_summary, work_items
from kpis.health import ObjectiveResult, Status, evaluate_objective, product_status
from kpis.signals import daily_instants, readings_over_days
from kpis.velocity import average_velocity, rebuilt_sprints, sprint_velocity
from store import queries
from store.db import Store
from store.signals import signal_frame
from store.sprint_figures import valid_sprint_figures

TREND_DAYS = 28


@dataclass(frozen=True)
class HealthRow:
    objective: AnyObjective
    result: ObjectiveResult
    trend: pd.DataFrame  # [ts, value] over the last TREND_DAYS


@dataclass(frozen=True)
class Overview:
    product: ProductConfig
    as_of: datetime
    status: Status
    health: list[HealthRow]
    velocity: pd.DataFrame
    average_velocity: float | None
    backlog: pd.DataFrame
    backlog_summary: dict[str, object]
    sources: pd.DataFrame
    firing: pd.DataFrame  # the product's firing alerts, newest first, with backlog_key


@cached_view("overview")
def build_overview(
    store: Store, product: ProductConfig, source_names: list[str], *, as_of: datetime
) -> Overview:
    health = health_rows(store, product, as_of=as_of)
    sprints = queries.sprints(store, product.key)
    items = queries.backlog_items(store, product.key)
    stored = valid_sprint_figures(store, product.key)  # closed sprints: not rebuilt
    events = queries.item_events(store, product.key,
                                 sprints=rebuilt_sprints(sprints, stored, as_of))
    velocity = sprint_velocity(sprints, items, events, as_of=as_of, stored=stored)
    sources = queries.collector_status(store)
    return Overview(
        product=product,
        as_of=as_of,
        status=product_status([row.result for row in health]),
        health=health,
        velocity=velocity,
        average_velocity=average_velocity(velocity, last_n=3),
        backlog=backlog_progress(work_items(items)),
        backlog_summary=progress_summary(work_items(items)),
        sources=sources[sources["source"].isin(source_names)].reset_index(drop=True),
        firing=queries.alerts(store, product.key, states=("firing",), at=as_of)
        .sort_values("fired_at", ascending=False).reset_index(drop=True),
    )


def health_rows(store: Store, product: ProductConfig, *, as_of: datetime) -> list[HealthRow]:
    """Each objective's result and trend: the overview's health panel, the map's colours."""
    return [health_row(store, product.key, objective, as_of=as_of)
            for objective in product.objectives]


def health_row(store: Store, product: str, objective: AnyObjective, *, as_of: datetime,
               days: int = TREND_DAYS) -> HealthRow:
    """The objective judged on its signal, and the same signal as it read each of the last
    `days` days: the sparkline shows exactly what the status is judged on."""
    frame = signal_frame(store, product, objective, as_of=as_of,
                         history=timedelta(days=days), instants=daily_instants(as_of, days))
    result = evaluate_objective(objective, frame, as_of=as_of)
    return HealthRow(objective, result,
                     readings_over_days(objective, frame, as_of=as_of, days=days))
