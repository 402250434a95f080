"""The frame each kind of health objective is evaluated on, read by one selector.

Kept in the store so the dashboard, the alert rules and the benchmarks all read an
objective's data the same way; the evaluation itself is `kpis.health`, which is pure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from config.schema import (
    DriftObjective,
    ModelMetricObjective,
    PipelineSuccessObjective,
    UsageObjective,
)
from store import queries
from store.db import Store
from store.records import SeriesKind

AnyObjective = ModelMetricObjective | DriftObjective | PipelineSuccessObjective | UsageObjective
EMPTY_POINTS = pd.DataFrame({"ts": pd.Series([], dtype="datetime64[ns, UTC]"),
                             "value": pd.Series([], dtype=float)})


def objective_frame(
    store: Store, product: str, objective: AnyObjective, *, since: datetime | None = None
) -> pd.DataFrame:
    """Points [ts, value] for series objectives; pipeline runs for success-rate objectives."""
    match objective:
        case ModelMetricObjective():
            version = queries.resolve_version(
                store, product, objective.model, alias=objective.alias, version=objective.version
            )
            if version is None:
                return EMPTY_POINTS
            frame = queries.model_metric_points(
                store, product, objective.model, version, objective.metric
            )
        case DriftObjective():
            frame = queries.series_points(
                store, product, SeriesKind.DRIFT, "drifted_share",
                labels={"dataset": objective.dataset}, start=since,
            )
        case UsageObjective():
            frame = queries.series_points(store, product, SeriesKind.USAGE, objective.kpi,
                                          start=since)
        case PipelineSuccessObjective():
            runs = queries.pipeline_runs(store, product, since=since)
            if objective.pipeline is not None:
                runs = runs[runs["pipeline"] == objective.pipeline]
            return runs.reset_index(drop=True)
    if since is not None:
        frame = frame[frame["ts"] >= pd.Timestamp(since)]
    return frame.sort_values("ts").reset_index(drop=True)


def lookback(as_of: datetime, days: int) -> datetime:
    return as_of - timedelta(days=days)
