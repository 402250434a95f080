"""MLflow collection against the MLflow server's own REST ceiling.

Usage: .venv/bin/python benchmarks/mlflow_collect.py [--runs 200] [--metrics 4]
       [--steps 250] [--threads 8] [--server-workers 2]
Logs `--runs` runs of `--metrics` metrics over `--steps` steps into a SQLite tracking
store, serves it with a real `mlflow server` on 127.0.0.1, then prints points/s of:
(1) the ceiling: every metric history read straight through MlflowClient, one at a time
and `--threads` at a time (what the server can answer; nothing dspo does is counted);
(2) dspo's collector alone (`parallel_reads` 1 and `--threads`), as a share of the
parallel ceiling (issue 10's goal: >= 90%); (3) `run_sources` into a fresh SQLite store.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "collectors"))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")

from mlflow_fixtures import mlflow_server  # noqa: E402

from collectors.mlflow_tracking import MlflowCollector  # noqa: E402
from collectors.runner import run_sources  # noqa: E402
from config.sources.mlflow import MlflowSource  # noqa: E402
from store.db import Store  # noqa: E402
from store.records import Point  # noqa: E402

T0_MS = int(datetime(2026, 3, 2, 9, tzinfo=UTC).timestamp() * 1000)
BATCH = 1000  # MLflow's log_batch limit on metrics per call


def build(uri: str, runs: int, metrics: int, steps: int) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(uri)
    experiment = client.create_experiment("bench")
    for i in range(runs):
        run = client.create_run(experiment, run_name=f"run-{i}", start_time=T0_MS + i * 60_000)
        values = [Metric(f"m{k}", 0.5 + (i + s + k) % 97 / 200, T0_MS + i * 60_000 + s, s)
                  for k in range(metrics) for s in range(steps)]
        for start in range(0, len(values), BATCH):
            client.log_batch(run.info.run_id, metrics=values[start:start + BATCH])
        client.set_terminated(run.info.run_id, end_time=T0_MS + i * 60_000 + steps)


def ceiling(url: str, threads: int) -> tuple[int, float]:
    """Points and seconds to read every history straight through MlflowClient."""
    from mlflow import MlflowClient

    client = MlflowClient(url)
    runs = client.search_runs(client.search_experiments()[0].experiment_id, max_results=50000)
    jobs = [(r.info.run_id, key) for r in runs for key in r.data.metrics]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        points = sum(pool.map(lambda job: len(client.get_metric_history(*job)), jobs))
    return points, time.perf_counter() - t0


def timed(collect: Callable[[], object]) -> tuple[int, float]:
    t0 = time.perf_counter()
    points = sum(isinstance(r, Point) for r in collect())  # type: ignore[attr-defined]
    return points, time.perf_counter() - t0


def source(url: str, threads: int) -> MlflowSource:
    return MlflowSource(name="mlflow", kind="mlflow", product="p", tracking_uri=url,
                        parallel_reads=threads, deadline="1h", read_timeout="120s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--metrics", type=int, default=4)
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--server-workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        t0 = time.perf_counter()
        build(f"sqlite:///{root / 'server.db'}", args.runs, args.metrics, args.steps)
        print(f"{args.runs} runs x {args.metrics} metrics x {args.steps} steps logged in "
              f"{time.perf_counter() - t0:.0f} s; server: mlflow server, "
              f"{args.server_workers} worker(s), SQLite backend")
        with mlflow_server(root, workers=args.server_workers) as url:
            ceiling(url, args.threads)  # warm-up: the server's first answers are slower
            rows: list[tuple[str, int, float]] = []
            for threads in (1, args.threads):
                rows.append((f"ceiling: MlflowClient, {threads} thread(s)",
                             *ceiling(url, threads)))
            for threads in (1, args.threads):
                collector = MlflowCollector(source(url, threads))
                rows.append((f"dspo collector, parallel_reads={threads}",
                             *timed(lambda c=collector: c.collect(None, datetime.now(UTC)))))
            store = Store(f"sqlite:///{root / 'dspo.db'}")
            store.upgrade()
            t0 = time.perf_counter()
            [result] = run_sources(store, [source(url, args.threads)])
            assert result.status == "ok", result.error
            rows.append((f"run_sources into SQLite, parallel_reads={args.threads}",
                         result.records, time.perf_counter() - t0))
            store.dispose()
    best = rows[1][1] / rows[1][2]
    print(f"| {'what':<48} | points | seconds | points/s | of the parallel ceiling |")
    print(f"|{'-' * 50}|-------:|--------:|---------:|------------------------:|")
    for name, points, seconds in rows:
        rate = points / seconds
        print(f"| {name:<48} | {points:,} | {seconds:.1f} | {rate:,.0f} | {rate / best:.0%} |")
    print("(run_sources counts every record: runs, points, registry)")


if __name__ == "__main__":
    main()
