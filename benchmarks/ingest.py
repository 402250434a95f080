"""Ingest rate through the collectors' runner: records/s into SQLite and PostgreSQL.

Usage: .venv/bin/python benchmarks/ingest.py [--points 200000] [--mixed 50000]
       [--backend sqlite|postgresql|both] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

A benchmark source (a collector defined here, run by `collectors.runner.run_source` exactly
as `dspo collect` runs a real one: lease, worker thread, deadline, one transaction with the
watermark) yields either `--points` MLflow-shaped metric points (runs of 4 metrics with
`run_id`/`experiment` labels, one `Run` record per run) or `--mixed` records of the other
kinds (pipeline runs with tasks, backlog items with events, drift reports with features,
data quality, usage points). Each is written three times into a fresh store: the first
write, an identical re-write (idempotent: 0 rows written) and a write with every value
changed. SQLite is a file in a temporary folder; PostgreSQL a scratch database
(`dspo_ingest_bench`) created and dropped on the given server. Each backend runs in its own
child process so the peak RSS column (reset before each pass through /proc) is its own.

Then `write_records` alone on the same points built beforehand (the writer's own rate, first
write and re-write). The last line per backend is the ceiling: raw DBAPI inserts of the same
points into a bare table (sqlite3 executemany; psycopg COPY), with no dspo code at all.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors.base import Collector  # noqa: E402
from collectors.runner import run_source  # noqa: E402
from config.sources import SourceBase  # noqa: E402
from store import records as r  # noqa: E402
from store.db import Store, normalize_url  # noqa: E402
from store.writer import write_records  # noqa: E402

T0 = datetime(2025, 1, 1, tzinfo=UTC)
METRICS = ("loss", "accuracy", "auc", "f1")
SCRATCH_DB = "dspo_ingest_bench"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# What the benchmark collector yields: (scenario, size, value offset); set before each run.
PLAN: dict[str, object] = {}


def metric_points(count: int, shift: float, product: str = "bench") -> Iterator[r.Record]:
    """MLflow-shaped: 500-step histories of 4 metrics per run, a `Run` record per run."""
    steps = 500
    runs = max(1, count // (steps * len(METRICS)))
    for i in range(runs):
        run_id = f"run-{i:05d}"
        yield r.Run(product, run_id, "exp", f"run {i}", "FINISHED", T0 + timedelta(hours=i))
        labels = {"run_id": run_id, "experiment": "exp"}
        for name in METRICS:
            for step in range(steps):
                yield r.Point(product, r.SeriesKind.MODEL_METRIC, name,
                              T0 + timedelta(hours=i, seconds=step), step / steps + shift,
                              labels, step=step)


def mixed_records(count: int, shift: float) -> Iterator[r.Record]:
    """Every other kind in roughly even shares of `count` records."""
    unit = max(1, count // 10)
    for i in range(unit):
        run_id = f"dag-{i}"
        yield r.PipelineRun("bench", "airflow", f"dag{i % 20}", run_id, r.PipelineState.SUCCESS,
                            T0 + timedelta(minutes=i), duration=60 + shift)
        for t in range(3):
            yield r.PipelineTask("bench", run_id, f"task{t}", "success",
                                 duration=10 + t + shift)
    for i in range(unit):
        key = f"DS-{i}"
        yield r.BacklogItem("bench", key, f"Item {i} — ünïcode", "story", "Done",
                            r.StatusCategory.DONE, T0 + timedelta(hours=i), points=3 + shift)
        for f, field in enumerate((r.ItemField.STATUS, r.ItemField.POINTS)):
            yield r.ItemEvent("bench", key, T0 + timedelta(hours=i, minutes=f), field,
                              "a", f"b{shift}")
    for i in range(unit // 10):
        features = tuple(r.DriftFeature(f"c{c}", "psi", 0.1 + shift, 0.2, False)
                         for c in range(9))
        yield r.DriftReport("bench", "scoring", T0 + timedelta(days=i),
                            T0 + timedelta(days=i + 1), False, 0.1 + shift, 1, 9, features)
        yield r.DataQuality("bench", "scoring", T0 + timedelta(days=i), 1000, 9, 0.01 + shift)
    for i in range(unit):
        yield r.Point("bench", r.SeriesKind.USAGE, f"kpi{i % 50}",
                      T0 + timedelta(days=i // 50), 100.0 + shift)


class BenchSource(SourceBase):
    collector: ClassVar[str | None] = f"{__name__}:BenchCollector"
    kind: Literal["bench"] = "bench"


class BenchCollector(Collector[BenchSource]):
    kind = "bench"

    @property
    def where(self) -> str:
        return "benchmark generator"

    def collect(self, since: datetime | None, until: datetime) -> Iterator[r.Record]:
        make = metric_points if PLAN["scenario"] == "points" else mixed_records
        yield from make(int(PLAN["size"]), float(PLAN["shift"]))  # type: ignore[arg-type]


def reset_peak_rss() -> None:
    """Linux resets VmHWM when 5 is written to clear_refs."""
    Path(f"/proc/{os.getpid()}/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_passes(store: Store, scenario: str, size: int, backend: str) -> None:
    source = BenchSource(name=f"bench-{scenario}", product="bench",
                         deadline=timedelta(hours=1))
    for label, shift in (("first write", 0.0), ("re-write", 0.0), ("all changed", 1.0)):
        PLAN.update(scenario=scenario, size=size, shift=shift)
        reset_peak_rss()
        t0, cpu0 = time.perf_counter(), time.process_time()
        result = run_source(store, source)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        if result.status != "ok":
            raise SystemExit(f"{scenario} {label}: {result.error}")
        print(f"| {backend} | {scenario} | {label} | {result.records:,} | {result.rows:,} | "
              f"{seconds:.2f} | {result.records / seconds:,.0f} | {cpu:.2f} | "
              f"{peak_rss_mb():,.0f} |", flush=True)


def writer_only(store: Store, size: int, backend: str) -> None:
    """`write_records` alone on records built beforehand (another product's): the writer's
    own rate, without a collector making records or the runner's thread hand-over."""
    records = list(metric_points(size, 0.0, product="bench-writer"))
    for label in ("first write", "re-write"):
        t0, cpu0 = time.perf_counter(), time.process_time()
        with store.writing(), store.session() as session:
            written = write_records(session, "bench-writer", records)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        print(f"| {backend} | points, writer only | {label} | {written.records:,} | "
              f"{written.rows:,} | {seconds:.2f} | {written.records / seconds:,.0f} | "
              f"{cpu:.2f} | |", flush=True)


def raw_ceiling(url: str, backend: str, size: int) -> None:
    """The same points into a bare 4-column table straight through the driver."""
    rows = [(i // 500, T0 + timedelta(seconds=i), i % 500, i / size) for i in range(size)]
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP TABLE IF EXISTS raw_point"))
        c.execute(text("CREATE TABLE raw_point (series_id integer, ts timestamp, step integer,"
                       " value float, UNIQUE (series_id, ts, step))"))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        t0 = time.perf_counter()
        if backend == "sqlite":
            text_rows = [(a, b.isoformat(sep=" "), c, d) for a, b, c, d in rows]
            cursor.executemany("INSERT INTO raw_point VALUES (?, ?, ?, ?)", text_rows)
        else:
            with cursor.copy("COPY raw_point FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
        raw.commit()
        seconds = time.perf_counter() - t0
    finally:
        raw.close()
        engine.dispose()
    print(f"| {backend} | raw driver ceiling | insert | {size:,} | {size:,} | {seconds:.2f} | "
          f"{size / seconds:,.0f} | | |", flush=True)


def scratch_pg(admin_url: str) -> tuple[str, object]:
    admin = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}"'))
        c.execute(text(f'CREATE DATABASE "{SCRATCH_DB}"'))
    url = normalize_url(admin_url).set(database=SCRATCH_DB).render_as_string(hide_password=False)
    return url, admin


def child(backend: str, points: int, mixed: int, pg_url: str) -> None:
    """Every pass of one backend, in this process."""
    with tempfile.TemporaryDirectory() as tmp:
        admin = None
        if backend == "sqlite":
            url = f"sqlite:///{tmp}/dspo.db"
        else:
            url, admin = scratch_pg(pg_url)
        store = Store(url)
        try:
            store.upgrade()
            if points:
                run_passes(store, "points", points, backend)
            if mixed:
                run_passes(store, "mixed", mixed, backend)
            if points:
                writer_only(store, points, backend)
            raw_ceiling(url, backend, points or mixed)
        finally:
            store.dispose()
            if admin is not None:
                with admin.connect() as c:  # type: ignore[attr-defined]
                    c.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}"'))
                admin.dispose()  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--mixed", type=int, default=50_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.backend, args.points, args.mixed, args.pg_url)
        return
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; CPU s is "
          "this process's (dspo's side; PostgreSQL's server work is not in it)")
    print("| backend | records | pass | records | rows written | s | records/s | CPU s "
          "| peak RSS MB |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|", flush=True)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        subprocess.run(
            [sys.executable, __file__, "--child", "--backend", backend, "--points",
             str(args.points), "--mixed", str(args.mixed), "--pg-url", args.pg_url],
            check=True, env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
        )


if __name__ == "__main__":
    main()
