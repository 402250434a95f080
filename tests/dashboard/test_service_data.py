"""The Data & drift page's service on the small world (tests/world/small.py), SQLite and
PostgreSQL: every figure is worked out by hand from the world's story."""

from __future__ import annotations

from datetime import datetime

import pytest
from world import small

from dashboard.services.data import DataView, build_data
from kpis.health import Status
from store.db import Store

PRODUCT = small.product_config()


def _view(store: Store, as_of: datetime = small.AS_OF) -> DataView:
    return build_data(store, PRODUCT, [], dataset=None, start=small.at("2026-02-16T00:00"),
                      as_of=as_of)


@pytest.fixture
def world(store: Store) -> Store:
    small.seed(store)
    return store


def test_each_window_with_its_status(world: Store) -> None:
    view = _view(world)
    assert (view.datasets, view.dataset) == (["shop-features"], "shop-features")
    got = [(w.window_end, w.drifted_share, w.drifted_count, w.rows, w.insufficient, w.status)
           for w in view.history.itertuples(index=False)]
    assert got == [
        # 80 rows < min_rows 200: too few to judge, whatever 3 of 4 columns said
        (small.at("2026-03-08T00:00"), 0.75, 3, 80.0, True, Status.UNKNOWN),
        # 1 of 4 = 0.25: within the objective's 0.3, above its 0.2 warning
        (small.at("2026-03-15T00:00"), 0.25, 1, 1200.0, False, Status.AMBER),
    ]
    latest = view.latest.iloc[-1]
    assert (latest["drifted_share"], latest["status"]) == (0.25, Status.AMBER)
    assert list(view.quality["rows"]) == [80, 1200]


def test_drifted_most_often_counts_judged_windows_only(world: Store) -> None:
    # basket_size drifted in both weeks, price and region only in the 80-row week, which
    # is too thin to judge: over judged windows, basket_size drifted once, the rest never.
    counts = _view(world).matrix.drift_counts
    assert counts.to_dict() == {"basket_size": 1, "price": 0, "region": 0, "visits": 0}


def test_the_insufficient_week_as_the_latest(world: Store) -> None:
    # As of Sat 14 Mar the 8 -> 15 Mar window has not ended: the latest report is the
    # 80-row one, shown as insufficient data (75% drifted is no verdict).
    latest = _view(world, small.AS_OF.replace(day=14)).latest.iloc[-1]
    assert latest["window_end"] == small.at("2026-03-08T00:00")
    assert (latest["drifted_share"], latest["insufficient"], latest["status"]) == (
        0.75, True, Status.UNKNOWN)
