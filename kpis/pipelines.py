"""Pipeline reliability: success rate over time, run timelines, durations and freshness.

`daily_success_rate` is the success rate as it stood at the end of each day.
The health panel's sparkline for a success-rate objective shows this series. It counts the
same runs as `kpis.signals.finished_runs` (finished runs whose end lies in (at - window, at]),
vectorised with binary search so a 28-day line costs one pass instead of 28 filters; a
test holds the two to the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from kpis._time import utc_timestamp
from kpis.health import FINISHED_STATES, Status, classify
from kpis.signals import finished_runs


def daily_success_rate(
    pipeline_runs: pd.DataFrame, *, as_of: datetime, days: int, window: timedelta,
    pipeline: str | None = None,
) -> pd.DataFrame:
    """[ts, value]: the success rate over the trailing `window` at as_of, as_of - 1 day, ...

    Days without a finished run in their window are left out rather than drawn as zero.
    """
    if days <= 0:
        raise ValueError("days must be positive")
    end = utc_timestamp(as_of)
    instants = pd.DatetimeIndex([end - timedelta(days=back) for back in range(days - 1, -1, -1)])
    runs = pipeline_runs
    if not runs.empty:
        mask = runs["state"].isin(FINISHED_STATES) & runs["end"].notna()
        if pipeline is not None:
            mask &= runs["pipeline"] == pipeline
        runs = runs.loc[mask].sort_values("end")
    if runs.empty:
        return pd.DataFrame({"ts": pd.Series([], dtype="datetime64[ns, UTC]"),
                             "value": pd.Series([], dtype=float)})
    ends = pd.DatetimeIndex(pd.to_datetime(runs["end"], utc=True)).asi8
    ok = np.concatenate([[0], np.cumsum((runs["state"] == "success").to_numpy())])
    at = instants.as_unit("ns").asi8
    span = pd.Timedelta(window).value
    hi = np.searchsorted(ends, at, side="right")  # runs with end <= at
    lo = np.searchsorted(ends, at - span, side="right")  # runs with end <= at - window
    finished = hi - lo
    keep = finished > 0
    rate = (ok[hi] - ok[lo])[keep] / finished[keep]
    return pd.DataFrame({"ts": instants[keep], "value": rate.astype(float)})


# ---------------------------------------------------------------- the Pipelines page

TIMELINE_COLUMNS = ["pipeline", "run_id", "state", "start", "end", "open", "duration_s"]
RATE_COLUMNS = ["pipeline", "success_rate", "finished", "succeeded"]
DURATION_COLUMNS = ["pipeline", "run_id", "end", "duration_s", "rolling_median_s"]
FRESHNESS_COLUMNS = [
    "pipeline", "last_success", "age_s", "expected_s", "expected_from", "status",
]  # fmt: skip
OPEN_STATES = ("queued", "running")


def _started_by(runs: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    if runs.empty:
        return runs
    return runs.loc[runs["start"].notna() & (runs["start"] <= at)]


def run_timeline(pipeline_runs: pd.DataFrame, *, as_of: datetime) -> pd.DataFrame:
    """Runs started by `as_of` as Gantt bars: [pipeline, run_id, state, start, end, open,
    duration_s], ordered by pipeline then start.

    A run without an end, or ending after `as_of`, is still open at `as_of`: its bar ends
    at `as_of` (so a running run grows until it finishes) and `open` is True; a replay
    of the past shows such a run as running, not with an outcome it did not have yet.
    """
    at = utc_timestamp(as_of)
    runs = _started_by(pipeline_runs, at)
    if runs.empty:
        return pd.DataFrame(columns=TIMELINE_COLUMNS)
    ends = pd.to_datetime(runs["end"], utc=True)
    is_open = ends.isna() | (ends > at)
    end = ends.where(~is_open, at)
    state = runs["state"].where(~(is_open & ~runs["state"].isin(OPEN_STATES)), "running")
    frame = pd.DataFrame({
        "pipeline": runs["pipeline"], "run_id": runs["run_id"], "state": state,
        "start": runs["start"], "end": end, "open": is_open,
        "duration_s": (end - runs["start"]).dt.total_seconds(),
    })
    return frame.sort_values(["pipeline", "start"], kind="stable").reset_index(drop=True)[
        TIMELINE_COLUMNS
    ]


def success_rates(
    pipeline_runs: pd.DataFrame, *, as_of: datetime, window: timedelta
) -> pd.DataFrame:
    """Per pipeline (by name): the share of finished runs that succeeded over (as_of -
    window, as_of], the runs a `pipeline_success_rate` signal counts
    (`kpis.signals.finished_runs`), with the counts behind it. `success_rate` is None when
    nothing finished in the window."""
    at = utc_timestamp(as_of)
    rows = []
    names = sorted(pipeline_runs["pipeline"].dropna().unique()) if len(pipeline_runs) else []
    for name in names:
        finished = finished_runs(pipeline_runs, at, window, name)
        succeeded = int((finished["state"] == "success").sum()) if len(finished) else 0
        rows.append({
            "pipeline": name,
            "success_rate": succeeded / len(finished) if len(finished) else None,
            "finished": len(finished),
            "succeeded": succeeded,
        })
    return pd.DataFrame(rows, columns=RATE_COLUMNS)


def duration_trend(
    pipeline_runs: pd.DataFrame, *, as_of: datetime, window: int = 5
) -> pd.DataFrame:
    """Duration of each successful run ended by `as_of` (`run_durations`: the system's own
    figure where it has one), and the rolling median of the last `window` successful runs
    of its pipeline (fewer at the start).

    Failed runs are left out: they stop early and would pull the median down, hiding a
    pipeline that is getting slower. Columns: DURATION_COLUMNS, by pipeline then end.
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    at = utc_timestamp(as_of)
    if pipeline_runs.empty:
        return pd.DataFrame(columns=DURATION_COLUMNS)
    ok = pipeline_runs.loc[
        (pipeline_runs["state"] == "success") & pipeline_runs["end"].notna()
        & (pipeline_runs["end"] <= at)
    ].sort_values(["pipeline", "end"], kind="stable")
    if ok.empty:
        return pd.DataFrame(columns=DURATION_COLUMNS)
    duration = run_durations(ok)
    median = duration.groupby(ok["pipeline"]).transform(
        lambda d: d.rolling(window, min_periods=1).median()
    )
    frame = pd.DataFrame({
        "pipeline": ok["pipeline"], "run_id": ok["run_id"], "end": ok["end"],
        "duration_s": duration, "rolling_median_s": median,
    })
    return frame.reset_index(drop=True)[DURATION_COLUMNS]


