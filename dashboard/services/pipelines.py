"""Everything the Pipelines page shows for one product, computed once per view.

Reads every pipeline run of the product once (one row per run: small next to the point
tables) because freshness needs the last success even when it lies before the date range,
and the median interval needs the runs around it; the timeline and charts show the range.
A range of more than `kpis.run_buckets.RAW_RUNS` runs is drawn per time bucket (with the
runs that did not succeed one by one), so a long range ships a bounded number of points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from config.schema import PipelineFreshnessObjective, PipelineSuccessObjective, ProductConfig
from dashboard.cache import cached_view
from kpis.health import Status, classify, judge
from kpis.pipelines import (
    FAILED_TASK_STATES,
    daily_success_rate,
    duration_trend,
    freshness,
    recent_runs,
    run_timeline,
    success_rates,
)
from kpis.run_buckets import (
    DURATION_BUCKET_COLUMNS,
    RAW_RUNS,
    RUN_BUCKET_COLUMNS,
    bucket_size,
    duration_buckets,
    run_buckets,
    shown_runs,
)
from kpis.signals import read_signal
from store import queries
from store.db import Store
from store.signals import signal_frame

DEFAULT_WINDOW = timedelta(days=7)  # a pipeline_success_rate signal's default
DURATION_MEDIAN_RUNS = 10
RECENT_RUNS = 15  # rows of the runs table: the latest; the timeline above shows them all
FAILED_RUNS_SHOWN = 5  # failed runs whose every task is listed


@dataclass(frozen=True)
class PipelineRate:
    pipeline: str
    window: timedelta  # the objective's (pipeline_success_rate signal), else DEFAULT_WINDOW
    success_rate: float | None
    finished: int
    succeeded: int
    objective: PipelineSuccessObjective | None
    status: Status  # against the objective; unknown without one


@dataclass(frozen=True)
class FailedRun:
    """A failed run whose system reported its task instances, with every one of them."""

    run: Any  # a row of recent_runs: pipeline, run_id, start, url, failed_tasks, ...
    tasks: pd.DataFrame  # store.queries.pipeline_tasks rows of this run


@dataclass(frozen=True)
class PipelinesView:
    product: ProductConfig
    as_of: datetime
    start: datetime
    pipelines: list[str]
    timeline: pd.DataFrame  # kpis.pipelines.run_timeline, runs overlapping the range
    rates: list[PipelineRate]
    daily: dict[str, pd.DataFrame]  # pipeline -> daily_success_rate over the range
    durations: pd.DataFrame  # duration_trend, runs ended in the range
    freshness: pd.DataFrame  # kpis.pipelines.freshness as of the range's end
    recent: pd.DataFrame  # kpis.pipelines.recent_runs: runs started in the range, newest first
    failed_runs: pd.DataFrame  # recent_runs of the latest failed runs in the range
    failed_run_tasks: pd.DataFrame  # store.queries.pipeline_tasks of those runs
    with_tasks: list[FailedRun]  # those of failed_runs whose tasks are known
    threshold: float | None  # the success-rate line: the objectives' one threshold, if one
    bucket: timedelta | None = None  # set when the range has too many runs to draw each
    run_buckets: pd.DataFrame = field(  # kpis.run_buckets.run_buckets of the timeline
        default_factory=lambda: pd.DataFrame(columns=RUN_BUCKET_COLUMNS))
    shown: pd.DataFrame | None = None  # with a bucket: the runs drawn one by one
    duration_buckets: pd.DataFrame = field(  # kpis.run_buckets.duration_buckets
        default_factory=lambda: pd.DataFrame(columns=DURATION_BUCKET_COLUMNS))


def objective_for(product: ProductConfig, pipeline: str) -> PipelineSuccessObjective | None:
    """The success-rate objective of this pipeline, else one over all pipelines, else None."""
    mine = [o for o in product.objectives if isinstance(o, PipelineSuccessObjective)]
    exact = next((o for o in mine if o.pipeline == pipeline), None)
    return exact or next((o for o in mine if o.pipeline is None), None)


@cached_view("pipelines")
def build_pipelines(store: Store, product: ProductConfig, *, start: datetime,
                    as_of: datetime, days: int) -> PipelinesView:
    runs = queries.pipeline_runs(store, product.key)
    begin = pd.Timestamp(start)
    names = sorted(runs["pipeline"].dropna().unique()) if len(runs) else []
    rates, daily = [], {}
    for name in names:
        objective = objective_for(product, name)
        window = objective.window if objective else DEFAULT_WINDOW
        row = success_rates(runs[runs["pipeline"] == name], as_of=as_of,
                            window=window).iloc[0]
        rate = None if pd.isna(row["success_rate"]) else float(row["success_rate"])
        status = (classify(rate, objective.op, objective.threshold, objective.warning)
                  if objective else Status.UNKNOWN)
        rates.append(PipelineRate(name, window, rate, int(row["finished"]),
                                  int(row["succeeded"]), objective, status))
        daily[name] = daily_success_rate(runs, as_of=as_of, days=days, window=window,
                                         pipeline=name)
    timeline = run_timeline(runs, as_of=as_of)
    timeline = timeline[timeline["end"] >= begin].reset_index(drop=True)
    durations = duration_trend(runs, as_of=as_of, window=DURATION_MEDIAN_RUNS)
    durations = durations[durations["end"] >= begin].reset_index(drop=True)
    recent, failed_runs, failed_run_tasks = _runs_and_tasks(store, product.key, runs, start,
                                                            as_of)
    return PipelinesView(
        product=product, as_of=as_of, start=start, pipelines=names, timeline=timeline,
        rates=rates, daily=daily, durations=durations,
        freshness=_freshness(store, product, runs, as_of), recent=recent,
        failed_runs=failed_runs,
        failed_run_tasks=failed_run_tasks,
        with_tasks=_with_tasks(failed_runs, failed_run_tasks), threshold=_threshold(rates),
        **_bucketed(timeline, durations, len(names), begin, as_of),
    )


def _bucketed(timeline: pd.DataFrame, durations: pd.DataFrame, pipelines: int,
              begin: pd.Timestamp, as_of: datetime) -> dict[str, Any]:
    """The bucketed charts' data when the range has more than RAW_RUNS runs, else none."""
    if len(timeline) <= RAW_RUNS:
        return {}
    size = bucket_size(begin, as_of, pipelines)
    return {"bucket": size, "run_buckets": run_buckets(timeline, start=begin, size=size),
            "shown": shown_runs(timeline),
            "duration_buckets": duration_buckets(durations, start=begin, size=size)}


