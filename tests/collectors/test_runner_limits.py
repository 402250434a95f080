"""Sources that never stall: deadlines, statement timeouts, concurrency, leases, abandoned runs.

The collectors here are small test kinds whose settings subclass `SourceBase` directly: the
runner needs only `type(settings).collector`, not a registered entry point. They block the
way real sources do (a wait nothing interrupts, a query that never ends), so the tests show
the runner's guarantees rather than a collector's good manners.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal

import pytest
from sqlalchemy import text

from collectors.base import Collector
from collectors.runner import run_source, run_sources
from config.sources import SourceBase
from config.sources.files import FilesSource
from config.sources.sql import SqlKpiQuery, SqlKpisSource
from store import queries
from store.collector_runs import acquire_lease, start_collector_run
from store.db import Store
from store.records import Point, Record, SeriesKind

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
ITEMS = (
    "key,title,type,status,status_category,points,created\n"
    "A-1,First,Story,Done,done,3,2026-02-01T10:00:00Z\n"
)
RELEASE = threading.Event()  # set at teardown so no test thread outlives its test for long
BARRIER = threading.Barrier(2, timeout=10)


@pytest.fixture(autouse=True)
def _release_blocked_threads() -> Iterator[None]:
    RELEASE.clear()
    BARRIER.reset()
    yield
    RELEASE.set()


class BlockingSource(SourceBase):
    """Blocks in a wait no deadline check reaches, as a client stuck in a socket read does."""

    collector: ClassVar[str | None] = f"{__name__}:BlockingCollector"
    kind: Literal["blocking"] = "blocking"


class BlockingCollector(Collector[BlockingSource]):
    kind = "blocking"

    @property
    def where(self) -> str:
        return "nowhere:blocking"

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        RELEASE.wait(60)
        yield Point(self.product, SeriesKind.USAGE, "late", until, 1.0)


class MeetingSource(SourceBase):
    """Two of these finish only if they run at the same time (a barrier of two)."""

    collector: ClassVar[str | None] = f"{__name__}:MeetingCollector"
    kind: Literal["meeting"] = "meeting"


class MeetingCollector(Collector[MeetingSource]):
    kind = "meeting"

    @property
    def where(self) -> str:
        return "nowhere:meeting"

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        BARRIER.wait()
        yield Point(self.product, SeriesKind.USAGE, self.name, T0, 1.0)


def _files(tmp_path: Path) -> FilesSource:
    items = tmp_path / "items.csv"
    items.write_text(ITEMS)
    return FilesSource(name="backlog", kind="files", product="p", items=items)


def test_a_blocked_source_fails_at_its_deadline_and_the_others_finish(
    store: Store, tmp_path: Path
) -> None:
    stuck = BlockingSource(name="stuck", product="p", deadline=timedelta(seconds=1))
    t0 = time.monotonic()
    results = run_sources(store, [stuck, _files(tmp_path)])
    elapsed = time.monotonic() - t0
    by_name = {r.source: r for r in results}
    assert by_name["backlog"].status == "ok" and by_name["backlog"].rows > 0
    assert by_name["stuck"].status == "failed"
    assert "deadline of 1s exceeded" in (by_name["stuck"].error or "")
    assert "'stuck'" in (by_name["stuck"].error or "")
    assert elapsed < 10, f"a 1 s deadline held the run for {elapsed:.1f} s"
    RELEASE.set()  # the abandoned thread now yields; nothing of it may reach the store
    time.sleep(0.2)
    status = queries.collector_status(store).set_index("source")
    assert status.loc["stuck", "status"] == "failed"
    assert queries.series_points(store, "p", "usage", "late").empty


def test_sources_run_concurrently(store: Store) -> None:
    a = MeetingSource(name="a", product="p", deadline=timedelta(seconds=20))
    b = MeetingSource(name="b", product="p", deadline=timedelta(seconds=20))
    results = run_sources(store, [a, b], parallel=2)
    assert [(r.source, r.status) for r in results] == [("a", "ok"), ("b", "ok")]


def test_one_at_a_time_when_parallel_is_one(store: Store) -> None:
    a = MeetingSource(name="a", product="p", deadline=timedelta(seconds=3))
    b = MeetingSource(name="b", product="p", deadline=timedelta(seconds=3))
    BARRIER._timeout = 1  # type: ignore[attr-defined]  # fail fast: they can never meet
    try:
        results = run_sources(store, [a, b], parallel=1)
    finally:
        BARRIER._timeout = 10  # type: ignore[attr-defined]
    assert [r.status for r in results] == ["failed", "failed"]


def test_a_rerun_with_nothing_new_writes_no_rows(store: Store, tmp_path: Path) -> None:
    files = _files(tmp_path)
    first, second = run_sources(store, [files]), run_sources(store, [files])
    assert first[0].rows > 0 and first[0].records == 1
    assert (second[0].status, second[0].rows, second[0].records) == ("ok", 0, 1)
    runs = queries.collector_status(store).set_index("source")
    assert runs.loc["backlog", "rows_written"] == 0 and runs.loc["backlog", "records_read"] == 1


def test_a_held_lease_skips_the_source(store: Store, tmp_path: Path) -> None:
    files = _files(tmp_path)
    with store.session() as s:
        assert acquire_lease(s, "backlog", "other-host:1", datetime.now(UTC),
                             timedelta(minutes=5)) is None
    [result] = run_sources(store, [files])
    assert result.status == "skipped" and result.ok
    assert "already running in other-host:1" in (result.error or "")
    assert queries.backlog_items(store, "p").empty


def test_a_dead_holders_lease_is_taken_and_its_run_marked_abandoned(
    store: Store, tmp_path: Path
) -> None:
    """A process killed mid-run leaves its lease and a 'running' row; the next run on this
    host sees the holder's pid is gone, takes over and closes the row as abandoned."""
    import socket

    dead = f"{socket.gethostname()}:{_dead_pid()}"
    now = datetime.now(UTC)
    with store.session() as s:
        assert acquire_lease(s, "backlog", dead, now, timedelta(hours=1)) is None
        start_collector_run(s, "backlog", "files", now - timedelta(minutes=1), dead)
    [result] = run_sources(store, [_files(tmp_path)])
    assert result.status == "ok"
    with store.session() as s:
        rows = s.execute(text(
            "SELECT status, holder, error FROM collector_run WHERE source = 'backlog' "
            "ORDER BY id")).all()
    assert [r.status for r in rows] == ["abandoned", "ok"]
    assert rows[0].holder == dead and "stopped before it finished" in rows[0].error


