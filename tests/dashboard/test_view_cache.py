"""Per-worker caches of page results: computed once per change of the store, and never
served after a collection (or an alert evaluation) changed it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dashboard.app import create_app
from dashboard.cache import ViewCache
from dashboard.services.overview import build_overview
from store import records as r
from store.collector_runs import finish_collector_run, start_collector_run
from store.db import Store
from store.marker import change_marker
from store.writer import write_records
from tests.world import small

DAU = 3  # the small world's fourth objective: dau's 7-day mean


@pytest.fixture
def world(tmp_path: Path):
    built = small.build(tmp_path)
    store = Store(built.config.store.url)
    yield built, store, create_app(built.config, store)
    store.dispose()


def _collect(store: Store, records: list[r.Record]) -> None:
    """What the runner does: a collector run around the write."""
    at = small.AS_OF + timedelta(minutes=1)
    with store.session() as session:
        run = start_collector_run(session, "product-db", "sql_kpis", at)
        write_records(session, "product-db", records)
        finish_collector_run(session, run, status="ok", rows_written=len(records),
                             records_read=len(records), error=None, watermark=at, finished=at)


def test_a_page_is_computed_once_until_a_collection_changes_the_store(world) -> None:
    built, store, app = world
    product = built.product
    with app.server.test_request_context():
        first = build_overview(store, product, [], as_of=small.AS_OF)
        assert build_overview(store, product, [], as_of=small.AS_OF) is first
        # (8 Mar, 15 Mar 00:00]: 1,100 on 9-13 Mar, 600 on 14 and 15 Mar -> 6,700 / 7
        assert first.health[DAU].result.value == pytest.approx(6700 / 7)
        _collect(store, [r.Point(small.PRODUCT, r.SeriesKind.USAGE, "dau",
                                 small.at("2026-03-15T12:00"), 1700.0, unit="users")])
        after = build_overview(store, product, [], as_of=small.AS_OF)
    assert after is not first
    # the window now ends at 15 Mar 12:00: the same seven values and 1,700 -> 8,400 / 8
    assert after.health[DAU].result.value == pytest.approx(1050.0)


def test_outside_a_request_nothing_is_cached(world) -> None:
    built, store, _app = world
    one = build_overview(store, built.product, [], as_of=small.AS_OF)
    assert build_overview(store, built.product, [], as_of=small.AS_OF) is not one


def test_the_marker_moves_with_a_collection(world) -> None:
    _built, store, _app = world
    before = change_marker(store)
    assert change_marker(store) == before  # reading changes nothing
    _collect(store, [])
    assert change_marker(store) != before


def test_the_cache_keeps_the_most_recently_used_results() -> None:
    cache = ViewCache(size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == (True, 1)  # a is now the most recent
    cache.put("c", 3)  # evicts b, the least recently used
    assert cache.get("b") == (False, None)
    assert (cache.get("a"), cache.get("c"), len(cache)) == ((True, 1), (True, 3), 2)
