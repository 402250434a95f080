"""The frame each condition kind is evaluated on, read through the store's named queries.

Kept apart from `alerts.rules` so that the rules stay pure: this is the only alert module
that reads the store for evaluation. Reads are bounded by `now` where the data allows, so a
store with years of history does not load all of it to judge the last day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from config.alerting import (
    AlertRule,
    DataQualityCondition,
    DriftCondition,
    FeatureDriftCondition,
    ModelMetricCondition,
    PipelineFailuresCondition,
    PipelineFreshnessCondition,
    UsageChangeCondition,
    UsageCondition,
)
from store import queries
from store.db import Store
from store.records import SeriesKind

FRESHNESS_LOOKBACK = timedelta(days=90)
"""How far back freshness looks for a pipeline's last success; older counts as never."""


def fetch(store: Store, rule: AlertRule, now: datetime) -> pd.DataFrame:
    """Read what `alerts.rules.evaluate` needs for this rule at `now`."""
    c, product = rule.condition, rule.product
    match c:
        case ModelMetricCondition():
            return _model_metric(store, product, c)
        case DriftCondition():
            return queries.drift_reports(store, product, c.dataset)
        case FeatureDriftCondition():
            return queries.drift_features(store, product, c.dataset)
        case DataQualityCondition():
            return queries.data_quality(store, product, c.dataset)
        case PipelineFailuresCondition():
            return queries.pipeline_runs(store, product, since=now - c.window - timedelta(days=1))
        case PipelineFreshnessCondition():
            return queries.pipeline_runs(store, product, since=now - FRESHNESS_LOOKBACK)
        case UsageCondition():
            return queries.series_points(store, product, SeriesKind.USAGE, c.kpi,
                                         start=now - timedelta(days=90))
        case UsageChangeCondition():
            return queries.series_points(store, product, SeriesKind.USAGE, c.kpi,
                                         start=now - 2 * c.window - timedelta(days=1))
    raise TypeError(f"unknown condition {type(c).__name__}")


def _model_metric(store: Store, product: str, c: ModelMetricCondition) -> pd.DataFrame:
    """Points of the version the alias (or version) names, with each point's run URL;
    `attrs['version']` says which version that was."""
    version = queries.resolve_version(store, product, c.model, alias=c.alias, version=c.version)
    if version is None:
        empty = pd.DataFrame({"ts": pd.Series([], dtype="datetime64[ns, UTC]"),
                              "value": pd.Series([], dtype=float)})
        return empty
    points = queries.model_metric_points(store, product, c.model, version, c.metric)
    urls = queries.runs(store, product).set_index("run_id")["url"].to_dict()
    points["run_url"] = [urls.get(r) for r in points["run_id"]]
    points.attrs["version"] = version
    return points
