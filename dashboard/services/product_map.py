"""What the product map shows: the product's parts from the store, coloured by health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from config.schema import (
    DataQualityObjective,
    DriftObjective,
    FeatureDriftObjective,
    ModelMetricObjective,
    PipelineFailuresObjective,
    PipelineFreshnessObjective,
    PipelineSuccessObjective,
    ProductConfig,
    UsageChangeObjective,
    UsageObjective,
)
from dashboard.cache import cached_view
from dashboard.figures.product_map import map_elements, node_counts
from dashboard.services.ledger import ledger_with_runs
from dashboard.services.overview import HealthRow, health_rows
from kpis.backlog import alert_items, open_items_by_epic, work_items
from kpis.health import Status, product_status
from store import queries
from store.db import Store
from store.records import SeriesKind


def _subject(objective: object) -> tuple[str, str] | None:
    """The map node an objective judges: (kind, name); None for one over every pipeline."""
    match objective:
        case ModelMetricObjective(model=model):
            return ("model", model)
        case DriftObjective(dataset=dataset) | FeatureDriftObjective(dataset=dataset) \
                | DataQualityObjective(dataset=dataset):
            return ("dataset", dataset)
        case PipelineSuccessObjective(pipeline=str() as pipeline) \
                | PipelineFailuresObjective(pipeline=str() as pipeline) \
                | PipelineFreshnessObjective(pipeline=str() as pipeline):
            return ("pipeline", pipeline)
        case UsageObjective(kpi=kpi) | UsageChangeObjective(kpi=kpi):
            return ("kpi", kpi)
    return None


def _statuses(product: ProductConfig, rows: list[HealthRow]) -> dict[tuple[str, str], Status]:
    """A node judged by several objectives takes the worst of them."""
    out: dict[tuple[str, str], list[Status]] = {}
    for objective, row in zip(product.objectives, rows, strict=True):
        subject = _subject(objective)
        if subject:
            out.setdefault(subject, []).append(row.result.status)
    return {k: product_status(v) for k, v in out.items()}


def map_runs(ledger: pd.DataFrame, runs: pd.DataFrame, versions: pd.DataFrame
             ) -> pd.DataFrame:
    """The linked runs worth a node: each item's best run and every counted run that
    produced a registered version (a sweep of 200 trials would bury the map otherwise)."""
    best = set(zip(ledger["key"], ledger["best_run"], strict=True))
    registered = set(versions["run_id"].dropna())
    keep = [(key, run) in best or (not late and run in registered)
            for key, run, late in zip(runs["key"], runs["run_id"], runs["late"], strict=True)]
    return runs.loc[keep].reset_index(drop=True)


@dataclass(frozen=True)
class ProductMap:
    elements: list[dict[str, Any]]  # Cytoscape nodes and edges
    counts: dict[str, int]  # parts drawn per kind (the legend's figures)


@cached_view("product_map")
def build_map(store: Store, product: ProductConfig, *, as_of: datetime) -> ProductMap:
    rows = health_rows(store, product, as_of=as_of)
    catalog = queries.series_catalog(store, product.key, SeriesKind.USAGE)
    kpis = catalog["name"].unique().tolist()
    pipelines = queries.pipeline_runs(store, product.key)["pipeline"].unique().tolist()
    items = queries.backlog_items(store, product.key)
    ledger, runs = ledger_with_runs(store, product, as_of=as_of)
    # only experiments with a linked run: an item nobody has run anything for yet links
    # to nothing, and a backlog of them would bury the map
    ledger = ledger.loc[ledger["key"].isin(set(runs["key"]))]
    versions = queries.model_versions(store, product.key)
    elements = map_elements(
        product.key, product.name,
        versions=versions,
        reports=queries.drift_reports(store, product.key),
        pipelines=pipelines, kpis=kpis,
        epics=open_items_by_epic(items), alert_items=alert_items(work_items(items)),
        statuses=_statuses(product, rows),
        product_status=product_status([r.result for r in rows]),
        experiments=ledger, experiment_runs=map_runs(ledger, runs, versions),
    )
    return ProductMap(elements, node_counts(elements))