def _freshness(store: Store, product: ProductConfig, runs: pd.DataFrame,
               as_of: datetime) -> pd.DataFrame:
    """`kpis.pipelines.freshness`, except that a pipeline with a `pipeline_freshness`
    objective is judged by it, on the reading the overview and alert rules judge (the
    signal's query path), so this page and the overview never disagree: expected within
    the objective's threshold (hours)."""
    fresh = freshness(runs, as_of=as_of)
    mine_first = sorted((o for o in product.objectives
                         if isinstance(o, PipelineFreshnessObjective)),
                        key=lambda o: o.pipeline is None)
    for objective in mine_first:
        frame = signal_frame(store, product.key, objective, as_of=as_of)
        for reading in read_signal(objective, frame, as_of=as_of):
            mine = fresh["pipeline"] == reading.labels.get("pipeline")
            if not mine.any() or (fresh.loc[mine, "expected_from"] == "objective").all():
                continue  # judged by its own objective, which wins over one for all
            fresh.loc[mine, "status"] = judge(reading, objective)
            fresh.loc[mine, "expected_s"] = objective.threshold * 3600
            fresh.loc[mine, "expected_from"] = "objective"
    return fresh


def _threshold(rates: list[PipelineRate]) -> float | None:
    """The objective's line, when every pipeline with an objective shares one threshold."""
    found = {r.objective.threshold for r in rates if r.objective is not None}
    return found.pop() if len(found) == 1 else None


def _with_tasks(failed_runs: pd.DataFrame, tasks: pd.DataFrame) -> list[FailedRun]:
    """The failed runs that have task instances, each with its own (a system that reports
    runs only, such as MLflow, has none to list)."""
    out = []
    for run in failed_runs.itertuples(index=False):
        mine = tasks[(tasks["pipeline"] == run.pipeline) & (tasks["run_id"] == run.run_id)]
        if len(mine):
            out.append(FailedRun(run, mine.reset_index(drop=True)))
    return out


def _runs_and_tasks(store: Store, product: str, runs: pd.DataFrame, start: datetime,
                    as_of: datetime) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The range's runs with their failed tasks' names, and every task of the latest failed
    runs; task reads are bounded by the range (and by run ids), never a whole history."""
    end = as_of + timedelta(microseconds=1)
    failed_tasks = queries.pipeline_tasks(store, product, start, end, states=FAILED_TASK_STATES)
    recent = recent_runs(runs, failed_tasks, start=start, as_of=as_of, limit=RECENT_RUNS)
    failed = runs[runs["state"] == "failed"] if len(runs) else runs
    failed_runs = recent_runs(failed, failed_tasks, start=start, as_of=as_of,
                              limit=FAILED_RUNS_SHOWN)
    tasks = queries.pipeline_tasks(store, product, start, end,
                                   run_ids=failed_runs["run_id"].tolist())
    return recent, failed_runs, tasks
