"""The Sources page's service on hand-made collector runs (SQLite and PostgreSQL): each
figure worked out by hand next to its assert."""

from __future__ import annotations

from datetime import datetime, timedelta

from world import small

from config.schema import FilesSource
from dashboard.services.sources import build_sources
from kpis.health import Status
from store.collector_runs import finish_collector_run, start_collector_run
from store.db import Store

NOW = small.AS_OF
PRODUCT = small.product_config()


def _run(store: Store, started: datetime, status: str, seconds: float | None,
         rows: int) -> None:
    with store.session() as session:
        run = start_collector_run(session, "tracker", "files", started, "host:1")
        if seconds is not None:
            finish_collector_run(session, run, status=status, rows_written=rows,
                                 records_read=rows, error=None, watermark=None,
                                 finished=started + timedelta(seconds=seconds))


def test_last_run_freshness_and_recent_runs(store: Store) -> None:
    tracker = FilesSource(name="tracker", kind="files", product="shop", items="items.csv",
                          interval=timedelta(hours=1))
    later = FilesSource(name="later", kind="files", product="shop", items="items.csv")
    other = FilesSource(name="elsewhere", kind="files", product="other", items="items.csv")
    # ok 3 h ago (40 s, 12 rows), ok 90 min ago (20 s, 3 rows), still running since 5 min
    _run(store, NOW - timedelta(hours=3), "ok", 40, 12)
    _run(store, NOW - timedelta(minutes=90), "ok", 20, 3)
    _run(store, NOW - timedelta(minutes=5), "running", None, 0)
    views = build_sources(store, PRODUCT, [tracker, later, other], as_of=NOW)
    assert [v.source.name for v in views] == ["tracker", "later"]  # the product's only
    mine, never = views
    # the running one is the last; its data is 90 min - 20 s old: within 2 x 1 h
    assert mine.last is not None and mine.last["status"] == "running"
    assert mine.health.status is Status.GREEN
    assert mine.health.since_success == timedelta(minutes=90) - timedelta(seconds=20)
    # newest first: still running (no duration), 20 s, 40 s
    assert list(mine.runs["took_s"].iloc[1:]) == [20.0, 40.0]
    assert mine.runs["took_s"].isna().iloc[0]
    # over the three shown: 2 ok, none failed, median of 20 and 40 s = 30 s, 15 rows
    summary = mine.summary
    assert (summary.runs, summary.ok, summary.failed) == (3, 2, 0)
    assert (summary.median_seconds, summary.rows_written) == (30.0, 15)
    assert never.last is None and never.health.status is Status.UNKNOWN
