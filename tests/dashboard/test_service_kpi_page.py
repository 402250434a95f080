"""The stakeholder KPI page's service on the small world (tests/world/small.py), SQLite and
PostgreSQL: each figure the pages `shop-review` and `shop-board` publish, worked out by
hand from the world's story."""

from __future__ import annotations

import pytest
from world import small

from dashboard.services.kpi_page import build_kpi_page
from kpis.health import Status
from store.db import Store

CONFIG = small.config()
REVIEW = CONFIG.stakeholder_page("shop-review")
BOARD = CONFIG.stakeholder_page("shop-board")
SHOP = CONFIG.product(small.PRODUCT)


@pytest.fixture
def world(store: Store) -> Store:
    small.seed(store)
    return store


def test_the_review_shows_only_its_objectives_in_its_order(world: Store) -> None:
    assert REVIEW is not None
    view = build_kpi_page(world, REVIEW, [SHOP], as_of=small.AS_OF)
    section = view.sections[0]
    got = [(r.result.name, r.result.value, r.result.status) for r in section.objectives]
    assert got == [
        # 7-day mean ending at the newest value (15 Mar 00:00): 9..13 Mar 1,100 each and
        # 14, 15 Mar 600: 6,700 / 7 = 957.14, between 900 and the 1,000 warning
        ("Daily active users", pytest.approx(6700 / 7), Status.AMBER),
        # scoring runs ending 9..15 Mar: 7, of which 11 and 14 Mar failed: 5 / 7 < 0.95
        ("Scoring success rate", pytest.approx(5 / 7), Status.RED),
    ]
    # the product reads as the worst of what the page shows: red (not the overview's
    # six objectives, though here that is red too)
    assert section.status is Status.RED
    assert view.start == small.AS_OF - REVIEW.period and view.trend_days == 14
    assert section.delivery is None  # show_backlog is off: no velocity, no backlog


def test_the_trend_covers_the_pages_period(world: Store) -> None:
    assert REVIEW is not None
    dau = build_kpi_page(world, REVIEW, [SHOP], as_of=small.AS_OF).sections[0].objectives[0]
    # 14 days: readings at 23:59:59.999999 of 2..15 Mar; dau starts on 2 Mar 00:00, so the
    # first reading is that one value, 1,000; 14 Mar: (500 + 5 x 1,100 + 600) / 7 = 942.86
    assert len(dau.trend) == 14
    assert dau.trend["value"].iloc[0] == 1000.0
    assert list(dau.trend["value"].iloc[-2:]) == pytest.approx([6600 / 7, 6700 / 7])


def test_usage_kpis_with_their_mean_target_and_status(world: Store) -> None:
    assert REVIEW is not None
    view = build_kpi_page(world, REVIEW, [SHOP], as_of=small.AS_OF)
    dau, orders = (row.kpi for row in view.sections[0].usage)
    # dau: the same 7-day mean, 957.14, against the usage objective's 900 (>=): at risk;
    # week over week (6,700 - 6,000) / 6,000 = +11.7% (week one: 5 x 1,000 + 2 x 500)
    assert (dau.name, dau.mean_7d, dau.target, dau.op, dau.status) == (
        "dau", pytest.approx(6700 / 7), 900, ">=", Status.AMBER)
    assert dau.week_over_week == pytest.approx(700 / 6000)
    # orders only in week two: 5 x 40 + 2 x 20 = 240 over 7 days = 34.29; no objective,
    # so no target and no status; no week one to compare with
    assert (orders.name, orders.mean_7d, orders.target, orders.status) == (
        "orders", pytest.approx(240 / 7), None, Status.UNKNOWN)
    assert orders.week_over_week is None
    # the dau chart spans the 14-day period: one value a day, 2..15 Mar
    assert len(view.sections[0].usage[0].chart) == 14
    # signups: named by the page, collected by no source
    assert view.missing_kpis == ["signups"]


def test_the_board_page_shows_the_backlog(world: Store) -> None:
    assert BOARD is not None
    view = build_kpi_page(world, BOARD, [SHOP], as_of=small.AS_OF)
    section = view.sections[0]
    # champion is v2 since 7 Mar; its newest auc is 0.86 (14 Mar), >= the 0.85 warning
    assert [(r.result.value, r.result.status) for r in section.objectives] == [
        (pytest.approx(0.86), Status.GREEN)]
    assert section.usage == [] and view.missing_kpis == []
    assert section.delivery is not None
    # Sprint 1 completed 6 (SHOP-4 1 + SHOP-7 5), Sprint 2 3 (SHOP-1): mean 4.5
    assert section.delivery.average_velocity == pytest.approx(4.5)
    # 9 of the 27 points of the 8 work items are done (SHOP-1 3, SHOP-4 1, SHOP-7 5)
    backlog = section.delivery.backlog
    assert (backlog["done_points"], backlog["points"]) == (9, 27)
    assert (backlog["done_items"], backlog["items"]) == (3, 8)
    # 7 days of champion AUC readings, 9..15 Mar: v2's newest auc at each day's end was
    # 0.84 (8 Mar) through 12 Mar, 0.83 on 13 Mar, 0.86 on 14 and 15 Mar
    assert list(section.objectives[0].trend["value"]) == pytest.approx(
        [0.84, 0.84, 0.84, 0.84, 0.83, 0.86, 0.86])
