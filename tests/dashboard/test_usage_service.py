"""The Usage page's numbers come from full-resolution data, whatever the chart shows.

A KPI measured hourly for 120 days (2,880 points) is downsampled for the chart (at most
2,000 points per trace, min/max per bucket). Its values are 100 in the hour after midnight
and 0 the other 23 hours, so every 7-day window of raw points holds 7 spikes in 168 hours:
a mean of 700 / 168 = 4.1667. Min/max buckets keep a disproportionate share of the spikes,
so a mean taken on the downsampled trace would come out far higher.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config.schema import ProductConfig
from dashboard.services.usage import build_usage
from store import records as r
from store.db import Store
from store.writer import write_records

START = datetime(2026, 1, 1, tzinfo=UTC)
HOURS = 120 * 24


@pytest.fixture
def spiky(store: Store) -> Store:
    points = [r.Point("p", r.SeriesKind.USAGE, "calls", START + timedelta(hours=h),
                      100.0 if h % 24 == 0 else 0.0) for h in range(HOURS)]
    with store.session() as s:
        write_records(s, "usage", points)
    return store


def test_the_rolling_mean_is_computed_on_every_raw_point(spiky: Store) -> None:
    product = ProductConfig.model_validate({"key": "p", "name": "P", "objectives": [
        {"name": "Calls", "kind": "usage", "kpi": "calls", "op": ">=", "threshold": 4}]})
    as_of = START + timedelta(hours=HOURS - 1)
    view = build_usage(spiky, product, start=START + timedelta(days=8), as_of=as_of)
    [row] = view.rows
    assert row.downsampled  # the chart's values are min/max buckets
    assert len(row.chart) < 2000 + 1
    # every 7-day window of raw hourly points, wherever it ends, holds 7 spikes of 100
    # among 168 values: 700 / 168 = 4.1667
    assert row.chart["rolling_mean"].to_numpy() == pytest.approx(700 / 168)
    # and the objective judges the same full-resolution 7-day mean: 4.1667 >= 4, green
    assert row.kpi.judged == pytest.approx(700 / 168)
    assert row.kpi.status.value == "green"
    downsampled_mean = row.chart.loc[row.chart["ts"] > row.chart["ts"].max()
                                     - timedelta(days=7), "value"].mean()
    assert downsampled_mean > 2 * (700 / 168)  # what a mean on the thinned trace would say
