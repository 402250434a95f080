"""Everything the Models page shows for one registered model, computed once per view.

Store reads -> `kpis.models`; the page renders what this returns and the browser test
calls it directly, so the numbers on the page are the KPI functions' results.
Charts read metric points with `max_points` (a per-step training curve can be long); the
champion/challenger numbers are computed from full-resolution points: when the chart's
copy was downsampled, the newest LAST_N points they use are re-read, never the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from config.schema import ModelMetricObjective, ProductConfig
from dashboard.cache import cached_view
from kpis.health import evaluate_objective
from kpis.models import (
    LAST_N,
    Comparison,
    ObjectiveTrend,
    alias_intervals,
    compare,
    metric_history,
    version_births,
    version_stats,
)
from kpis.signals import daily_instants, readings_over_days
from kpis.trend import week_over_week
from store import queries
from store.db import Store
from store.signals import signal_frame

MAX_POINTS = 2000
TREND_DAYS = 28
WEEK_OVER_WEEK = timedelta(days=14)  # kpis.trend.week_over_week's two weeks
CHAMPION, CHALLENGER = "champion", "challenger"


@dataclass(frozen=True)
class ObjectiveRow:
    objective: ModelMetricObjective
    version: str | None  # the version the objective reads (its alias resolved)
    trend: ObjectiveTrend


@dataclass(frozen=True)
class ModelView:
    name: str
    metrics: list[str]  # every metric the model's runs logged
    metric: str | None  # the one shown
    history: pd.DataFrame  # kpis.models.metric_history (chart copy)
    downsampled: bool
    comparison: Comparison | None
    intervals: pd.DataFrame  # kpis.models.alias_intervals
    births: pd.DataFrame  # kpis.models.version_births
    versions: pd.DataFrame  # store.queries.model_versions of this model
    run_urls: dict[str, str]  # version -> link to its training run in MLflow
    objectives: list[ObjectiveRow]


@dataclass(frozen=True)
class ModelsView:
    product: ProductConfig
    as_of: datetime
    start: datetime
    models: list[str]  # registered models of the product
    model: ModelView | None  # the selected one; None when the product has none


def _model_metrics(store: Store, product: str, versions: pd.DataFrame, runs: pd.DataFrame,
                   model: str) -> list[str]:
    """Metric names logged by the versions' own runs or runs tagged with the model."""
    run_ids = set(versions["run_id"].dropna()) | set(runs.loc[runs["model"] == model, "run_id"])
    return queries.metric_names(store, product, run_ids)


def objectives_of(product: ProductConfig, model: str) -> list[ModelMetricObjective]:
    return [o for o in product.objectives
            if isinstance(o, ModelMetricObjective) and o.model == model]


def default_metric(product: ProductConfig, model: str, metrics: list[str]) -> str | None:
    """The first objective's metric for this model, else the first metric logged."""
    for objective in objectives_of(product, model):
        return objective.metric
    return metrics[0] if metrics else None


@cached_view("models")
def build_models(store: Store, product: ProductConfig, *, model: str | None,
                 metric: str | None, start: datetime, as_of: datetime) -> ModelsView:
    all_versions = queries.model_versions(store, product.key)
    names = sorted(all_versions["model"].unique()) if len(all_versions) else []
    names += sorted({o.model for o in objectives_of_any(product)} - set(names))
    chosen = model if model in names else (names[0] if names else None)
    view = None
    if chosen is not None:
        view = _model_view(store, product, chosen, metric, as_of,
                           all_versions[all_versions["model"] == chosen].reset_index(drop=True))
    return ModelsView(product=product, as_of=as_of, start=start, models=names, model=view)


def objectives_of_any(product: ProductConfig) -> list[ModelMetricObjective]:
    return [o for o in product.objectives if isinstance(o, ModelMetricObjective)]


def _model_view(store: Store, product: ProductConfig, name: str, metric: str | None,
                as_of: datetime, versions: pd.DataFrame) -> ModelView:
    key = product.key
    runs = queries.runs(store, key)
    metrics = _model_metrics(store, key, versions, runs, name)
    shown = metric if metric in metrics else default_metric(product, name, metrics)
    frames: dict[str, pd.DataFrame] = {}
    downsampled = False
    if shown is not None:
        for version in versions["version"]:
            frame = queries.model_metric_points(store, key, name, version, shown,
                                                max_points=MAX_POINTS)
            downsampled |= bool(frame.attrs.get("downsampled"))
            frames[str(version)] = frame
    comparison = None
    if shown is not None:
        comparison = _comparison(store, product, name, shown, frames, as_of)
    urls = dict(zip(runs["run_id"], runs["url"], strict=True))
    run_urls = {str(v): urls[r] for v, r in zip(versions["version"], versions["run_id"],
                                                strict=True) if urls.get(r)}
    rows = [_objective_row(store, key, objective, as_of)
            for objective in objectives_of(product, name)]
    return ModelView(
        name=name, metrics=metrics, metric=shown, history=metric_history(frames),
        downsampled=downsampled, comparison=comparison,
        intervals=alias_intervals(queries.alias_events(store, key, name), versions,
                                  as_of=as_of),
        births=version_births(versions, runs), versions=versions, run_urls=run_urls,
        objectives=rows,
    )


def _objective_row(store: Store, product: str, objective: ModelMetricObjective,
                   as_of: datetime) -> ObjectiveRow:
    """The objective judged now, its sparkline (the signal as it read each of the last
    TREND_DAYS days, as on the Overview) and the week over week of its version's points:
    each read bounded by what it needs, never the version's whole history."""
    instants = daily_instants(as_of, TREND_DAYS)
    frame = signal_frame(store, product, objective, as_of=as_of,
                         history=timedelta(days=TREND_DAYS), instants=instants)
    version = queries.resolve_version(store, product, objective.model, alias=objective.alias,
                                      version=objective.version)
    weeks = pd.DataFrame({"ts": pd.Series([], dtype="datetime64[ns, UTC]"),
                          "value": pd.Series([], dtype=float)})
    if version is not None:
        weeks = queries.model_metric_points(store, product, objective.model, version,
                                            objective.metric, start=as_of - WEEK_OVER_WEEK,
                                            end=as_of)
    return ObjectiveRow(objective, version, ObjectiveTrend(
        result=evaluate_objective(objective, frame, as_of=as_of),
        trend=readings_over_days(objective, frame, as_of=as_of, days=TREND_DAYS),
        week_over_week=week_over_week(weeks, as_of=as_of)))


def _comparison(store: Store, product: ProductConfig, name: str, metric: str,
                frames: dict[str, pd.DataFrame], as_of: datetime) -> Comparison:
    """Champion vs challenger on `metric`; the direction comes from an objective on it."""
    key = product.key
    stats = []
    for alias in (CHAMPION, CHALLENGER):
        version = queries.resolve_version(store, key, name, alias=alias)
        points = frames.get(version or "", pd.DataFrame())
        if version is not None and points.attrs.get("downsampled"):
            points = queries.model_metric_tail(store, key, name, version, metric, as_of, LAST_N)
        stats.append(version_stats(version, points, as_of=as_of))
    op = next((o.op for o in objectives_of(product, name) if o.metric == metric), None)
    return compare(metric, stats[0], stats[1], op=op)
