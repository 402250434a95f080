"""The relational schema of the dspo store, as typed SQLAlchemy 2.0 ORM classes.

Rows are not records (`store/records.py`): rows carry database ids and foreign keys, records
carry natural keys. Writes go through SQLAlchemy Core upserts (`store/writer.py`) and reads
return DataFrames (`store/queries.py`); the ORM classes exist so that the schema is declared
once, typed, and compared against the Alembic migrations by a test.

Every constraint and index gets a name from the MetaData naming convention, so a later
migration can drop or alter it by name on both SQLite (batch mode) and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL keeps the offset (`timestamptz`) but returns values in the session's time
    zone; SQLite keeps no offset at all. Binding converts to UTC (naive input is taken to
    be UTC, as `records.utc` does) and strips the offset for SQLite; results always come
    back aware UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _cascade(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="CASCADE")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        str: String(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str]
    name: Mapped[str]
    owner: Mapped[str] = mapped_column(default="")
    description: Mapped[str] = mapped_column(Text, default="")


class Series(Base):
    """Identity of one numeric series; `labels_key` is `records.labels_key(labels)`."""

    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("product_id", "kind", "name", "labels_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(_cascade("product.id"))
    kind: Mapped[str]
    name: Mapped[str]
    labels_key: Mapped[str] = mapped_column(Text)
    labels: Mapped[dict[str, Any]]
    unit: Mapped[str] = mapped_column(default="")


class SeriesPoint(Base):
    """One value of a series.

    The unique constraint (series_id, ts, step) is also the (series_id, ts) index: its
    leading columns serve range scans and `ORDER BY ts DESC LIMIT 1`, so a second index
    on the largest table would only slow ingest down.
    """

    __tablename__ = "point"
    __table_args__ = (UniqueConstraint("series_id", "ts", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(_cascade("series.id"))
    ts: Mapped[datetime]
    step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    value: Mapped[float] = mapped_column(Float)


class PointRollup(Base):
    """The points of one series in one hour or one UTC day, aggregated: what long-range
    charts and windowed means read instead of every raw point (`store/rollups.py`).

    Only values that are not NaN count (as `kpis.signals.aggregate` counts them); an hour
    or day holding no such value has no row. `last_value` is the newest such value (the
    highest step among those at `last_ts`). The writer keeps the rows of the buckets it
    touches up to date in the transaction that writes the points; retention (`dspo db
    prune`) deletes raw points, never rollups.
    """

    __tablename__ = "point_rollup"
    __table_args__ = (
        UniqueConstraint("series_id", "grain", "bucket"),
        CheckConstraint("grain IN ('hour', 'day')", name="grain"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(_cascade("series.id"))
    grain: Mapped[str]
    bucket: Mapped[datetime]  # the bucket's start, UTC
    n: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    lo: Mapped[float] = mapped_column(Float)
    hi: Mapped[float] = mapped_column(Float)
    last_value: Mapped[float] = mapped_column(Float)
    last_ts: Mapped[datetime]


class Model(Base):
    __tablename__ = "model"
    __table_args__ = (UniqueConstraint("product_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(_cascade("product.id"))
    name: Mapped[str]
    description: Mapped[str] = mapped_column(Text, default="")


class ModelVersion(Base):
    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_cascade("model.id"))
    version: Mapped[str]
    run_id: Mapped[str | None]
    status: Mapped[str]
    stage: Mapped[str | None]
    aliases: Mapped[list[str]]
    tags: Mapped[dict[str, Any]]
    created: Mapped[datetime]
    updated: Mapped[datetime | None]


class ModelAliasEvent(Base):
    """One move of a model's alias (`records.AliasEvent`); version NULL = alias removed."""

    __tablename__ = "model_alias_event"
    __table_args__ = (UniqueConstraint("model_id", "alias", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_cascade("model.id"))
    alias: Mapped[str]
    version: Mapped[str | None]
    ts: Mapped[datetime]
    origin: Mapped[str]


class Run(Base):
    __tablename__ = "run"
    __table_args__ = (UniqueConstraint("run_id"), Index(None, "product_id", "start"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(_cascade("product.id"))
    run_id: Mapped[str]
    experiment: Mapped[str]
    name: Mapped[str]
    status: Mapped[str]
    start: Mapped[datetime]
    end: Mapped[datetime | None]
    params: Mapped[dict[str, Any]]
    tags: Mapped[dict[str, Any]]
    model: Mapped[str | None]
    model_version: Mapped[str | None]
    url: Mapped[str | None] = mapped_column(Text)


class DriftReport(Base):
    __tablename__ = "drift_report"
    __table_args__ = (
        UniqueConstraint(
            "product_id", "dataset", "window_start", "window_end", name="uq_drift_report_window"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(_cascade("product.id"))
    dataset: Mapped[str]
    model: Mapped[str | None]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    dataset_drift: Mapped[bool] = mapped_column(Boolean)
    drifted_share: Mapped[float] = mapped_column(Float)
    drifted_count: Mapped[int] = mapped_column(Integer)
    column_count: Mapped[int] = mapped_column(Integer)
    report_path: Mapped[str | None] = mapped_column(Text)
    computed_at: Mapped[datetime | None]


class DriftFeature(Base):
    __tablename__ = "drift_feature"
    __table_args__ = (UniqueConstraint("report_id", "column"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(_cascade("drift_report.id"))
    column: Mapped[str]
    method: Mapped[str]
    score: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    drifted: Mapped[bool] = mapped_column(Boolean)


class DataQuality(Base):
    __tablename__ = "data_quality"
    __table_args__ = (UniqueConstraint("product_id", "dataset", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(_cascade("product.id"))
    dataset: Mapped[str]
    ts: Mapped[datetime]
    rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[int] = mapped_column(Integer)
    missing_share: Mapped[float] = mapped_column(Float)
    schema_changes: Mapped[list[str]]


class PipelineRun(Base):
    """A pipeline run, keyed by the collector source (or push source) that produced it and
    its id there: two Airflows may both have a run `scheduled__2026-11-01` of a DAG `etl`."""

    __tablename__ = "pipeline_run"
    __table_args__ = (UniqueConstraint("source", "run_id"), Index(None, "product_id", "start"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(_cascade("product.id"))
    source: Mapped[str]
    system: Mapped[str]
    pipeline: Mapped[str]
    run_id: Mapped[str]
    state: Mapped[str]
    start: Mapped[datetime]
    end: Mapped[datetime | None]
    trigger: Mapped[str | None]
    url: Mapped[str | None] = mapped_column(Text)
    run_type: Mapped[str | None]
    attempt: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    branch: Mapped[str | None]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PipelineTask(Base):
    """A task instance of a pipeline run (Airflow task, GitHub Actions job); `state` is the
    system's own word, so `upstream_failed` stays apart from `failed`."""

    __tablename__ = "pipeline_task"
    __table_args__ = (UniqueConstraint("run_id", "task_id", "map_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(_cascade("pipeline_run.id"))
    task_id: Mapped[str]
    map_index: Mapped[int] = mapped_column(Integer, default=-1)
    state: Mapped[str]
    start: Mapped[datetime | None]
    end: Mapped[datetime | None]
    duration: Mapped[float | None] = mapped_column(Float)
    try_number: Mapped[int | None] = mapped_column(Integer)
    operator: Mapped[str | None]


class Sprint(Base):
    """A sprint, keyed by the collector source that produced it and its id there."""

    __tablename__ = "sprint"
    __table_args__ = (UniqueConstraint("source", "external_id"), Index(None, "product_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(_cascade("product.id"))
    source: Mapped[str]
    external_id: Mapped[str]
    name: Mapped[str]
    state: Mapped[str]
    start: Mapped[datetime | None]
    end: Mapped[datetime | None]
    completed: Mapped[datetime | None]
    goal: Mapped[str] = mapped_column(Text, default="")


class BacklogItem(Base):
    """A backlog item, keyed by source and key; `origin` is 'imported' or 'alert'."""

    __tablename__ = "backlog_item"
    __table_args__ = (UniqueConstraint("source", "key"), Index(None, "product_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(_cascade("product.id"))
    source: Mapped[str]
    key: Mapped[str]
    title: Mapped[str] = mapped_column(Text)
    type: Mapped[str]
    status: Mapped[str]
    status_category: Mapped[str]
    points: Mapped[float | None] = mapped_column(Float)
    epic: Mapped[str | None]
    sprint: Mapped[str | None]
    created: Mapped[datetime]
    resolved: Mapped[datetime | None]
    labels: Mapped[list[str]]
    url: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str]
    updated_at: Mapped[datetime]
    description: Mapped[str | None] = mapped_column(Text)


class SprintReport(Base):
    """A tracker's own figures for a closed sprint (Jira's sprint report), in points."""

    __tablename__ = "sprint_report"
    __table_args__ = (UniqueConstraint("sprint_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sprint_id: Mapped[int] = mapped_column(_cascade("sprint.id"))
    committed: Mapped[float | None] = mapped_column(Float)
    completed: Mapped[float | None] = mapped_column(Float)
    not_completed: Mapped[float | None] = mapped_column(Float)
    removed: Mapped[float | None] = mapped_column(Float)
    added: Mapped[float | None] = mapped_column(Float)
    completed_keys: Mapped[list[str]]
    not_completed_keys: Mapped[list[str]]
    removed_keys: Mapped[list[str]]
    added_keys: Mapped[list[str]]


class SprintFigures(Base):
    """A closed sprint's velocity and carry-over as dspo computes them (`kpis.sprint_figures`),
    stored by the collection path so that pages do not rebuild them from item history.

    `stamp` is the product's backlog stamp they were computed on (`store/sprint_figures.py`):
    rows whose stamp is no longer the product's are ignored, and the sprint rebuilt live.
    """

    __tablename__ = "sprint_figures"
    __table_args__ = (UniqueConstraint("sprint_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sprint_id: Mapped[int] = mapped_column(_cascade("sprint.id"))
    stamp: Mapped[str] = mapped_column(Text)
    start: Mapped[datetime]
    closed_at: Mapped[datetime]
    settled_at: Mapped[datetime]
    commitment: Mapped[float] = mapped_column(Float)
    completed: Mapped[float] = mapped_column(Float)
    added_mid_sprint: Mapped[int] = mapped_column(Integer)
    removed_mid_sprint: Mapped[int] = mapped_column(Integer)
    carry_items: Mapped[int] = mapped_column(Integer)
    carry_points: Mapped[float] = mapped_column(Float)
    into_sprints: Mapped[float] = mapped_column(Float)
    to_backlog: Mapped[float] = mapped_column(Float)
    stayed: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime]


class ItemComment(Base):
    """A comment on one of dspo's own backlog items (an alert's repeat firing, a resolution)."""

    __tablename__ = "item_comment"
    __table_args__ = (Index(None, "item_id", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(_cascade("backlog_item.id"))
    ts: Mapped[datetime]
    author: Mapped[str]
    text: Mapped[str] = mapped_column(Text)


class ItemEvent(Base):
    __tablename__ = "item_event"
    __table_args__ = (UniqueConstraint("item_id", "ts", "field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(_cascade("backlog_item.id"))
    ts: Mapped[datetime]
    field: Mapped[str]
    from_value: Mapped[str | None] = mapped_column(Text)
    to_value: Mapped[str | None] = mapped_column(Text)


class CollectorRun(Base):
    """One run of one collector source; the latest 'ok' run holds the source's watermark.

    `rows_written` counts rows inserted, changed or deleted (a re-run that finds nothing new
    writes 0), `records_read` what the source yielded. A run whose process died is left
    'running' until the next run of the source marks it 'abandoned'. `holder` is the
    host:pid that ran it.
    """

    __tablename__ = "collector_run"
    __table_args__ = (
        CheckConstraint(
            "status IN ('running', 'ok', 'failed', 'abandoned')", name="status"
        ),
        Index(None, "source", "started"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str]
    kind: Mapped[str]
    started: Mapped[datetime]
    finished: Mapped[datetime | None]
    status: Mapped[str]
    rows_written: Mapped[int] = mapped_column(Integer, default=0)
    records_read: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    watermark: Mapped[datetime | None]
    holder: Mapped[str | None]


class CollectorLease(Base):
    """Who may run a source now: one row per source, taken while its `expires` is past or
    its holder is dead, so two schedulers (on two machines) never run one source at once."""

    __tablename__ = "collector_lease"

    source: Mapped[str] = mapped_column(String, primary_key=True)
    holder: Mapped[str]
    run_id: Mapped[int | None] = mapped_column(Integer)
    acquired: Mapped[datetime]
    expires: Mapped[datetime]


# ---------------------------------------------------------------- alerts

ALERT_STATES = ("normal", "pending", "firing", "recovering")
OUTBOX_ACTIONS = ("create", "comment", "resolve", "reopen")
OUTBOX_STATES = ("pending", "delivered", "dead", "discarded")


class Alert(Base):
    """The current state of one alert instance (rule + labels = fingerprint).

    `revision` grows with every change: updates are compare-and-set on it, so two
    evaluators never both apply a transition.
    """

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("fingerprint"),
        CheckConstraint(f"state IN {ALERT_STATES!r}", name="state"),
        Index(None, "product_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str]
    rule: Mapped[str]
    product_id: Mapped[int] = mapped_column(_cascade("product.id"))
    labels: Mapped[dict[str, Any]]
    state: Mapped[str]
    state_since: Mapped[datetime]
    pending_since: Mapped[datetime | None]
    fired_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    last_value: Mapped[float | None] = mapped_column(Float)
    last_evaluated_at: Mapped[datetime | None]
    severity: Mapped[str]
    summary: Mapped[str] = mapped_column(Text, default="")
    acknowledged_by: Mapped[str | None]
    acknowledged_at: Mapped[datetime | None]
    revision: Mapped[int] = mapped_column(Integer, default=0)


class AlertEvent(Base):
    """One state transition (or acknowledgement) of an alert: its history."""

    __tablename__ = "alert_event"
    __table_args__ = (UniqueConstraint("alert_id", "ts", "to_state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(_cascade("alert.id"))
    ts: Mapped[datetime]
    from_state: Mapped[str | None]
    to_state: Mapped[str]
    value: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")


class Silence(Base):
    """While active, matching alerts change state but file and update nothing."""

    __tablename__ = "silence"
    __table_args__ = (Index(None, "product_id", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(_cascade("product.id"))
    rule: Mapped[str | None]
    matchers: Mapped[dict[str, Any]]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str]
    created_at: Mapped[datetime]


class Outbox(Base):
    """An action for a sink, committed with the state change that caused it.

    `dedupe_key` makes enqueueing idempotent; `claimed_until` leases a row to one
    deliverer, so two `deliver` runs never send the same action twice. A row is `pending`
    until it is `delivered`; a fatal answer or too many attempts make it `dead` (kept, with
    the tracker's answer in `last_error`, until a PO retries or `discarded` it), and a
    failed attempt sets `next_attempt_at` (backoff) before which no deliverer sends it.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        CheckConstraint(f"action IN {OUTBOX_ACTIONS!r}", name="action"),
        CheckConstraint(f"state IN {OUTBOX_STATES!r}", name="state"),
        Index(None, "state", "id"),
        Index(None, "fingerprint", "sink"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str]
    sink: Mapped[str]
    action: Mapped[str]
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    dedupe_key: Mapped[str]
    state: Mapped[str] = mapped_column(String, default="pending")
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    discarded_at: Mapped[datetime | None]
    discarded_by: Mapped[str | None]


class AlertTicket(Base):
    """A ticket an alert instance has in a sink, as dspo last saw it."""

    __tablename__ = "alert_ticket"
    __table_args__ = (UniqueConstraint("fingerprint", "sink", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str]
    sink: Mapped[str]
    key: Mapped[str]
    url: Mapped[str | None] = mapped_column(Text)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution: Mapped[str | None]
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


# ---------------------------------------------------------------- people and access

ROLES = ("admin", "po", "stakeholder")


class User(Base):
    """Someone who signs in. `products` limits a PO to those products (empty: all);
    `session_version` grows on a password reset, a role change or a removal, which ends
    every session signed before it. `password_hash` is argon2; None for single sign-on."""

    __tablename__ = "dspo_user"
    __table_args__ = (
        UniqueConstraint("username"),
        CheckConstraint(f"role IN {ROLES!r}", name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str]
    display_name: Mapped[str] = mapped_column(default="")
    password_hash: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str]
    products: Mapped[list[str]]
    origin: Mapped[str] = mapped_column(default="local")  # local, or oidc
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]


class SignInAttempt(Base):
    """A sign-in attempt, kept to slow repeated failures per user and per address."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (Index(None, "username", "at"), Index(None, "address", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str]
    address: Mapped[str]
    at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(Boolean)


class AuditEvent(Base):
    """Who changed what, when: every state-changing action, shown to admins."""

    __tablename__ = "audit_event"
    __table_args__ = (Index(None, "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str]
    action: Mapped[str]
    target: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]]
    address: Mapped[str | None]


class ShareLink(Base):
    """A signed link that opens one stakeholder page without an account, until it expires
    or is revoked. The token is never stored: only its id, which the signature covers."""

    __tablename__ = "share_link"
    __table_args__ = (UniqueConstraint("link_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[str]
    page: Mapped[str]
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None]


class AppSecret(Base):
    """Secrets dspo makes for itself on first start (the session signing key), kept in
    the store so every worker and every restart shares them; never shown."""

    __tablename__ = "app_secret"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
