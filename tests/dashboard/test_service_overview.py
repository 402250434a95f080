"""The overview's service on the small world (tests/world/small.py), SQLite and PostgreSQL:
every figure is worked out by hand from the world's story."""

from __future__ import annotations

import pytest
from world import small

from dashboard.services.overview import build_overview
from kpis.health import Status
from store.db import Store

PRODUCT = small.product_config()


@pytest.fixture
def world(store: Store) -> Store:
    small.seed(store)
    return store


def test_each_objective_judged_on_its_signal(world: Store) -> None:
    overview = build_overview(world, PRODUCT, [], as_of=small.AS_OF)
    got = [(r.result.name, r.result.value, r.result.status) for r in overview.health]
    assert got == [
        # champion = v2; its newest auc at or before 15 Mar is 0.86 (14 Mar): >= 0.85
        ("Champion AUC", pytest.approx(0.86), Status.GREEN),
        # the latest report (8 -> 15 Mar, 1,200 rows) drifted 1 of 4 columns: 0.25 is
        # within 0.3 but above the 0.2 warning
        ("Drifted feature share", 0.25, Status.AMBER),
        # runs ending in (8 Mar 23:59:59.999999, 15 Mar 23:59:59.999999]: the 02:30 ends
        # of 9..15 Mar, 7 runs, 2 failed (11 and 14 Mar): 5/7 = 0.714 < 0.95
        ("Scoring success rate", pytest.approx(5 / 7), Status.RED),
        # 7-day mean ending at the newest value (15 Mar 00:00): 9..13 Mar 1,100 each and
        # 14, 15 Mar 600: (5 x 1,100 + 2 x 600) / 7 = 6,700 / 7 = 957.14, under 1,000
        ("Daily active users", pytest.approx(6700 / 7), Status.AMBER),
        # shop-training last succeeded 9 Mar 04:00: 6 d 20 h (less a microsecond) before
        # as_of = 164 h, within 168 but past the 120 h warning
        ("Training freshness", pytest.approx(164.0), Status.AMBER),
        # dau's mean 6,700 / 7 against 6,000 / 7 the week before: +700 / 6,000 = +11.7%,
        # above the -10% warning
        ("DAU week over week", pytest.approx(700 / 6000), Status.GREEN),
    ]
    assert overview.status is Status.RED  # the worst of green, amber, red, ...


def test_sparkline_is_the_signal_as_it_read_each_day(world: Store) -> None:
    dau = build_overview(world, PRODUCT, [], as_of=small.AS_OF).health[3].trend
    # The first dau value is 2 Mar 00:00: the reading at 2 Mar 23:59 is that one value
    # (1,000); readings before it have no value and are left out. One per day to 15 Mar.
    assert len(dau) == 14
    assert dau["value"].iloc[0] == 1000.0
    # 14 Mar 23:59: window (7 Mar, 14 Mar] = 500 (Sun 8) + 5 x 1,100 + 600 (Sat 14)
    # = 6,600 / 7 = 942.86; 15 Mar: 957.14 as judged
    assert list(dau["value"].iloc[-2:]) == pytest.approx([6600 / 7, 6700 / 7])


def test_velocity_and_backlog_progress(world: Store) -> None:
    overview = build_overview(world, PRODUCT, [], as_of=small.AS_OF)
    velocity = overview.velocity.set_index("name")
    # Sprint 1 at its start (16 Feb 09:00) held SHOP-4 (1), SHOP-5 (8, moved out only at
    # the close) and SHOP-7 (5), none done: 14 committed. Done in it by its close: SHOP-4
    # (20 Feb) + SHOP-7 (25 Feb) = 6.
    # Sprint 2 at its start held SHOP-1 (3), SHOP-2 (5), SHOP-5 (8): 16 committed; done
    # by its close: SHOP-1 (10 Mar) = 3.
    assert velocity.loc["Sprint 1", ["commitment", "completed"]].tolist() == [14.0, 6.0]
    assert velocity.loc["Sprint 2", ["commitment", "completed"]].tolist() == [16.0, 3.0]
    assert overview.average_velocity == 4.5  # both closed: (6 + 3) / 2
    summary = overview.backlog_summary
    # work items (epics left out): SHOP-1..7 and ALERT-1 = 8, their points 3 + 5 + 2 + 1
    # + 8 + 0 (SHOP-6 unestimated) + 5 + 3 = 27; done SHOP-1, 4, 7: 3 items, 3 + 1 + 5 = 9
    assert (summary["items"], summary["done_items"]) == (8, 3)
    assert (summary["points"], summary["done_points"]) == (27.0, 9.0)
    assert summary["share_done_points"] == pytest.approx(9 / 27)


def test_a_saturday_is_judged_on_its_week(world: Store) -> None:
    # As of Sat 14 Mar 23:59: the 7-day mean ends at 14 Mar 00:00 and covers 8..14 Mar:
    # 500 + 5 x 1,100 + 600 = 6,600 / 7 = 942.86: at risk, not failing on the weekend dip.
    # The drift objective then reads the 1 -> 8 Mar report, over 80 rows: under
    # min_rows 200, insufficient data rather than 75% drifted.
    as_of = small.AS_OF.replace(day=14)
    health = build_overview(world, PRODUCT, [], as_of=as_of).health
    dau, drift = health[3].result, health[1].result
    assert (dau.value, dau.status) == (pytest.approx(6600 / 7), Status.AMBER)
    assert (drift.value, drift.status, drift.insufficient) == (None, Status.UNKNOWN, True)
