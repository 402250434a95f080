"""Everything the Data & drift page shows for one product and dataset, computed per view.

The only place that strings store reads to `kpis.data` for the page: the page renders what
this returns and the browser test calls it directly, so the numbers on the page are the KPI
functions' results by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from config.schema import DriftObjective, EvidentlySource, ProductConfig
from config.signals import DEFAULT_MIN_ROWS
from dashboard.cache import cached_view
from kpis.data import (
    FeatureDriftMatrix,
    data_quality_trend,
    drifted_share_over_time,
    feature_drift_matrix,
    latest_reports,
    most_drifted,
    schema_changes_by_window,
)
from store import queries
from store.db import Store


@dataclass(frozen=True)
class DataView:
    product: ProductConfig
    as_of: datetime
    start: datetime
    datasets: list[str]  # stored or configured, sorted
    dataset: str | None  # the one shown; None when the product has none
    objective: DriftObjective | None  # the drift objective of the dataset shown
    latest: pd.DataFrame  # kpis.data.latest_reports, one row per dataset
    latest_report: pd.Series | None  # the shown dataset's row of `latest`, if it has one
    history: pd.DataFrame  # drifted_share_over_time of the dataset, windows in range
    matrix: FeatureDriftMatrix  # of the dataset, windows in range
    most_drifted: list[str]  # kpis.data.most_drifted of the matrix
    quality: pd.DataFrame  # data_quality_trend of the dataset, windows in range
    schema_changes: pd.DataFrame  # schema_changes_by_window of the dataset, in range


def drift_objectives(product: ProductConfig) -> list[DriftObjective]:
    return [o for o in product.objectives if isinstance(o, DriftObjective)]


def configured_datasets(sources: list[object], product: str) -> list[str]:
    """Datasets of the product's evidently sources, so one not collected yet is listed too."""
    return [d.name for s in sources if isinstance(s, EvidentlySource) and s.product == product
            for d in s.datasets]


@cached_view("data")
def build_data(store: Store, product: ProductConfig, configured: list[str], *,
               dataset: str | None, start: datetime, as_of: datetime) -> DataView:
    """`dataset` as named in the URL; an unknown or missing one falls back to the first."""
    objectives = drift_objectives(product)
    reports = queries.drift_reports(store, product.key)
    datasets = sorted(set(reports["dataset"]) | set(configured))
    chosen = dataset if dataset in datasets else (datasets[0] if datasets else None)
    latest = latest_reports(reports, as_of=as_of, objectives=objectives)
    objective = next((o for o in objectives if o.dataset == chosen), None)
    begin = pd.Timestamp(start)
    history = drifted_share_over_time(reports[reports["dataset"] == chosen], as_of=as_of,
                                      objectives=objectives)
    history = history[history["window_end"] >= begin].reset_index(drop=True)
    if chosen is None:
        features = queries.drift_features(store, product.key, "")
        quality = queries.data_quality(store, product.key, "")
    else:
        features = queries.drift_features(store, product.key, chosen)
        quality = queries.data_quality(store, product.key, chosen)
    features = features[features["window_end"] >= begin]
    quality = quality[quality["ts"] >= begin]
    matrix = feature_drift_matrix(features, as_of=as_of, min_rows=objective.min_rows
                                  if objective is not None else DEFAULT_MIN_ROWS)
    mine = latest[latest["dataset"] == chosen]
    return DataView(
        product=product, as_of=as_of, start=start, datasets=datasets, dataset=chosen,
        objective=objective, latest=latest,
        latest_report=None if mine.empty else mine.iloc[-1], history=history,
        matrix=matrix, most_drifted=most_drifted(matrix),
        quality=data_quality_trend(quality, as_of=as_of),
        schema_changes=schema_changes_by_window(quality, as_of=as_of),
    )
