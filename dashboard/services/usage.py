"""Everything the Usage page shows for one product, computed once per view.

The chart's series comes over the date range with `max_points=2000` (it may come back
downsampled to min/max buckets); the numbers come from full-resolution data: the latest
value from the indexed latest-point query (`store.series.latest_point`: one `ORDER BY ts
DESC LIMIT 1` per series), the raw points of the KPI_LOOKBACK_DAYS up to it for the week
over week, the
objective's own signal (`store.signals`, the reading every page and alert shares) for the
judged value, and the raw series for the 7-day rolling mean, so downsampling changes how
the values line looks, never a mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from config.schema import ProductConfig
from dashboard.cache import cached_view
from kpis.health import evaluate_objective
from kpis.usage import (
    UsageKpi,
    hourly_rolling_mean,
    rolling_mean,
    usage_kpi,
    usage_objectives,
)
from store import queries
from store.db import Store
from store.records import SeriesKind
from store.signals import signal_frame
from store.windows import hour_sums

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


@cached_view("usage")
def build_usage(store: Store, product: ProductConfig, *, start: datetime,
                as_of: datetime) -> UsageView:
    """One row per usage KPI in the store, plus any objective's KPI not collected yet."""
    objectives = usage_objectives(product.objectives)
    usage = queries.series_catalog(store, product.key, SeriesKind.USAGE)
    units = {str(n): str(u or "") for n, u in zip(usage["name"], usage["unit"], strict=True)}
    names = list(objectives) + sorted(n for n in units if n not in objectives)
    rows = []
    for name in names:
        chart = queries.series_points(store, product.key, SeriesKind.USAGE, name,
                                      start=start - timedelta(days=ROLLING_DAYS), end=as_of,
                                      max_points=MAX_POINTS)
        latest = _latest(store, product.key, name, as_of)
        last = as_of if latest is None else latest[0]
        recent = queries.series_points(store, product.key, SeriesKind.USAGE, name,
                                       start=last - timedelta(days=KPI_LOOKBACK_DAYS),
                                       end=last)
        objective = objectives.get(name)
        judged = None
        if objective is not None:
            frame = signal_frame(store, product.key, objective, as_of=as_of,
                                 instants=[as_of])  # read at as_of only: rollups serve it
            judged = evaluate_objective(objective, frame, as_of=as_of)
        kpi = usage_kpi(name, recent if len(recent) else chart, as_of=as_of,
                        objective=objective, judged=judged, latest=latest)
        shown = _with_rolling_mean(store, product.key, name, chart, start=start, as_of=as_of)
        rows.append(UsageRow(kpi, units.get(name, ""), shown,
                             bool(chart.attrs.get("downsampled"))))
    return UsageView(product=product, as_of=as_of, start=start, rows=rows)


def _latest(store: Store, product: str, name: str, as_of: datetime
            ) -> tuple[datetime, float] | None:
    """The KPI's newest point if it is the latest as of `as_of`: the newest of all, when it
    lies at or before `as_of` and is a number. A newer one (a page looking at the past) or
    a NaN says nothing of the latest then: None, and the tile comes from the points read
    up to `as_of`, as before."""
    newest = queries.latest_point(store, product, SeriesKind.USAGE, name)
    if newest is None or newest[0] > as_of or math.isnan(newest[1]):
        return None
    return newest


def _with_rolling_mean(store: Store, product: str, name: str, chart: pd.DataFrame, *,
                       start: datetime, as_of: datetime) -> pd.DataFrame:
    """The chart's points with the 7-day mean at each of them: on every raw point, or, when
    the chart's series was downsampled (a long range), from the hour rollups to the hour
    instead of reading the whole range's raw points again."""
    values = chart.loc[chart["ts"] <= pd.Timestamp(as_of), ["ts", "value"]]
    values = values.sort_values("ts", kind="stable")
    if chart.attrs.get("downsampled"):
        hours = hour_sums(store, product, SeriesKind.USAGE, name,
                          start=start - timedelta(days=ROLLING_DAYS), end=as_of)
        values = values.assign(rolling_mean=hourly_rolling_mean(hours, values["ts"],
                                                                 days=ROLLING_DAYS))
        return values[values["ts"] >= pd.Timestamp(start)].reset_index(drop=True)
    rolling = rolling_mean(chart, as_of=as_of, days=ROLLING_DAYS)
    if values.empty:  # a range before the first point: merge_asof refuses an untyped ts
        return values.assign(rolling_mean=pd.Series(dtype=float)).reset_index(drop=True)
    means = rolling[["ts", "rolling_mean"]].drop_duplicates("ts", keep="last")
    merged = pd.merge_asof(values, means, on="ts", direction="backward")
    return merged[merged["ts"] >= pd.Timestamp(start)].reset_index(drop=True)
