"""Records to table rows: natural keys in, database ids and plain JSON values out.

Records are not rows (STYLE habit 1). These functions are the one place that knows how a
record's fields map onto columns, so the writer only resolves ids and batches. Enum values
become their plain strings; mappings and tuples become JSON objects and lists.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from typing import Any

from store import records as r

Row = dict[str, Any]


def natural_key(x: r.Record) -> Hashable:
    """The identity a record is upserted by, so duplicates within one batch collapse.

    Pipeline runs, sprints and backlog items are keyed by (source, id); the writer handles
    one source at a time, so the id alone is unique within a write.
    """
    match x:
        case r.Point():
            return (x.product, str(x.kind), x.name, r.labels_key(x.labels), r.utc(x.ts), x.step)
        case r.Model():
            return (x.product, x.name)
        case r.ModelVersion():
            return (x.product, x.model, x.version)
        case r.AliasEvent():
            return (x.product, x.model, x.alias, r.utc(x.ts))
        case r.Run():
            return x.run_id
        case r.DriftReport():
            return (x.product, x.dataset, r.utc(x.window_start), r.utc(x.window_end))
        case r.DataQuality():
            return (x.product, x.dataset, r.utc(x.ts))
        case r.PipelineRun():
            return x.run_id
        case r.PipelineTask():
            return (x.run_id, x.task_id, x.map_index)
        case r.Sprint():
            return x.external_id
        case r.SprintReport():
            return x.sprint
        case r.BacklogItem():
            return x.key
        case r.ItemEvent():
            return (x.item_key, r.utc(x.ts), str(x.field))
        case r.Deleted():
            return (x.product, str(x.entity), x.key)
        case r.Present():
            return (x.product, str(x.entity), tuple(sorted(x.scope.items())))
    raise TypeError(f"not a store record: {type(x).__name__}")


SeriesKey = tuple[int, str, str, str]
PointKey = tuple[str, str, str, str, datetime, int]  # product, kind, name, labels_key, ts, step


def series_row(x: r.Point, product_id: int, labels_key: str | None = None) -> Row:
    """The point's series; `labels_key` when the caller already encoded the labels."""
    if labels_key is None:
        labels_key = r.labels_key(x.labels)
    return {
        "product_id": product_id,
        "kind": str(x.kind),
        "name": x.name,
        "labels_key": labels_key,
        "labels": dict(x.labels),
        "unit": x.unit,
    }


def model_row(x: r.Model, product_id: int) -> Row:
    return {"product_id": product_id, "name": x.name, "description": x.description}


def model_version_row(x: r.ModelVersion, model_id: int) -> Row:
    return {
        "model_id": model_id,
        "version": x.version,
        "run_id": x.run_id,
        "status": x.status,
        "stage": x.stage,
        "aliases": list(x.aliases),
        "tags": dict(x.tags),
        "created": x.created,
        "updated": x.updated,
    }


def alias_event_row(x: r.AliasEvent, model_id: int) -> Row:
    return {
        "model_id": model_id,
        "alias": x.alias,
        "version": x.version,
        "ts": x.ts,
        "origin": str(x.origin),
    }


def run_row(x: r.Run, product_id: int) -> Row:
    return {
        "product_id": product_id,
        "run_id": x.run_id,
        "experiment": x.experiment,
        "name": x.name,
        "status": x.status,
        "start": x.start,
        "end": x.end,
        "params": dict(x.params),
        "tags": dict(x.tags),
        "model": x.model,
        "model_version": x.model_version,
        "url": x.url,
    }


def drift_report_row(x: r.DriftReport, product_id: int) -> Row:
    return {
        "product_id": product_id,
        "dataset": x.dataset,
        "window_start": x.window_start,
        "window_end": x.window_end,
        "model": x.model,
        "dataset_drift": x.dataset_drift,
        "drifted_share": x.drifted_share,
        "drifted_count": x.drifted_count,
        "column_count": x.column_count,
        "report_path": x.report_path,
        "computed_at": x.computed_at,
    }


def drift_feature_row(x: r.DriftFeature, report_id: int) -> Row:
    return {
        "report_id": report_id,
        "column": x.column,
        "method": x.method,
        "score": x.score,
        "threshold": x.threshold,
        "drifted": x.drifted,
    }


def data_quality_row(x: r.DataQuality, product_id: int) -> Row:
    return {
        "product_id": product_id,
        "dataset": x.dataset,
        "ts": x.ts,
        "rows": x.rows,
        "columns": x.columns,
        "missing_share": x.missing_share,
        "schema_changes": list(x.schema_changes),
    }


def pipeline_run_row(x: r.PipelineRun, source: str, product_id: int) -> Row:
    return {
        "source": source,
        "product_id": product_id,
        "system": x.system,
        "run_id": x.run_id,
        "pipeline": x.pipeline,
        "state": str(x.state),
        "start": x.start,
        "end": x.end,
        "trigger": x.trigger,
        "url": x.url,
        "run_type": x.run_type,
        "attempt": x.attempt,
        "duration": x.duration,
        "branch": x.branch,
        "detail": dict(x.detail),
    }


def pipeline_task_row(x: r.PipelineTask, run_id: int) -> Row:
    return {
        "run_id": run_id,
        "task_id": x.task_id,
        "map_index": x.map_index,
        "state": x.state,
        "start": x.start,
        "end": x.end,
        "duration": x.duration,
        "try_number": x.try_number,
        "operator": x.operator,
    }


def sprint_report_row(x: r.SprintReport, sprint_id: int) -> Row:
    return {
        "sprint_id": sprint_id,
        "committed": x.committed,
        "completed": x.completed,
        "not_completed": x.not_completed,
        "removed": x.removed,
        "added": x.added,
        "completed_keys": list(x.completed_keys),
        "not_completed_keys": list(x.not_completed_keys),
        "removed_keys": list(x.removed_keys),
        "added_keys": list(x.added_keys),
    }


def sprint_row(x: r.Sprint, source: str, product_id: int) -> Row:
    return {
        "source": source,
        "external_id": x.external_id,
        "product_id": product_id,
        "name": x.name,
        "state": x.state,
        "start": x.start,
        "end": x.end,
        "completed": x.completed,
        "goal": x.goal,
    }


def backlog_item_row(x: r.BacklogItem, source: str, product_id: int, now: datetime) -> Row:
    return {
        "source": source,
        "key": x.key,
        "product_id": product_id,
        "title": x.title,
        "type": x.type,
        "status": x.status,
        "status_category": str(x.status_category),
        "points": x.points,
        "epic": x.epic,
        "sprint": x.sprint,
        "created": x.created,
        "resolved": x.resolved,
        "labels": list(x.labels),
        "url": x.url,
        "origin": str(x.origin),
        "updated_at": now,
        "description": x.description,
    }


def item_event_row(x: r.ItemEvent, item_id: int) -> Row:
    return {
        "item_id": item_id,
        "ts": x.ts,
        "field": str(x.field),
        "from_value": x.from_value,
        "to_value": x.to_value,
    }
