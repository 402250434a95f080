"""The record kinds the push API accepts: URL, payload model, example, and records.

One table read by the routes (`api.py`) and the OpenAPI document (`openapi.py`), so a kind
added here is served and documented at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from collectors.push import examples
from collectors.push.deployments import deployment_records, held
from collectors.push.mapping import (
    backlog_records,
    drift_records,
    metric_records,
    pipeline_records,
)
from collectors.push.models import (
    BacklogItemIn,
    DeploymentIn,
    DriftReportIn,
    MetricPointIn,
    Payload,
    PipelineRunIn,
)
from config.sources.push import PushKind, PushSource
from store.db import Store
from store.records import Record

ToRecords = Callable[[Sequence[Any], PushSource, Store], list[Record]]


@dataclass(frozen=True)
class Kind:
    name: PushKind  # as `accepts` in the source's settings names it
    path: str  # the last URL segment
    model: type[Payload]
    summary: str
    key: str  # what makes a re-sent object the same one (docs)
    example: Any
    records: ToRecords


def _pipeline_runs(items: Sequence[PipelineRunIn], source: PushSource, _: Store) -> list[Record]:
    return list(pipeline_records(items, source.product, source.pipeline_system))


def _deployments(items: Sequence[DeploymentIn], source: PushSource, store: Store) -> list[Record]:
    stored = held(store, source.product, (d.model for d in items))
    return deployment_records(items, source.product, stored)


def _metrics(items: Sequence[MetricPointIn], source: PushSource, _: Store) -> list[Record]:
    return list(metric_records(items, source.product))


def _drift(items: Sequence[DriftReportIn], source: PushSource, _: Store) -> list[Record]:
    return list(drift_records(items, source.product))


def _backlog_items(items: Sequence[BacklogItemIn], source: PushSource, _: Store) -> list[Record]:
    return list(backlog_records(items, source.product))


KINDS: tuple[Kind, ...] = (
    Kind("pipeline_runs", "pipeline-runs", PipelineRunIn,
         "Pipeline runs (with their tasks) of Jenkins, GitLab CI, Kubeflow, Luigi, ...",
         "run_id", examples.PIPELINE_RUN, _pipeline_runs),
    Kind("deployments", "deployments", DeploymentIn,
         "Model deployments and promotions: an alias now serves a version",
         "(model, alias, at)", examples.DEPLOYMENT, _deployments),
    Kind("metrics", "metrics", MetricPointIn,
         "Metric points: model quality (model_metric) or product usage (usage)",
         "(name, labels, ts, step)", examples.METRIC_POINTS, _metrics),
    Kind("drift", "drift-reports", DriftReportIn,
         "Data drift results of one dataset over one window",
         "(dataset, window_start, window_end)", examples.DRIFT_REPORT, _drift),
    Kind("backlog_items", "backlog-items", BacklogItemIn,
         "Backlog items (with optional field history) of a tracker with no collector",
         "key", examples.BACKLOG_ITEM, _backlog_items),
)
BY_PATH: dict[str, Kind] = {k.path: k for k in KINDS}
