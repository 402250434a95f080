"""Throughput of the `github_actions` and `github_issues` collectors against the fake GitHub.

Usage: .venv/bin/python benchmarks/github_collect.py [--runs 5000] [--issues 2000]
Builds a fake GitHub on 127.0.0.1 with `--runs` workflow runs (three workflows, one run in
ten failed with two jobs) and `--issues` issues with timelines (labels, a milestone, a
close, one issue in four reopened and closed again), then times (1) each collector alone
and (2) `run_sources` into a fresh SQLite store. Prints records/s and the requests made.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fakes"))

from fake_github_api import FakeGithubApi  # noqa: E402

from collectors.github_actions import GithubActionsCollector  # noqa: E402
from collectors.github_issues import GithubIssuesCollector  # noqa: E402
from collectors.runner import run_sources  # noqa: E402
from config.sources import SourceBase  # noqa: E402
from config.sources.github import GithubActionsSource, GithubIssuesSource  # noqa: E402
from store.db import Store  # noqa: E402

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
TOKEN = "benchmark-token"
REPO = "acme/churn"


def build_runs(fake: FakeGithubApi, runs: int) -> None:
    workflows = [fake.add_workflow(REPO, name, f".github/workflows/{name.lower()}.yml")
                 for name in ("CI", "Train", "Score")]
    for i in range(runs):
        created = T0 - timedelta(minutes=10 * (i + 1))
        failed = i % 10 == 3
        run = fake.add_run(REPO, workflows[i % 3], created=created,
                           conclusion="failure" if failed else "success")
        if failed:
            fake.add_job(REPO, run, "lint", "success", created)
            fake.add_job(REPO, run, "test", "failure", created, minutes=3)


def build_issues(fake: FakeGithubApi, issues: int) -> None:
    start = T0 - timedelta(days=60)
    for s in range(5):
        fake.add_milestone(REPO, f"Sprint {s + 1}", start + timedelta(days=14 * (s + 1)))
    for i in range(issues):
        created = start + timedelta(minutes=20 * i)
        n = fake.add_issue(REPO, f"Issue {i}", created=created,
                           labels=(f"points:{1 + i % 5}", "bug" if i % 3 else "enhancement"),
                           milestone=f"Sprint {1 + i % 5}")
        fake.label(REPO, n, "in progress", created + timedelta(hours=2))
        fake.close(REPO, n, created + timedelta(days=2))
        if i % 4 == 0:
            fake.reopen(REPO, n, created + timedelta(days=3))
            fake.close(REPO, n, created + timedelta(days=4))


def measure(name: str, fake: FakeGithubApi, source: SourceBase,
            collect: Callable[[], Any]) -> None:
    t0 = time.perf_counter()
    records = sum(1 for _ in collect())
    alone = time.perf_counter() - t0
    requests = len(fake.requests)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'dspo.db'}")
        store.upgrade()
        t0 = time.perf_counter()
        [result] = run_sources(store, [source], clock=lambda: T0)
        stored = time.perf_counter() - t0
        store.dispose()
    assert result.status == "ok", result.error
    print(f"{name}: {records} records, {requests} requests; collect {alone:.1f} s = "
          f"{records / alone:,.0f} records/s; collect + write (SQLite) {stored:.1f} s = "
          f"{result.records / stored:,.0f} records/s, {result.rows} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--issues", type=int, default=2000)
    args = parser.parse_args()
    with FakeGithubApi(token=TOKEN, rate_limit=1_000_000) as fake:
        build_runs(fake, args.runs)
        actions = GithubActionsSource(name="gha", kind="github_actions", product="p",
                                      api_url=fake.api_url, token=TOKEN, repos=[REPO],
                                      keep_days=365, deadline="30m")
        measure(f"github_actions, {args.runs} runs", fake, actions,
                lambda: GithubActionsCollector(actions).collect(None, T0))
    with FakeGithubApi(token=TOKEN, rate_limit=1_000_000) as fake:
        build_issues(fake, args.issues)
        issues = GithubIssuesSource(name="ghi", kind="github_issues", product="p",
                                    api_url=fake.api_url, token=TOKEN, repo=REPO,
                                    in_progress_labels=["in progress"], deadline="30m")
        measure(f"github_issues, {args.issues} issues with timelines", fake, issues,
                lambda: GithubIssuesCollector(issues).collect(None, T0))


if __name__ == "__main__":
    main()
