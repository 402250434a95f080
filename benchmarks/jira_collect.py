"""Throughput of the `jira` collector against the fake Jira (Cloud and Data Center).

Usage: .venv/bin/python benchmarks/jira_collect.py [--issues 2000] [--changes 10]
Builds a fake site on 127.0.0.1 with that many issues, each with `--changes` changelog
entries (status flips and a re-estimate) and one issue in 20 with 60 more (past Cloud's
embedded 40, so its changelog is read from the paged endpoint), then times (1) the
collector alone and (2) `run_sources` into a fresh SQLite store. Prints records/s.
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

from fake_jira_agile import FakeJiraAgile  # noqa: E402

from collectors.jira_collector import JiraCollector  # noqa: E402
from collectors.runner import run_sources  # noqa: E402
from config.sources.jira import JiraSource  # noqa: E402
from store.db import Store  # noqa: E402

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
TOKEN = "benchmark-token"


def build(fake: FakeJiraAgile, issues: int, changes: int) -> None:
    fake.add_board(1, "DS")
    for n in range(1, 11):
        start = T0 + timedelta(days=14 * (n - 1))
        fake.add_sprint(1, n, "closed", start, start + timedelta(days=14),
                        start + timedelta(days=14))
    flips = ("To Do", "In Progress")
    for i in range(issues):
        key = f"DS-{i + 1}"
        created = T0 + timedelta(minutes=i)
        fake.add_issue(key, created, points=3, sprints=[1 + i % 10], labels=["ml"])
        extra = 60 if i % 20 == 0 else 0
        for c in range(changes - 1 + extra):
            fake.change(key, created + timedelta(hours=c + 1), "status", flips[c % 2],
                        flips[(c + 1) % 2])
        fake.change(key, created + timedelta(hours=changes + extra), "points", 3, 5)
    for n in range(1, 11):
        fake.set_report(n, completed={f"DS-{n}": (3, 5)})


def settings(fake: FakeJiraAgile, page_size: int) -> JiraSource:
    auth = {"email": fake.email} if fake.cloud else {}
    return JiraSource(name="jira", kind="jira", product="ds", url=fake.url, token=TOKEN,
                      deployment="cloud" if fake.cloud else "datacenter", project="DS",
                      page_size=page_size, deadline="30m", **auth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    for deployment in ("Cloud", "DataCenter"):
        with FakeJiraAgile(deployment=deployment, token=TOKEN) as fake:
            build(fake, args.issues, args.changes)
            source = settings(fake, args.page_size)
            t0 = time.perf_counter()
            records = sum(1 for _ in JiraCollector(source).collect(None, T0))
            collect = time.perf_counter() - t0
            requests = len(fake.requests)
            with tempfile.TemporaryDirectory() as folder:
                store = Store(f"sqlite:///{Path(folder) / 'dspo.db'}")
                store.upgrade()
                t0 = time.perf_counter()
                [result] = run_sources(store, [source], clock=lambda: T0 + timedelta(days=200))
                stored = time.perf_counter() - t0
                store.dispose()
            print(f"{deployment}: {args.issues} issues, {records} records, {requests} requests;"
                  f" collect {collect:.1f} s = {records / collect:,.0f} records/s;"
                  f" collect + write (SQLite) {stored:.1f} s = "
                  f"{result.records / stored:,.0f} records/s, {result.rows} rows")


if __name__ == "__main__":
    main()