def median_interval(pipeline_runs: pd.DataFrame, *, as_of: datetime,
                    pipeline: str) -> timedelta | None:
    """Median time between consecutive starts of a pipeline's runs (any state) by `as_of`;
    None with fewer than two runs."""
    runs = _started_by(pipeline_runs, utc_timestamp(as_of))
    if runs.empty:
        return None
    starts = runs.loc[runs["pipeline"] == pipeline, "start"].sort_values()
    if len(starts) < 2:
        return None
    return pd.Timedelta(starts.diff().dropna().median()).to_pytimedelta()


def freshness(
    pipeline_runs: pd.DataFrame, *, as_of: datetime,
    expected: Mapping[str, timedelta] | None = None,
) -> pd.DataFrame:
    """How long ago each pipeline last succeeded, judged against its expected interval.

    The interval is `expected[pipeline]` when given (an objective), else twice the median
    interval between its runs' starts: a job that usually runs every 6 h is late after 12.
    Status by `kpis.health.classify` on the age: green up to the interval, amber up to
    twice it, red beyond. A pipeline that has runs but never succeeded is red (its age is
    infinite, `last_success` NaT); one without an interval (a single run, no objective) is
    unknown. Columns: FRESHNESS_COLUMNS, by pipeline.
    """
    at = utc_timestamp(as_of)
    given = dict(expected or {})
    runs = _started_by(pipeline_runs, at)
    names = sorted(set(runs["pipeline"].dropna()) | set(given)) if len(runs) else sorted(given)
    rows = []
    for name in names:
        mine = runs.loc[runs["pipeline"] == name] if len(runs) else runs
        ok = mine.loc[(mine["state"] == "success") & mine["end"].notna()
                      & (mine["end"] <= at)] if len(mine) else mine
        last = pd.Timestamp(ok["end"].max()) if len(ok) else pd.NaT
        age = (at - last).total_seconds() if len(ok) else math.inf
        interval: timedelta | None
        source: str | None
        if name in given:
            interval, source = given[name], "objective"
        else:
            median = median_interval(pipeline_runs, as_of=at, pipeline=name)
            interval, source = (2 * median, "2x median interval") if median else (None, None)
        if interval is None:
            status = Status.UNKNOWN
            expected_s = None
        else:
            expected_s = interval.total_seconds()
            status = classify(age, "<=", threshold=2 * expected_s, warning=expected_s)
        rows.append({"pipeline": name, "last_success": last, "age_s": age,
                     "expected_s": expected_s, "expected_from": source, "status": status})
    return pd.DataFrame(rows, columns=FRESHNESS_COLUMNS)


