"""The Flow & backlog page's service on the small world (tests/world/small.py), SQLite
and PostgreSQL: every figure is worked out by hand from the world's story."""

from __future__ import annotations

import pytest
from world import small

from dashboard.services.flow import FlowView, backlog_rows, build_flow
from store.db import Store

PRODUCT = small.product_config()


@pytest.fixture
def view(store: Store) -> FlowView:
    small.seed(store)
    # the page's range start=2026-02-16, end=2026-03-15: [16 Feb 00:00, 16 Mar 00:00)
    return build_flow(store, PRODUCT, start=small.at("2026-02-16T00:00"),
                      end=small.at("2026-03-16T00:00"))


def test_tiles(view: FlowView) -> None:
    # 10 items with the 2 epics, 8 work items; SHOP-2 in progress at the end; done in
    # the range: SHOP-4 (20 Feb), SHOP-7 (25 Feb), SHOP-1 (10 Mar); ALERT-1 from an alert
    assert (view.items, view.work_items, view.wip, view.done_in_range) == (10, 8, 1, 3)
    assert (view.alert_items, view.started_from_created) == (1, 0)
    # weeks from Monday 16 Feb: SHOP-4 (1 pt); SHOP-7 (5); nothing; SHOP-1 (3)
    assert list(view.throughput["items"]) == [1, 1, 0, 1]
    assert list(view.throughput["points"]) == [1.0, 5.0, 0.0, 3.0]


def test_cycle_and_lead_times(view: FlowView) -> None:
    # first in progress -> done: SHOP-4 17 Feb 10:00 -> 20 Feb 10:00 = 3 d; SHOP-1 5 Mar
    # 10:00 -> 10 Mar 15:00 = 5 d 5 h = 5.2083 d; SHOP-7 18 Feb 10:00 -> 25 Feb 16:00 =
    # 7 d 6 h = 7.25 d. Linear percentiles of (3, 5.2083, 7.25): p50 the middle one; p85
    # at rank 0.85 x 2 = 1.7: 5.2083 + 0.7 x 2.0417 = 6.6375; p95 at 1.9: 7.0458
    assert view.cycle[50] == pytest.approx(5 + 5 / 24)
    assert view.cycle[85] == pytest.approx(5 + 5 / 24 + 0.7 * (7.25 - 5 - 5 / 24))
    assert view.cycle[95] == pytest.approx(5 + 5 / 24 + 0.9 * (7.25 - 5 - 5 / 24))
    # created 10 Feb 09:00 -> done: 10 d 1 h, 15 d 7 h, 28 d 6 h; the median 15 d 7 h
    assert view.lead[50] == pytest.approx(15 + 7 / 24)
    # SHOP-2, in progress since 4 Mar 10:00: 11 d 14 h old at 16 Mar 00:00
    assert list(view.ageing["key"]) == ["SHOP-2"]
    assert view.ageing["age_days"].iloc[0] == pytest.approx(11 + 14 / 24)


def test_epics_and_statuses(view: FlowView, store: Store) -> None:
    epics = [(e.epic, e.items, e.done_items, e.points, e.done_points)
             for e in view.epics.itertuples(index=False)]
    # E1: SHOP-1 3 (done), SHOP-2 5, SHOP-3 2, SHOP-7 5 (done); E2: SHOP-4 1 (done),
    # SHOP-5 8; no epic: SHOP-6 (unestimated) and ALERT-1 3
    assert epics == [("SHOP-E1", 4, 2, 15.0, 8.0), ("SHOP-E2", 2, 1, 9.0, 1.0),
                     (None, 2, 0, 3.0, 0.0)]
    assert list(view.epics["title"].iloc[:2]) == ["Checkout revamp", small.HOSTILE]
    by_status = [(s.status, s.items, s.points) for s in view.by_status.itertuples(index=False)]
    # To Do: SHOP-3 2, SHOP-5 8, SHOP-6 -, ALERT-1 3; Done: 3 + 1 + 5; In Progress: SHOP-2
    assert by_status == [("To Do", 4, 13.0), ("Done", 3, 9.0), ("In Progress", 1, 5.0)]
    # the last day's cumulative flow: 4 to do, 1 in progress, 3 done
    assert view.cfd[["todo", "in_progress", "done"]].iloc[-1].tolist() == [4, 1, 3]
    # the grid shows sprint names: SHOP-1 is in sprint "2", named "Sprint 2"
    shop_1 = {"key": {"filterType": "text", "type": "equals", "filter": "SHOP-1"}}
    page = backlog_rows(store, PRODUCT.key, {"startRow": 0, "endRow": 20,
                                             "filterModel": shop_1})
    assert [(r["key"], r["sprint"]) for r in page["rowData"]] == [("SHOP-1", "Sprint 2")]
