"""A collection killed midway (a real `dspo collect` process, SIGKILL) loses and doubles
nothing: its transaction never commits, its run is marked abandoned by the next one, and the
next run picks up from the last good watermark."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from store import queries
from store.db import Store

# Counts to 3e7 before answering: seconds of work, so the kill lands mid-query.
SLOW_DAU = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) "
    "SELECT day AS ts, users AS value FROM daily WHERE (SELECT max(x) FROM c) > 0"
)


def write_config(tmp_path: Path, store: Store, product_db: Path, items: Path) -> Path:
    config = tmp_path / "dspo.yaml"
    config.write_text(f"""
store:
  url: "{store.url}"
products:
  - key: p
    name: P
sources:
  - name: backlog
    kind: files
    product: p
    items: {items}
  - name: usage
    kind: sql_kpis
    product: p
    url: sqlite:///{product_db}
    read_timeout: 10m
    queries:
      - name: dau
        sql: "{SLOW_DAU}"
""")
    return config


def dspo(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    return subprocess.Popen([sys.executable, "-m", "dspo.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def runs(store: Store, source: str) -> list[tuple[str, int]]:
    with store.session() as s:
        return [tuple(r) for r in s.execute(text(  # type: ignore[misc]
            "SELECT status, rows_written FROM collector_run WHERE source = :s ORDER BY id"),
            {"s": source}).all()]


def test_sigkill_midway_then_the_next_run_completes(store: Store, tmp_path: Path) -> None:
    product_db = tmp_path / "product.db"
    con = sqlite3.connect(product_db)
    con.execute("CREATE TABLE daily (day TEXT, users INTEGER)")
    con.executemany("INSERT INTO daily VALUES (?, ?)", [("2026-03-01", 10), ("2026-03-02", 12)])
    con.commit()
    items = tmp_path / "items.csv"
    items.write_text("key,title,type,status,status_category,points,created\n"
                     "A-1,First,Story,Done,done,3,2026-02-01T10:00:00Z\n")
    config = write_config(tmp_path, store, product_db, items)
    store.upgrade()

    first = dspo("collect", "-c", str(config))
    assert first.wait(120) == 0, first.stdout.read().decode() if first.stdout else ""

    con.execute("INSERT INTO daily VALUES ('2026-03-03', 14)")  # new data for the next runs
    con.commit()
    con.close()
    killed = dspo("collect", "-c", str(config), "--source", "usage")
    deadline = time.monotonic() + 60
    while runs(store, "usage")[-1][0] != "running":
        assert time.monotonic() < deadline, "the second collect never started its run"
        time.sleep(0.05)
    time.sleep(0.5)  # well inside the multi-second query
    killed.send_signal(signal.SIGKILL)
    killed.wait(10)

    assert runs(store, "usage")[-1][0] == "running"  # as a killed process leaves it
    assert len(queries.series_points(store, "p", "usage", "dau")) == 2  # nothing half-written

    last = dspo("collect", "-c", str(config), "--source", "usage")
    output = last.stdout.read().decode() if last.stdout else ""
    assert last.wait(120) == 0, output
    assert [status for status, _ in runs(store, "usage")] == ["ok", "abandoned", "ok"]
    points = queries.series_points(store, "p", "usage", "dau")
    assert points["value"].tolist() == [10.0, 12.0, 14.0]  # nothing lost, nothing twice
    assert len(queries.backlog_items(store, "p")) == 1
