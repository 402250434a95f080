"""Pipeline runs of a long date range grouped into time buckets, so that a chart ships a
bounded number of points whatever the number of runs.

Drawn one mark per run, a range of thousands of runs shipped hundreds of kilobytes (the
Pipelines page's timeline on a company-sized store: 2,151 runs, 281 KB in one trace) for
marks thinner than a pixel. Past `RAW_RUNS` runs in the range, the page draws instead:

* one mark per pipeline and bucket: the runs started in it, how many failed, the median
  and the longest duration of those that finished;
* every run that did not succeed one by one (failures stay visible individually), the
  newest `SHOWN_RUNS` of them when there are more (the others are in the buckets' counts);
* the duration chart per bucket: the longest successful run ended in it and the rolling
  median at its last run.

The bucket is the smallest of `BUCKETS` that keeps pipelines x buckets within
`MAX_MARKS`; buckets are laid from the range's start (midnight UTC), so day buckets are
UTC days. A short range keeps one mark per run.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pandas as pd

from kpis._time import utc_timestamp

RAW_RUNS = 500  # runs in the range up to which every run is drawn
MAX_MARKS = 500  # bucket marks in one chart (all pipelines)
SHOWN_RUNS = 200  # runs that did not succeed, drawn one by one in a bucketed range
BUCKETS = tuple(timedelta(hours=h) for h in (1, 3, 6, 12, 24, 7 * 24, 28 * 24))
SUCCESS = "success"
FAILED = "failed"

RUN_BUCKET_COLUMNS = ["pipeline", "bucket", "runs", "failed", "median_s", "longest_s"]
DURATION_BUCKET_COLUMNS = ["pipeline", "bucket", "runs", "longest_s", "rolling_median_s"]


def bucket_size(start: datetime, end: datetime, pipelines: int,
                max_marks: int = MAX_MARKS) -> timedelta:
    """The smallest of BUCKETS giving at most `max_marks` marks for `pipelines` over
    [start, end); the largest when none does."""
    span = utc_timestamp(end) - utc_timestamp(start)
    for size in BUCKETS:
        if max(1, pipelines) * math.ceil(span / size) <= max_marks:
            return size
    return BUCKETS[-1]


def _bucket(ts: pd.Series, start: pd.Timestamp, size: timedelta) -> pd.Series:
    """The start of each instant's bucket; instants before `start` fall in the first."""
    offset = (pd.to_datetime(ts, utc=True) - start).clip(lower=pd.Timedelta(0))
    return start + (offset // size) * size


def run_buckets(timeline: pd.DataFrame, *, start: datetime, size: timedelta) -> pd.DataFrame:
    """`kpis.pipelines.run_timeline` rows per pipeline and bucket of their start:
    RUN_BUCKET_COLUMNS. `failed` counts runs in the failed state; `median_s` and `longest_s`
    are over the finished runs (NaN when every run of the bucket is still open)."""
    if timeline.empty:
        return pd.DataFrame(columns=RUN_BUCKET_COLUMNS)
    at = utc_timestamp(start)
    runs = timeline.assign(
        bucket=_bucket(timeline["start"], at, size),
        is_failed=timeline["state"] == FAILED,
        finished_s=timeline["duration_s"].where(~timeline["open"].astype(bool)),
    )
    grouped = runs.groupby(["pipeline", "bucket"], sort=True)
    frame = pd.DataFrame({
        "runs": grouped.size(),
        "failed": grouped["is_failed"].sum(),
        "median_s": grouped["finished_s"].median(),
        "longest_s": grouped["finished_s"].max(),
    }).reset_index()
    return frame.astype({"runs": int, "failed": int, "median_s": float,
                         "longest_s": float})[RUN_BUCKET_COLUMNS]


def duration_buckets(durations: pd.DataFrame, *, start: datetime, size: timedelta
                     ) -> pd.DataFrame:
    """`kpis.pipelines.duration_trend` rows per pipeline and bucket of their end:
    DURATION_BUCKET_COLUMNS, the longest run and the rolling median at the bucket's last
    run."""
    if durations.empty:
        return pd.DataFrame(columns=DURATION_BUCKET_COLUMNS)
    rows = durations.sort_values(["pipeline", "end"], kind="stable").assign(
        bucket=_bucket(durations["end"], utc_timestamp(start), size))
    grouped = rows.groupby(["pipeline", "bucket"], sort=True)
    frame = pd.DataFrame({
        "runs": grouped.size(),
        "longest_s": grouped["duration_s"].max(),
        "rolling_median_s": grouped["rolling_median_s"].last(),
    }).reset_index()
    return frame.astype({"runs": int, "longest_s": float,
                         "rolling_median_s": float})[DURATION_BUCKET_COLUMNS]


def shown_runs(timeline: pd.DataFrame, cap: int = SHOWN_RUNS) -> pd.DataFrame:
    """The runs of a bucketed range drawn one by one: those that did not succeed, the
    newest `cap` of them, in the timeline's order."""
    others = timeline.loc[timeline["state"] != SUCCESS]
    if len(others) > cap:
        newest = others.sort_values("start", kind="stable").index[-cap:]
        others = others.loc[others.index.isin(newest)]
    return others.reset_index(drop=True)
