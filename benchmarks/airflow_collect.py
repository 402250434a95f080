"""Collection throughput of the airflow source: records (runs + tasks + points) per second.

Usage: .venv/bin/python benchmarks/airflow_collect.py [--runs 2000] [--tasks 5] [--dags 4]
       .venv/bin/python benchmarks/airflow_collect.py --url http://127.0.0.1:8080 \\
           --username admin --password admin   # a real Airflow instead of the fake

Against the fake Airflow of the tests (tests/fakes/fake_airflow.py, one local HTTP server
thread), for Airflow 3 (apache-airflow-client) and Airflow 2 (RestClient): the first, full
collection read by the collector alone, then the same through `run_sources` into a fresh
SQLite store (reading and writing). Prints records/s and requests made.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fakes"))


def measure(settings: object, label: str) -> None:
    import collectors.airflow3  # noqa: F401 - the client's import (~0.8 s) is not collection
    from collectors.airflow import AirflowCollector
    from collectors.runner import run_sources
    from store.db import Store

    t0 = time.perf_counter()
    records = list(AirflowCollector(settings).collect(None, datetime.now(UTC)))  # type: ignore[arg-type]
    read_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/dspo.db")
        store.upgrade()
        t0 = time.perf_counter()
        [result] = run_sources(store, [settings])  # type: ignore[list-item]
        total_s = time.perf_counter() - t0
        store.dispose()
    print(f"{label}: {len(records)} records read in {read_s:.2f} s = "
          f"{len(records) / read_s:,.0f} records/s; through run_sources into SQLite "
          f"{result.records} records, {result.rows} rows in {total_s:.2f} s = "
          f"{result.records / total_s:,.0f} records/s ({result.status})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=5)
    parser.add_argument("--dags", type=int, default=4)
    parser.add_argument("--url")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="admin")
    args = parser.parse_args()

    from config.sources.airflow import AirflowSource

    if args.url:
        measure(AirflowSource(name="bench", kind="airflow", product="p", url=args.url,
                              username=args.username, password=args.password),
                f"real Airflow at {args.url}")
        return

    from fake_airflow import T0, FakeAirflow

    for major in ("3", "2"):
        with FakeAirflow(major=major) as fake:
            tasks = [(f"task_{i}", "success") for i in range(args.tasks)]
            for i in range(args.runs):
                fake.add_run(f"dag_{i % args.dags}", start=T0 + timedelta(minutes=i),
                             tasks=tasks)
            settings = AirflowSource(name="bench", kind="airflow", product="p", url=fake.url,
                                     version=major, username="admin", password="admin",
                                     deadline="30m")
            measure(settings, f"Airflow {major} fake, {args.runs} runs x {args.tasks} tasks")
            print(f"  requests: {len(fake.requests) // 2} per collection")


if __name__ == "__main__":
    main()
