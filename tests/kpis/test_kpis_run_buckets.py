"""A long range's pipeline runs per time bucket (`kpis.run_buckets`): a bounded number of
marks, counts worked out by hand (the charts: tests/dashboard/test_pipelines_long_range.py).

The range: pipeline `etl` runs every hour on the hour for 90 days from Thu 1 Jan 2026
00:00 UTC (2,160 runs). Each run lasts 10 minutes, except the 05:00 run of every day,
which fails after 2 minutes (90 failures). The page is opened as of 1 Apr 00:00.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from kpis_frames import t

from kpis.pipelines import duration_trend, run_timeline
from kpis.run_buckets import (
    BUCKETS,
    RAW_RUNS,
    bucket_size,
    duration_buckets,
    run_buckets,
    shown_runs,
)

START, AS_OF = t("2026-01-01 00:00"), t("2026-04-01 00:00")
SIX_HOURS = timedelta(hours=6)


def _runs(hours: int = 90 * 24, fails_at: int = 5) -> pd.DataFrame:
    starts = pd.date_range(START, periods=hours, freq="h")
    failed = starts.hour == fails_at
    minutes = pd.to_timedelta(pd.Series(failed).map({True: 2, False: 10}), unit="min")
    return pd.DataFrame({
        "system": "airflow", "pipeline": "etl", "run_id": [f"etl-{i}" for i in range(hours)],
        "state": pd.Series(failed).map({True: "failed", False: "success"}),
        "start": starts, "end": starts + minutes.to_numpy(), "duration": None,
    })


@pytest.fixture(scope="module")
def timeline() -> pd.DataFrame:
    return run_timeline(_runs(), as_of=AS_OF)


def test_the_bucket_keeps_the_marks_within_bounds() -> None:
    # 90 days of one pipeline: hours 2,160 marks, 3 hours 720, 6 hours 360 <= 500
    assert bucket_size(START, AS_OF, 1) == SIX_HOURS
    # four pipelines: 6 hours gives 1,440, 12 hours 720, a day 360
    assert bucket_size(START, AS_OF, 4) == timedelta(days=1)
    # a week of one pipeline: hourly, 168 marks
    assert bucket_size(START, START + timedelta(days=7), 1) == timedelta(hours=1)
    # ten years of 50 pipelines: even 28 days gives 6,550; the largest bucket it is
    assert bucket_size(START, START + timedelta(days=3650), 50) == BUCKETS[-1]


def test_runs_per_bucket_by_hand(timeline: pd.DataFrame) -> None:
    assert len(timeline) == 2160 > RAW_RUNS
    buckets = run_buckets(timeline, start=START, size=SIX_HOURS)
    # 90 days x 4 buckets = 360, 6 runs each; the 00:00-06:00 bucket of each day holds the
    # 05:00 failure (2 min) beside five 10-minute runs: median 10, longest 10
    assert len(buckets) == 360
    assert set(buckets["runs"]) == {6} and buckets["runs"].sum() == 2160
    night = buckets["bucket"].dt.hour == 0
    assert (buckets.loc[night, "failed"] == 1).all() and night.sum() == 90
    assert (buckets.loc[~night, "failed"] == 0).all()
    assert set(buckets["median_s"]) == {600.0} and set(buckets["longest_s"]) == {600.0}
    assert buckets["bucket"].iloc[1] == t("2026-01-01 06:00")


def test_an_open_run_counts_but_has_no_duration_yet() -> None:
    # as of 1 Jan 00:05 the first run (00:00, 10 min) is still running: 1 run, no duration
    frame = run_timeline(_runs(hours=1), as_of=t("2026-01-01 00:05"))
    buckets = run_buckets(frame, start=START, size=SIX_HOURS)
    assert buckets["runs"].tolist() == [1] and buckets["median_s"].isna().all()


def test_failures_are_shown_one_by_one_up_to_the_cap(timeline: pd.DataFrame) -> None:
    shown = shown_runs(timeline)
    assert len(shown) == 90 and set(shown["state"]) == {"failed"}
    # with a cap of 40, the newest 40: the failures of the last 40 days, 20 Feb to 31 Mar
    newest = shown_runs(timeline, cap=40)
    assert len(newest) == 40
    assert newest["start"].min() == t("2026-02-20 05:00")


def test_durations_per_bucket_by_hand(timeline: pd.DataFrame) -> None:
    durations = duration_trend(_runs(), as_of=AS_OF, window=10)
    buckets = duration_buckets(durations, start=START, size=SIX_HOURS)
    # successful runs end at :10 in their start's bucket: 5 in each night bucket, 6 in the
    # others, 2,070 in all; every one lasts 600 s, so the longest and the median are 600 s
    assert buckets["runs"].sum() == 2160 - 90 == 2070
    assert set(buckets.loc[buckets["bucket"].dt.hour == 0, "runs"]) == {5}
    assert set(buckets["longest_s"]) == {600.0} and set(buckets["rolling_median_s"]) == {600.0}