# ---------------------------------------------------------------- runs and their tasks

FAILED_TASK_STATES = ("failed", "failure", "timed_out", "startup_failure")
"""Task states that mean the task itself broke (Airflow's failed; GitHub Actions' failure,
timed_out, startup_failure); upstream_failed or skipped tasks are the casualties."""
RECENT_RUN_COLUMNS = [
    "pipeline", "run_id", "state", "run_type", "start", "end", "duration_s", "own_duration",
    "failed_tasks", "url",
]  # fmt: skip


def run_durations(pipeline_runs: pd.DataFrame) -> pd.Series:
    """Seconds each run took: the system's own figure where it reports one (Airflow 3's
    `duration`), else end - start; NaN while a run has no end."""
    computed = (pipeline_runs["end"] - pipeline_runs["start"]).dt.total_seconds()
    if "duration" not in pipeline_runs:
        return computed
    own = pd.to_numeric(pipeline_runs["duration"], errors="coerce")
    return own.where(own.notna(), computed).astype(float)


def task_label(task_id: str, map_index: int) -> str:
    """A task's name as Airflow's UI shows a mapped instance: train, or train[3]."""
    return task_id if map_index is None or map_index < 0 else f"{task_id}[{map_index}]"


def recent_runs(
    pipeline_runs: pd.DataFrame, failed_tasks: pd.DataFrame, *, start: datetime,
    as_of: datetime, limit: int = 50,
) -> pd.DataFrame:
    """Runs started in [start, as_of], newest first, at most `limit`, each with its duration
    (`run_durations`; `own_duration` says whether the system reported it) and the names of
    its failed tasks, in the order they started, from `failed_tasks` (a
    `store.queries.pipeline_tasks` frame: pipeline, run_id, task_id, map_index).
    Columns: RECENT_RUN_COLUMNS."""
    if pipeline_runs.empty:
        return pd.DataFrame(columns=RECENT_RUN_COLUMNS)
    begin, at = utc_timestamp(start), utc_timestamp(as_of)
    runs = pipeline_runs.loc[(pipeline_runs["start"] >= begin) & (pipeline_runs["start"] <= at)]
    runs = runs.sort_values(["start", "run_id"], ascending=False, kind="stable").head(limit)
    names: dict[tuple[str, str], list[str]] = {}
    for task in failed_tasks.itertuples(index=False):
        label = task_label(str(task.task_id), int(task.map_index))
        found = names.setdefault((str(task.pipeline), str(task.run_id)), [])
        if label not in found:
            found.append(label)
    own = runs["duration"].notna() if "duration" in runs else pd.Series(False, index=runs.index)
    frame = pd.DataFrame({
        "pipeline": runs["pipeline"], "run_id": runs["run_id"], "state": runs["state"],
        "run_type": runs.get("run_type"),
        "start": runs["start"], "end": runs["end"], "duration_s": run_durations(runs),
        "own_duration": own.astype(bool),
        "failed_tasks": [names.get((p, r), []) for p, r in zip(runs["pipeline"],
                                                               runs["run_id"], strict=True)],
        "url": runs["url"],
    })
    return frame.reset_index(drop=True)[RECENT_RUN_COLUMNS]
