"""Is each source's data fresh, and how do its runs go: the Sources page's judgement.

A source is judged on its own schedule: data is fresh while its last successful run is no
older than `stale_after` intervals (a collector loop that misses one run is not yet a
problem; one that misses two is). A failed last run with data still fresh is a warning;
stale data is a failure whatever the last run said; a source that never ran is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from kpis.health import Status

STALE_AFTER = 2.0  # intervals without a successful run before the data counts as stale


@dataclass(frozen=True)
class SourceHealth:
    status: Status
    reason: str
    since_success: timedelta | None  # age of the data: time since the last successful run


def source_health(
    last_status: str | None,
    last_success: datetime | None,
    interval: timedelta,
    *,
    as_of: datetime,
    stale_after: float = STALE_AFTER,
) -> SourceHealth:
    if last_status is None:
        return SourceHealth(Status.UNKNOWN, "never collected", None)
    if last_success is None or pd.isna(last_success):
        return SourceHealth(Status.RED, "never collected successfully", None)
    age = as_of - last_success
    limit = interval * stale_after
    if age > limit:
        return SourceHealth(Status.RED, f"stale: no successful run for over {stale_after:g} "
                            "intervals", age)
    if last_status in ("failed", "abandoned"):
        return SourceHealth(Status.AMBER, f"last run {last_status}; data still fresh", age)
    return SourceHealth(Status.GREEN, "fresh", age)


@dataclass(frozen=True)
class RunSummary:
    runs: int
    ok: int
    failed: int  # failed or abandoned
    median_seconds: float | None  # of successful runs
    rows_written: int


def took_seconds(runs: pd.DataFrame) -> pd.Series:
    """Seconds each collector run took (finished - started); NaN while it runs."""
    if runs.empty:
        return pd.Series(dtype=float, index=runs.index)
    return (runs["finished"] - runs["started"]).dt.total_seconds().astype(float)


def run_summary(runs: pd.DataFrame) -> RunSummary:
    """Over [status, started, finished, rows_written] rows (the recent runs shown)."""
    if runs.empty:
        return RunSummary(0, 0, 0, None, 0)
    ok = runs[runs["status"] == "ok"]
    seconds = took_seconds(ok).dropna()
    return RunSummary(
        runs=len(runs),
        ok=len(ok),
        failed=int(runs["status"].isin(["failed", "abandoned"]).sum()),
        median_seconds=float(seconds.median()) if len(seconds) else None,
        rows_written=int(runs["rows_written"].sum()),
    )
