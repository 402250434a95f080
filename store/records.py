"""The typed records every collector yields and every store read can return.

Records are not rows: they carry natural keys (product key, source-side ids) instead of
database ids, so a collector never needs the database and the same record can be written
any number of times. All datetimes are timezone-aware UTC; `utc()` normalises anything a
source hands us.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


def utc(value: datetime) -> datetime:
    """Return `value` as aware UTC; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_from_ms(ms: int | float) -> datetime:
    """MLflow and many REST APIs speak epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000.0, tz=UTC)


DESCRIPTION_LIMIT = 20_000
"""Characters of an item's description kept: enough for a hypothesis and its criterion,
bounded whatever a tracker holds."""


def description_text(value: object) -> str | None:
    """A tracker's description as stored: text clipped to `DESCRIPTION_LIMIT`; None when
    empty or not text (a rich-text document: the v2 APIs read here answer with text)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text[:DESCRIPTION_LIMIT] or None


def labels_key(labels: Mapping[str, str]) -> str:
    """Canonical text of a label set, so equal label sets give equal series keys."""
    return json.dumps(dict(sorted(labels.items())), separators=(",", ":"), ensure_ascii=False)


class SeriesKind(StrEnum):
    """The families of numeric series; charts and objectives select by kind + name + labels."""

    MODEL_METRIC = "model_metric"
    USAGE = "usage"
    DRIFT = "drift"
    DATA_QUALITY = "data_quality"
    PIPELINE = "pipeline"


class PipelineState(StrEnum):
    """A run's state, normalised across systems; the system's own word is kept in `detail`.

    Only success and failed count as finished for success rates: a cancelled or skipped
    run says nothing about whether the pipeline works.
    """

    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class StatusCategory(StrEnum):
    """Jira's three status categories; every tracker's statuses map onto them."""

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class ItemField(StrEnum):
    """The item fields whose history burndown, velocity and flow are rebuilt from."""

    STATUS = "status"
    STATUS_CATEGORY = "status_category"
    POINTS = "points"
    SPRINT = "sprint"


class Origin(StrEnum):
    IMPORTED = "imported"
    ALERT = "alert"


class AliasOrigin(StrEnum):
    """How dspo learned of an alias move.

    `tag`: the registered model's `dspo.alias_history` tag, written by the deployment job
    when it moved the alias (the time is the job's). `observed`: the store held another
    version for the alias when the collector read the registry (the time is when dspo
    wrote it, so at most one collect interval late).
    """

    TAG = "tag"
    OBSERVED = "observed"


@dataclass(frozen=True)
class Point:
    """One value of a numeric series (product, kind, name, labels)."""

    product: str
    kind: SeriesKind
    name: str
    ts: datetime
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)
    unit: str = ""
    step: int = 0


@dataclass(frozen=True)
class Model:
    product: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class ModelVersion:
    product: str
    model: str
    version: str
    run_id: str | None
    created: datetime
    updated: datetime | None = None
    status: str = "READY"
    stage: str | None = None
    aliases: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AliasEvent:
    """A registered model's alias was set to `version` at `ts`; `version` None = removed.

    MLflow keeps only where each alias points now; these events are the promotion history
    that DORA-for-ML is computed from. `origin` is an `AliasOrigin` value.
    """

    product: str
    model: str
    alias: str
    version: str | None
    ts: datetime
    origin: str = AliasOrigin.TAG


@dataclass(frozen=True)
class Run:
    """An MLflow run (or any tracked training/evaluation run); its metrics are `Point`s."""

    product: str
    run_id: str
    experiment: str
    name: str
    status: str
    start: datetime
    end: datetime | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    model: str | None = None
    model_version: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class DriftFeature:
    column: str
    method: str
    score: float
    threshold: float
    drifted: bool


@dataclass(frozen=True)
class DriftReport:
    """Summary of one data-drift report over one window of one dataset."""

    product: str
    dataset: str
    window_start: datetime
    window_end: datetime
    dataset_drift: bool
    drifted_share: float
    drifted_count: int
    column_count: int
    features: tuple[DriftFeature, ...] = ()
    model: str | None = None
    report_path: str | None = None
    computed_at: datetime | None = None


