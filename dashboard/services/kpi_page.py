"""Everything a stakeholder KPI page shows, computed once per view.

The page shows only what its config entry publishes: the named objectives of its products
(judged on their signals as the overview judges them, with their trend over the page's
period), the named usage KPIs (as the Usage page reads them: 7-day mean, target, status,
week over week) and, only with `show_backlog`, velocity and backlog progress. Every number
comes from the same services and KPI functions as the PO's pages, so a stakeholder and a
PO never read two values for one thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from config.schema import ProductConfig
from config.stakeholders import StakeholderPage
from dashboard.cache import cached_view
from dashboard.services.overview import HealthRow, health_row
from dashboard.services.usage import UsageRow, build_usage
from kpis.backlog import progress_summary, work_items
from kpis.health import Status, product_status
from kpis.velocity import average_velocity, rebuilt_sprints, sprint_velocity
from store import queries
from store.db import Store
from store.sprint_figures import valid_sprint_figures

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Delivery:
    """Velocity and backlog progress, shown only when the page sets `show_backlog`."""

    velocity: pd.DataFrame
    average_velocity: float | None
    backlog: dict[str, Any]


@dataclass(frozen=True)
class KpiSection:
    """One product of the page."""

    product: ProductConfig
    status: Status  # the worst of the shown objectives
    objectives: list[HealthRow]
    usage: list[UsageRow]
    delivery: Delivery | None


@dataclass(frozen=True)
class KpiPageView:
    page: StakeholderPage
    as_of: datetime
    start: datetime
    sections: list[KpiSection]
    missing_kpis: list[str]  # KPIs the page names that no product of it has

    @property
    def trend_days(self) -> int:
        return trend_days(self.page)


def trend_days(page: StakeholderPage) -> int:
    """The period in whole days, at least one: a trend has one reading per day."""
    return max(1, round(page.period / DAY))


@cached_view("kpi_page")
def build_kpi_page(store: Store, page: StakeholderPage, products: list[ProductConfig], *,
                   as_of: datetime) -> KpiPageView:
    """`products`: the config's products of the page, in the page's order."""
    start = as_of - page.period
    sections = [_section(store, page, product, start=start, as_of=as_of)
                for product in products]
    shown = {row.kpi.name for section in sections for row in section.usage}
    return KpiPageView(page, as_of, start, sections,
                       [name for name in page.kpis if name not in shown])


def _section(store: Store, page: StakeholderPage, product: ProductConfig, *, start: datetime,
             as_of: datetime) -> KpiSection:
    by_name = {o.name: o for o in product.objectives}
    objectives = [health_row(store, product.key, by_name[name], as_of=as_of,
                             days=trend_days(page))
                  for name in page.objectives if name in by_name]
    usage = []
    if page.kpis:
        rows = {row.kpi.name: row
                for row in build_usage(store, product, start=start, as_of=as_of).rows}
        usage = [rows[name] for name in page.kpis if name in rows]
    return KpiSection(product, product_status([row.result for row in objectives]), objectives,
                      usage, _delivery(store, product.key, as_of) if page.show_backlog else None)


def _delivery(store: Store, product: str, as_of: datetime) -> Delivery:
    """As the overview counts them: Jira's velocity (closed sprints from their stored
    figures), the mean of the last 3 closed sprints, and the share of points done."""
    items = queries.backlog_items(store, product)
    sprints, stored = queries.sprints(store, product), valid_sprint_figures(store, product)
    events = queries.item_events(store, product,
                                 sprints=rebuilt_sprints(sprints, stored, as_of))
    velocity = sprint_velocity(sprints, items, events, as_of=as_of, stored=stored)
    return Delivery(velocity, average_velocity(velocity, last_n=3),
                    progress_summary(work_items(items)))
