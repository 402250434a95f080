"""The Usage page's service on the small world (tests/world/small.py), SQLite and
PostgreSQL: every figure is worked out by hand from the world's story."""

from __future__ import annotations

from datetime import datetime

import pytest
from world import small

from dashboard.services.usage import UsageView, build_usage
from kpis.health import Status
from store.db import Store

PRODUCT = small.product_config()


def _view(store: Store, as_of: datetime = small.AS_OF) -> UsageView:
    return build_usage(store, PRODUCT, start=small.at("2026-02-16T00:00"), as_of=as_of)


@pytest.fixture
def world(store: Store) -> Store:
    small.seed(store)
    return store


def test_dau_judged_on_its_seven_day_mean(world: Store) -> None:
    view = _view(world)
    assert [row.kpi.name for row in view.rows] == ["dau", "orders"]  # objective's first
    dau = view.rows[0]
    kpi = dau.kpi
    # latest: Sun 15 Mar, 600
    assert (kpi.latest, kpi.latest_ts) == (600.0, small.at("2026-03-15T00:00"))
    # the objective's 7-day mean, ending at 15 Mar 00:00: 9..15 Mar = (5 x 1,100 + 2 x 600)
    # / 7 = 957.14: over 900, under the 1,000 warning -> at risk (the latest day alone,
    # 600, would read failing)
    assert kpi.judged == pytest.approx(6700 / 7) and kpi.judged_as == "7-day mean"
    assert kpi.status is Status.AMBER
    assert (kpi.target, kpi.warning, kpi.op) == (900, 1000, ">=")
    assert kpi.mean_7d == pytest.approx(6700 / 7)
    # week over week: 957.14 against 2..8 Mar = (5 x 1,000 + 2 x 500) / 7 = 857.14:
    # (6,700 - 6,000) / 6,000 = +11.67%
    assert kpi.week_over_week == pytest.approx(700 / 6000)
    assert dau.unit == "users" and not dau.downsampled
    # the chart's rolling mean at 2 Mar (one value), Sun 8 Mar (week one) and 15 Mar
    means = dau.chart.set_index("ts")["rolling_mean"]
    assert means[small.at("2026-03-02T00:00")] == 1000.0
    assert means[small.at("2026-03-08T00:00")] == pytest.approx(6000 / 7)
    assert means[small.at("2026-03-15T00:00")] == pytest.approx(6700 / 7)


def test_a_kpi_without_objective_shows_values_and_no_verdict(world: Store) -> None:
    orders = _view(world).rows[1].kpi
    # week two only: 40 on 9..13 Mar, 20 on 14, 15 Mar: mean (200 + 40) / 7 = 34.29;
    # nothing the week before, so no week over week
    assert (orders.latest, orders.week_over_week) == (20.0, None)
    assert orders.mean_7d == pytest.approx(240 / 7)
    assert (orders.target, orders.judged, orders.status) == (None, None, Status.UNKNOWN)


def test_saturday_keeps_its_week(world: Store) -> None:
    # As of Sat 14 Mar 23:59: 8..14 Mar = 500 + 5 x 1,100 + 600 = 6,600 / 7 = 942.86
    kpi = _view(world, small.AS_OF.replace(day=14)).rows[0].kpi
    assert kpi.judged == pytest.approx(6600 / 7) and kpi.status is Status.AMBER
    assert kpi.latest == 600.0