@dataclass(frozen=True)
class DataQuality:
    product: str
    dataset: str
    ts: datetime
    rows: int
    columns: int
    missing_share: float
    schema_changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PipelineRun:
    """One run of a pipeline (an Airflow DAG run, a GitHub Actions workflow run, ...).

    `run_id` is unique within the source that yields it (the writer keys runs by source and
    run id). `duration` is the system's own figure in seconds where it reports one (Airflow
    does), else None and readers use end - start. `attempt` is the run's attempt number
    (GitHub's run_attempt); `run_type` how it started (scheduled, manual, backfill, push,
    pull_request...); `detail` keeps the system's own words (raw state, conclusion, event,
    head sha) for display.
    """

    product: str
    system: str
    pipeline: str
    run_id: str
    state: PipelineState
    start: datetime
    end: datetime | None = None
    trigger: str | None = None
    url: str | None = None
    run_type: str | None = None
    attempt: int | None = None
    duration: float | None = None
    branch: str | None = None
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineTask:
    """One task instance of a pipeline run (an Airflow task try, a GitHub Actions job).

    `state` is the system's own word (success, failed, upstream_failed, skipped, ...): the
    page lists failed tasks by it. Keyed by (source, run_id, task_id, map_index); the run
    must be written by the same source, before or with its tasks.
    """

    product: str
    run_id: str
    task_id: str
    state: str
    start: datetime | None = None
    end: datetime | None = None
    duration: float | None = None
    try_number: int | None = None
    map_index: int = -1
    operator: str | None = None


@dataclass(frozen=True)
class Sprint:
    product: str
    external_id: str
    name: str
    state: str
    start: datetime | None
    end: datetime | None
    completed: datetime | None = None
    goal: str = ""


@dataclass(frozen=True)
class BacklogItem:
    product: str
    key: str
    title: str
    type: str
    status: str
    status_category: StatusCategory
    created: datetime
    points: float | None = None
    epic: str | None = None
    sprint: str | None = None
    resolved: datetime | None = None
    labels: tuple[str, ...] = ()
    url: str | None = None
    origin: Origin = Origin.IMPORTED
    description: str | None = None  # the tracker's text (untrusted): never rendered as markup


@dataclass(frozen=True)
class SprintReport:
    """A tracker's own figures for a closed sprint (Jira's sprint report), in points.

    Kept beside dspo's reconstruction from item history, so the Sprint page can show both
    and say where they differ. Key lists name the items behind each figure.
    """

    product: str
    sprint: str  # the sprint's external id, as in `Sprint.external_id`
    committed: float | None
    completed: float | None
    not_completed: float | None
    removed: float | None
    added: float | None
    completed_keys: tuple[str, ...] = ()
    not_completed_keys: tuple[str, ...] = ()
    removed_keys: tuple[str, ...] = ()
    added_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemEvent:
    """One change of one item field; `to_value` None means cleared (e.g. removed from sprint)."""

    product: str
    item_key: str
    ts: datetime
    field: ItemField
    from_value: str | None
    to_value: str | None


class Entity(StrEnum):
    """What a source can report deleted upstream; each is keyed within its source."""

    BACKLOG_ITEM = "backlog_item"  # key: the item key
    SPRINT = "sprint"  # key: the sprint's external id
    PIPELINE_RUN = "pipeline_run"  # key: the run id


@dataclass(frozen=True)
class Deleted:
    """The source says this entity no longer exists (a deleted issue, a removed sprint)."""

    product: str
    entity: Entity
    key: str


@dataclass(frozen=True)
class Present:
    """The complete set of keys of `entity` that exist upstream in a scope.

    Rows of the writing source (and product) in that scope whose key is not listed are
    deleted: this is how a collector that can list everything cheaply (a board's sprints,
    an issue search returning keys only) reflects deletions it is never told about.
    `scope` narrows the comparison: {"pipeline": name} for the runs of one pipeline.
    """

    product: str
    entity: Entity
    keys: frozenset[str]
    scope: Mapping[str, str] = field(default_factory=dict)


def records_read(records: list[Record]) -> int:
    """How many records a source read: a `Present` key listing is bookkeeping, not data."""
    return sum(1 for x in records if not isinstance(x, Present))


Record = (
    Point
    | Model
    | ModelVersion
    | AliasEvent
    | Run
    | DriftReport
    | DataQuality
    | PipelineRun
    | PipelineTask
    | Sprint
    | SprintReport
    | BacklogItem
    | ItemEvent
    | Deleted
    | Present
)
