"""Source freshness and run summaries on hand-made runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from kpis.health import Status
from kpis.sources import run_summary, source_health, took_seconds

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("last_status", "success_ago", "status", "reason"),
    [
        (None, None, Status.UNKNOWN, "never collected"),
        ("failed", None, Status.RED, "never collected successfully"),
        ("ok", H / 4, Status.GREEN, "fresh"),
        ("ok", 2 * H, Status.GREEN, "fresh"),  # exactly two intervals: not yet stale
        ("ok", 2 * H + timedelta(seconds=1), Status.RED, "stale"),
        ("failed", H, Status.AMBER, "last run failed"),
        ("abandoned", H, Status.AMBER, "last run abandoned"),
        ("failed", 3 * H, Status.RED, "stale"),
        ("running", H / 2, Status.GREEN, "fresh"),
    ],
    ids=["never-ran", "never-succeeded", "fresh", "edge", "stale", "failed-fresh",
         "abandoned-fresh", "failed-stale", "running"],
)
def test_source_health(last_status: str | None, success_ago: timedelta | None, status: Status,
                       reason: str) -> None:
    last_success = NOW - success_ago if success_ago is not None else None
    health = source_health(last_status, last_success, H, as_of=NOW)
    assert health.status is status
    assert health.reason.startswith(reason)
    assert health.since_success == success_ago


def test_run_summary() -> None:
    t = pd.Timestamp(NOW)
    runs = pd.DataFrame({
        "status": ["ok", "ok", "failed", "ok", "abandoned"],
        "started": [t, t, t, t, t],
        "finished": [t + pd.Timedelta(seconds=s) for s in (10, 30, 5, 20, 0)],
        "rows_written": [100, 0, 0, 7, 0],
    })
    summary = run_summary(runs)
    assert (summary.runs, summary.ok, summary.failed) == (5, 3, 2)
    assert summary.median_seconds == 20.0  # of 10, 30, 20
    assert summary.rows_written == 107
    assert run_summary(runs.iloc[:0]).median_seconds is None


def test_took_seconds() -> None:
    # 10 s, and a run still going (no finish): NaN, not 0
    t = pd.Timestamp(NOW)
    runs = pd.DataFrame({"started": [t, t], "finished": [t + pd.Timedelta(seconds=10), pd.NaT]})
    took = took_seconds(runs)
    assert took.iloc[0] == 10.0 and pd.isna(took.iloc[1])
