"""The DORA page's service on the small world (tests/world/small.py), SQLite and
PostgreSQL: every figure is worked out by hand from the world's story."""

from __future__ import annotations

from datetime import timedelta

import pytest
from world import small

from dashboard.services.dora import DoraView, build_dora
from store.db import Store

PRODUCT = small.product_config()


@pytest.fixture
def view(store: Store) -> DoraView:
    small.seed(store)
    # the page's range start=2026-02-16, end=2026-03-15: [16 Feb 00:00, 16 Mar 00:00)
    return build_dora(store, PRODUCT, start=small.at("2026-02-16T00:00"),
                      end=small.at("2026-03-16T00:00"), as_of=small.AS_OF)


def test_four_metrics(view: DoraView) -> None:
    result = view.result
    assert (view.models, view.events) == (["rec"], 5)  # 4 champion moves, 1 challenger
    # champion: v1 18 Feb (first: promotion), v2 4 Mar (promotion), v1 5 Mar 21:00
    # (rollback), v2 7 Mar (higher than v1 it left: promotion): 3 in 4 weeks
    assert result.promotions == 3
    assert result.deployment_frequency == 0.75
    # lead time: run start -> promotion: v1 16 Feb 21:00 -> 18 Feb 09:00 = 36 h; v2 2 Mar
    # 09:00 -> 4 Mar 09:00 = 2 d, and -> 7 Mar 09:00 = 5 d; median 2 d
    assert list(result.lead_times["lead_time"]) == [
        timedelta(hours=36), timedelta(days=2), timedelta(days=5)]
    assert result.lead_time_p50 == timedelta(days=2)
    # the rollback 37 h after the 4 Mar promotion (within 7 days) fails it: 1 of 3
    assert list(result.failures["failed"]) == [False, True, False]
    assert result.change_failure_rate == pytest.approx(1 / 3)
    # restored by the 7 Mar promotion: 5 Mar 21:00 -> 7 Mar 09:00 = 36 h
    assert result.time_to_restore_p50 == timedelta(hours=36)
    # the figures the tiles print under each metric
    assert (result.failed_promotions, result.restored, result.open_incidents) == (1, 1, 0)
    assert result.promotions_with_lead_time == 3


def test_promotions_per_week(view: DoraView) -> None:
    weekly = view.result.weekly
    # weeks from Mon 16 Feb: the 18 Feb promotion; nothing; 4 and 7 Mar and the rollback
    assert list(weekly["promotions"]) == [1, 0, 2, 0]
    assert list(weekly["rollbacks"]) == [0, 0, 1, 0]
