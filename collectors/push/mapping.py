"""Validated push payloads to the records every collector yields (`store/records.py`).

Pure functions: no store, no request. Deployments need the store's current aliases and
live in `collectors/push/deployments.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from collectors.files import STATUS_DEFAULTS
from collectors.push.models import (
    BacklogItemIn,
    DriftReportIn,
    ItemEventIn,
    MetricPointIn,
    PipelineRunIn,
)
from store.records import (
    BacklogItem,
    DriftFeature,
    DriftReport,
    ItemEvent,
    ItemField,
    PipelineRun,
    PipelineState,
    PipelineTask,
    Point,
    Record,
    SeriesKind,
    StatusCategory,
    utc,
)


def pipeline_records(
    runs: Sequence[PipelineRunIn], product: str, system: str
) -> Iterator[Record]:
    """Each run, then its tasks (the writer stores a run before the tasks that name it)."""
    for run in runs:
        yield PipelineRun(
            product=product, system=system, pipeline=run.pipeline, run_id=run.run_id,
            state=PipelineState(run.state), start=utc(run.start),
            end=utc(run.end) if run.end else None, trigger=run.trigger, url=run.url,
            run_type=run.run_type, attempt=run.attempt, duration=run.duration,
            branch=run.branch, detail=dict(run.detail),
        )
        for task in run.tasks:
            yield PipelineTask(
                product=product, run_id=run.run_id, task_id=task.task_id, state=task.state,
                start=utc(task.start) if task.start else None,
                end=utc(task.end) if task.end else None, duration=task.duration,
                try_number=task.try_number, map_index=task.map_index, operator=task.operator,
            )


def metric_records(points: Sequence[MetricPointIn], product: str) -> Iterator[Record]:
    for x in points:
        yield Point(product=product, kind=SeriesKind(x.kind), name=x.name, ts=utc(x.ts),
                    value=x.value, labels=dict(x.labels), unit=x.unit, step=x.step)


def drift_records(reports: Sequence[DriftReportIn], product: str) -> Iterator[Record]:
    for x in reports:
        share, drifted, columns = x.summary()
        yield DriftReport(
            product=product, dataset=x.dataset, window_start=utc(x.window_start),
            window_end=utc(x.window_end), dataset_drift=x.dataset_drift, drifted_share=share,
            drifted_count=drifted, column_count=columns,
            features=tuple(DriftFeature(f.column, f.method, f.score, f.threshold, f.drifted)
                           for f in x.columns()),
            model=x.model, computed_at=utc(x.computed_at) if x.computed_at else None,
        )


def backlog_records(items: Sequence[BacklogItemIn], product: str) -> Iterator[Record]:
    """Each item, then its history (the writer stores an item before events naming it)."""
    for x in items:
        assert x.status_category is not None  # the model fills it in from the status
        yield BacklogItem(
            product=product, key=x.key, title=x.title, type=x.type, status=x.status,
            status_category=StatusCategory(x.status_category), created=utc(x.created),
            points=x.points, epic=x.epic, sprint=x.sprint,
            resolved=utc(x.resolved) if x.resolved else None, labels=tuple(x.labels),
            url=x.url,
        )
        yield from _history(x.history, product, x.key)


def _history(events: Sequence[ItemEventIn], product: str, key: str) -> Iterator[ItemEvent]:
    """The item's events, plus the status category moves its status events imply.

    Flow and burndown read status *category* changes; a tracker's history usually has
    status changes only. A status change between common names (To Do, In Progress, Done,
    ...) implies a category change, added unless the caller sent one at that time.
    """
    explicit = {utc(e.ts) for e in events if e.field == "status_category"}
    for e in events:
        ts = utc(e.ts)
        before, after = e.from_value, e.to_value
        yield ItemEvent(product, key, ts, ItemField(e.field), before, after)
        if e.field != "status" or ts in explicit:
            continue
        moved = _category(before), _category(after)
        if moved[1] is not None and moved[0] != moved[1]:
            yield ItemEvent(product, key, ts, ItemField.STATUS_CATEGORY, moved[0], moved[1])


def _category(status: str | None) -> str | None:
    if status is None:
        return None
    category = STATUS_DEFAULTS.get(" ".join(status.lower().split()))
    return category.value if category is not None else None

