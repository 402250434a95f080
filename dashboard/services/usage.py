"""Everything the Usage page shows for one product, computed once per view.

Two reads per KPI: the chart's series over the date range with `max_points=2000` (it may
come back downsampled to min/max buckets), and the raw points of the last KPI_LOOKBACK_DAYS
before `as_of`, from which the numbers are computed, so a downsampled chart never changes
the latest value, the week-over-week change or the 7-day mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from config.schema import ProductConfig
from kpis.usage import UsageKpi, rolling_mean, usage_kpi, usage_objectives
from store import queries
from store.db import Store
from store.records import SeriesKind

MAX_POINTS = 2000
KPI_LOOKBACK_DAYS = 15  # two weeks for week over week, plus a day of slack
ROLLING_DAYS = 7  # the chart's series starts this much earlier, so its first mean is whole


@dataclass(frozen=True)
class UsageRow:
    kpi: UsageKpi
    unit: str
    chart: pd.DataFrame  # [ts, value, rolling_mean] over the range
    downsampled: bool


@dataclass(frozen=True)
class UsageView:
    product: ProductConfig
    as_of: datetime
    start: datetime
    rows: list[UsageRow]


def build_usage(store: Store, product: ProductConfig, *, start: datetime,
                as_of: datetime) -> UsageView:
    """One row per usage KPI in the store, plus any objective's KPI not collected yet."""
    objectives = usage_objectives(product.objectives)
    catalog = queries.series_catalog(store, product.key)
    usage = catalog[catalog["kind"] == str(SeriesKind.USAGE)]
    units = {str(n): str(u or "") for n, u in zip(usage["name"], usage["unit"], strict=True)}
    names = list(objectives) + sorted(n for n in units if n not in objectives)
    rows = []
    for name in names:
        chart = queries.series_points(store, product.key, SeriesKind.USAGE, name,
                                      start=start - timedelta(days=ROLLING_DAYS), end=as_of,
                                      max_points=MAX_POINTS)
        recent = queries.series_points(store, product.key, SeriesKind.USAGE, name,
                                       start=as_of - timedelta(days=KPI_LOOKBACK_DAYS),
                                       end=as_of)
        kpi = usage_kpi(name, recent if len(recent) else chart, as_of=as_of,
                        objective=objectives.get(name))
        rolling = rolling_mean(chart, as_of=as_of, days=ROLLING_DAYS)
        shown = rolling[rolling["ts"] >= pd.Timestamp(start)].reset_index(drop=True)
        rows.append(UsageRow(kpi, units.get(name, ""), shown,
                             bool(chart.attrs.get("downsampled"))))
    return UsageView(product=product, as_of=as_of, start=start, rows=rows)
