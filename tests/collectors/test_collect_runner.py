"""The runner: one transaction per source, failures isolated and recorded, watermarks owned.

Runs real collectors (files, sql_kpis) against real files and a real SQLite product
database, on both store backends.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collectors.runner import run_sources
from config.schema import FilesSource, SqlKpiQuery, SqlKpisSource
from store import queries
from store.collector_runs import last_watermark
from store.db import Store

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
DAU = SqlKpiQuery(name="dau", sql="SELECT day AS ts, users AS value FROM daily")
ITEMS = """key,title,type,status,status_category,points,created
A-1,First,Story,Done,done,3,2026-02-01T10:00:00Z
A-2,Second,Bug,To Do,todo,2,2026-02-02T10:00:00Z
"""


def _clock(*instants: datetime):  # type: ignore[no-untyped-def]
    it = iter(instants)
    return lambda: next(it)


@pytest.fixture
def product_db(tmp_path: Path) -> str:
    path = tmp_path / "product.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE daily (day TEXT, users INTEGER)")
    con.executemany("INSERT INTO daily VALUES (?, ?)", [("2026-03-01", 10), ("2026-03-02", 12)])
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def _sources(tmp_path: Path, product_db: str) -> tuple[FilesSource, SqlKpisSource, SqlKpisSource]:
    items = tmp_path / "items.csv"
    items.write_text(ITEMS)
    files = FilesSource(name="backlog", kind="files", product="p", items=items)
    broken = SqlKpisSource(name="broken-db", kind="sql_kpis", product="p",
                           url=f"sqlite:///{tmp_path / 'missing' / 'nope.db'}",
                           queries=[DAU])
    usage = SqlKpisSource(name="usage", kind="sql_kpis", product="p", url=product_db,
                          queries=[DAU])
    return files, broken, usage


def test_a_failing_source_does_not_stop_the_others(store: Store, tmp_path: Path,
                                                   product_db: str) -> None:
    files, broken, usage = _sources(tmp_path, product_db)
    clock = _clock(*(T0 + timedelta(seconds=i) for i in range(20)))
    # one at a time, so each source takes its instants from the scripted clock in order
    results = run_sources(store, [files, broken, usage], clock=clock, parallel=1)
    assert [(r.source, r.ok) for r in results] == [
        ("backlog", True), ("broken-db", False), ("usage", True)]
    # backlog: 2 items (its key listing for deletions is not counted); usage: 2 points
    assert results[0].records == 2 and results[2].records == 2
    error = results[1].error or ""
    assert "broken-db" in error and "nope.db" in error
    status = queries.collector_status(store).set_index("source")
    assert status.loc["broken-db", "status"] == "failed"
    assert "broken-db" in status.loc["broken-db", "error"]
    assert status.loc["usage", "status"] == "ok"
    assert len(queries.series_points(store, "p", "usage", "dau")) == 2
    with store.session() as s:
        # the watermark is the run's start, capped there by the runner; none for the failure
        assert last_watermark(s, "backlog") == T0
        assert last_watermark(s, "broken-db") is None


def test_a_failed_run_keeps_what_was_stored(store: Store, tmp_path: Path,
                                            product_db: str) -> None:
    files, _, _ = _sources(tmp_path, product_db)
    first = run_sources(store, [files], clock=_clock(T0, T0, T0))
    assert first[0].ok
    files.items.write_text(ITEMS + "A-3,Third,Story,Done,done,not-a-number,2026-02-03T10:00:00Z\n")
    later = T0 + timedelta(hours=1)
    second = run_sources(store, [files], clock=_clock(later, later, later))
    assert not second[0].ok
    assert "items.csv" in (second[0].error or "") and "4" in (second[0].error or "")
    items = queries.backlog_items(store, "p")
    assert sorted(items["key"]) == ["A-1", "A-2"]  # nothing lost, nothing half-written
    with store.session() as s:
        assert last_watermark(s, "backlog") == T0  # the failed run did not move it


def test_rerunning_writes_no_duplicates(store: Store, tmp_path: Path, product_db: str) -> None:
    files, _, usage = _sources(tmp_path, product_db)
    for i in range(3):
        at = T0 + timedelta(hours=i)
        runs = run_sources(store, [files, usage], clock=_clock(*[at] * 6), parallel=1)
        assert all(r.ok for r in runs)
    assert len(queries.backlog_items(store, "p")) == 2
    assert len(queries.series_points(store, "p", "usage", "dau")) == 2


def test_disabled_sources_are_skipped(store: Store, tmp_path: Path, product_db: str) -> None:
    files, _, _ = _sources(tmp_path, product_db)
    off = files.model_copy(update={"enabled": False})
    assert run_sources(store, [off]) == []