def test_two_runners_race_and_one_runs(store: Store, tmp_path: Path) -> None:
    stuck = BlockingSource(name="stuck", product="p", deadline=timedelta(seconds=2))
    results: list[str] = []

    def go(holder: str) -> None:
        results.append(run_source(store, stuck, holder=holder).status)

    threads = [threading.Thread(target=go, args=(f"h:{i}",)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(results) == ["failed", "skipped"]  # one ran into its deadline, one waited


def _dead_pid() -> int:
    """A pid no process has: that of a child that has exited and been reaped."""
    import subprocess

    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


# ------------------------------------------------------------ statement timeouts


RUNAWAY_SQLITE = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
    "SELECT '2026-03-01' AS ts, max(x) AS value FROM c"
)


def test_a_runaway_sqlite_query_is_cancelled_at_the_read_timeout(
    store: Store, tmp_path: Path
) -> None:
    db = tmp_path / "product.db"
    sqlite3.connect(db).close()
    runaway = SqlKpisSource(
        name="runaway", kind="sql_kpis", product="p", url=f"sqlite:///{db}",
        queries=[SqlKpiQuery(name="forever", sql=RUNAWAY_SQLITE)],
        read_timeout=timedelta(seconds=1), deadline=timedelta(seconds=30),
    )
    t0 = time.monotonic()
    results = run_sources(store, [runaway, _files(tmp_path)])
    elapsed = time.monotonic() - t0
    assert [r.status for r in results] == ["failed", "ok"]
    error = results[0].error or ""
    assert "'runaway'" in error and "forever" in error
    assert "time limit of 1s" in error and "cancelled by the database" in error
    assert elapsed < 15


@pytest.mark.postgres
def test_a_runaway_postgresql_query_is_cancelled_by_statement_timeout(
    store: Store, pg_url: str
) -> None:
    runaway = SqlKpisSource(
        name="runaway", kind="sql_kpis", product="p", url=pg_url,
        queries=[SqlKpiQuery(name="sleepy",
                             sql="SELECT now() AS ts, 1 AS value FROM pg_sleep(60)")],
        read_timeout=timedelta(seconds=1), deadline=timedelta(seconds=30),
    )
    t0 = time.monotonic()
    [result] = run_sources(store, [runaway])
    assert result.status == "failed"
    assert "time limit of 1s" in (result.error or "")
    assert "postgres@" in (result.error or "") or "127.0.0.1" in (result.error or "")
    assert time.monotonic() - t0 < 15
