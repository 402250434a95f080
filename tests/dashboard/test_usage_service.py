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


def test_the_latest_tile_reads_the_indexed_latest_point(spiky: Store,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import dashboard.services.usage as usage

    asked: list[str] = []
    real = usage.queries.latest_point

    def counted(store: Store, product: str, kind: object, name: str) -> object:
        asked.append(name)
        return real(store, product, kind, name)

    monkeypatch.setattr(usage.queries, "latest_point", counted)
    product = ProductConfig(key="p", name="P")
    last = START + timedelta(hours=HOURS - 1)  # 30 Apr 23:00, a 0 (not the midnight hour)
    later = build_usage(spiky, product, start=START, as_of=last + timedelta(days=3)).rows[0]
    assert asked == ["calls"]
    # the newest point, three days before the page's end: value 0 at 30 Apr 23:00; its
    # week over week is that of the 7 days to it (7 spikes of 100 each week: 0%)
    assert (later.kpi.latest, later.kpi.latest_ts) == (0.0, last)
    assert later.kpi.week_over_week == 0.0
    # a page looking at the past (as of 10 Jan 00:30): the newest point is after it, so
    # the tile comes from the points up to then: 10 Jan 00:00, the midnight spike, 100
    past = build_usage(spiky, product, start=START, as_of=START + timedelta(days=9, minutes=30))
    assert (past.rows[0].kpi.latest, past.rows[0].kpi.latest_ts) == (
        100.0, START + timedelta(days=9))
