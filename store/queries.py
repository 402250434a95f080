"""Named read functions: a `Store` in, a pandas DataFrame out.

Callbacks, KPIs and alert rules call these instead of writing SQL (only `store/` writes
SQL). Every frame has a fixed column list, also when empty, and every datetime column is
`datetime64[ns, UTC]`; convert to naive UTC or epoch ms only at the Plotly boundary.
Series reads (`series_points`, `latest_point`, model metrics) live in `store/series.py`
and are re-exported here, so there is one module to import.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Select, and_, func, or_, select

from store import schema as s
from store.alert_queries import (
    alert_events,
    alert_incidents,
    alert_tickets,
    alerts,
    item_comments,
    outbox,
    silences,
)
from store.db import Store
from store.frames import read
from store.records import ItemField
from store.series import (
    latest_point,
    metric_names,
    model_metric_latest,
    model_metric_points,
    model_metric_tail,
    series_catalog,
    series_points,
)
from store.upsert import batched

__all__ = [
    "alert_events",
    "alert_incidents",
    "alert_tickets",
    "alerts",
    "alias_events",
    "backlog_items",
    "collector_status",
    "data_quality",
    "drift_features",
    "drift_reports",
    "item_comments",
    "item_events",
    "latest_point",
    "metric_names",
    "model_metric_latest",
    "model_metric_points",
    "model_metric_tail",
    "model_versions",
    "outbox",
    "pipeline_runs",
    "pipeline_tasks",
    "products",
    "resolve_version",
    "runs",
    "series_catalog",
    "series_points",
    "silences",
    "sprints",
]

P = s.Product
_Sel = TypeVar("_Sel", bound=Select[*tuple[Any, ...]])


def _of(stmt: _Sel, product: str, product_col: Any) -> _Sel:
    """Restrict `stmt` to one product by key."""
    return stmt.join(P, P.id == product_col).where(P.key == product)


def products(store: Store) -> pd.DataFrame:
    stmt = select(P.key, P.name, P.owner, P.description).order_by(P.key)
    return read(store, stmt, ["key", "name", "owner", "description"])


def collector_status(store: Store) -> pd.DataFrame:
    """One row per source: its latest run, and when its latest successful run finished."""
    C = s.CollectorRun
    # The latest run per source (ties on `started` broken by id), via the (source, started) index.
    newest = select(C.source, func.max(C.started).label("started")).group_by(C.source).subquery()
    last_ids = (
        select(func.max(C.id).label("id"))
        .join(newest, and_(newest.c.source == C.source, newest.c.started == C.started))
        .group_by(C.source)
        .subquery()
    )
    ok = (
        select(C.source, func.max(C.finished).label("last_success"))
        .where(C.status == "ok")
        .group_by(C.source)
        .subquery()
    )
    stmt = (
        select(
            C.source,
            C.kind,
            C.started,
            C.finished,
            C.status,
            C.rows_written,
            C.records_read,
            C.error,
            ok.c.last_success,
        )
        .join(last_ids, last_ids.c.id == C.id)
        .outerjoin(ok, ok.c.source == C.source)
        .order_by(C.source)
    )
    columns = [
        "source",
        "kind",
        "started",
        "finished",
        "status",
        "rows_written",
        "records_read",
        "error",
        "last_success",
    ]
    return read(store, stmt, columns, times=["started", "finished", "last_success"])


RUN_COLUMNS = ["source", "kind", "started", "finished", "status", "rows_written",
               "records_read", "error", "holder"]


def collector_runs(store: Store, source: str, limit: int = 20) -> pd.DataFrame:
    """A source's latest runs, newest first; bounded by `limit` whatever its history."""
    C = s.CollectorRun
    stmt = (
        select(C.source, C.kind, C.started, C.finished, C.status, C.rows_written,
               C.records_read, C.error, C.holder)
        .where(C.source == source)
        .order_by(C.started.desc(), C.id.desc())
        .limit(limit)
    )
    return read(store, stmt, RUN_COLUMNS, times=["started", "finished"])


def model_versions(store: Store, product: str, model: str | None = None) -> pd.DataFrame:
    M, V = s.Model, s.ModelVersion
    stmt = _of(
        select(M.name, V.version, V.run_id, V.status, V.stage, V.aliases, V.created, V.updated)
        .select_from(V)
        .join(M, M.id == V.model_id),
        product,
        M.product_id,
    )
    if model is not None:
        stmt = stmt.where(M.name == model)
    columns = ["model", "version", "run_id", "status", "stage", "aliases", "created", "updated"]
    df = read(store, stmt.order_by(M.name, V.created, V.id), columns, times=["created", "updated"])
    df["aliases"] = [list(a or []) for a in df["aliases"]]
    return df


ALIAS_EVENT_COLUMNS = ["model", "alias", "version", "ts", "origin"]


def alias_events(store: Store, product: str, model: str | None = None) -> pd.DataFrame:
    """Every recorded move of the product's model aliases, oldest first: [model, alias,
    version, ts, origin]; version None means the alias was removed."""
    M, E = s.Model, s.ModelAliasEvent
    stmt = _of(
        select(M.name, E.alias, E.version, E.ts, E.origin)
        .select_from(E)
        .join(M, M.id == E.model_id),
        product,
        M.product_id,
    )
    if model is not None:
        stmt = stmt.where(M.name == model)
    stmt = stmt.order_by(E.ts, M.name, E.alias)
    return read(store, stmt, ALIAS_EVENT_COLUMNS, times=["ts"])


def _version_order(version: str) -> tuple[int, int | str]:
    """MLflow versions are integers in text; compare them as numbers where they are."""
    return (0, int(version)) if version.isdigit() else (1, version)


def resolve_version(
    store: Store,
    product: str,
    model: str,
    alias: str | None = None,
    version: str | None = None,
) -> str | None:
    """The version an objective or chart means.

    A given `version` is returned if it exists; else the version carrying `alias` (or, for
    registries that still use stages, whose stage equals `alias` ignoring case); with
    neither, the newest version. None when nothing matches.
    """
    df = model_versions(store, product, model)
    if df.empty:
        return None
    if version is not None:
        return version if version in set(df["version"]) else None
    if alias is not None:
        with_alias = df[[alias in a for a in df["aliases"]]]
        if with_alias.empty:
            with_alias = df[df["stage"].fillna("").str.lower() == alias.lower()]
        if with_alias.empty:
            return None
        return str(max(with_alias["version"], key=_version_order))
    return str(max(df["version"], key=_version_order))


def runs(store: Store, product: str) -> pd.DataFrame:
    R = s.Run
    stmt = _of(
        select(
            R.run_id,
            R.experiment,
            R.name,
            R.status,
            R.start,
            R.end,
            R.model,
            R.model_version,
            R.url,
        ),
        product,
        R.product_id,
    ).order_by(R.start, R.run_id)
    columns = [
        "run_id",
        "experiment",
        "name",
        "status",
        "start",
        "end",
        "model",
        "model_version",
        "url",
    ]
    return read(store, stmt, columns, times=["start", "end"])


DRIFT_REPORT_COLUMNS = [
    "dataset",
    "model",
    "window_start",
    "window_end",
    "dataset_drift",
    "drifted_share",
    "drifted_count",
    "column_count",
    "report_path",
    "computed_at",
]


def _window_rows() -> Any:
    """The current data's row count of a drift report's window: its dataset's data quality
    at the window's end (written with the report), NULL where the source gave none."""
    D, Q = s.DriftReport, s.DataQuality
    return (select(Q.rows).where(Q.product_id == D.product_id, Q.dataset == D.dataset,
                                 Q.ts == D.window_end)
            .limit(1).correlate(D).scalar_subquery())


def drift_reports(store: Store, product: str, dataset: str | None = None) -> pd.DataFrame:
    """The product's drift reports by window end, each with its window's `rows`."""
    D = s.DriftReport
    stmt = _of(select(*(getattr(D, c) for c in DRIFT_REPORT_COLUMNS), _window_rows()),
               product, D.product_id)
    if dataset is not None:
        stmt = stmt.where(D.dataset == dataset)
    stmt = stmt.order_by(D.window_end, D.dataset)
    times = ["window_start", "window_end", "computed_at"]
    return read(store, stmt, [*DRIFT_REPORT_COLUMNS, "rows"], times=times,
                dtypes={"rows": "float64"})


def drift_features(store: Store, product: str, dataset: str) -> pd.DataFrame:
    D, F = s.DriftReport, s.DriftFeature
    stmt = (
        _of(
            select(D.window_end, F.column, F.method, F.score, F.threshold, F.drifted,
                   _window_rows())
            .select_from(F)
            .join(D, D.id == F.report_id),
            product,
            D.product_id,
        )
        .where(D.dataset == dataset)
        .order_by(D.window_end, F.column)
    )
    columns = ["window_end", "column", "method", "score", "threshold", "drifted", "rows"]
    return read(store, stmt, columns, times=["window_end"], dtypes={"rows": "float64"})


def run_urls(store: Store, run_ids: list[str]) -> dict[str, str]:
    """Links of the given runs (those that have one)."""
    R = s.Run
    found: dict[str, str] = {}
    for chunk in batched(sorted(set(run_ids)), 1000):
        with store.session() as session:
            rows = session.execute(select(R.run_id, R.url).where(R.run_id.in_(chunk),
                                                                  R.url.is_not(None)))
            found.update({run: str(url) for run, url in rows.tuples()})
    return found


def data_quality(store: Store, product: str, dataset: str | None = None) -> pd.DataFrame:
    Q = s.DataQuality
    stmt = _of(
        select(Q.dataset, Q.ts, Q.rows, Q.columns, Q.missing_share, Q.schema_changes),
        product,
        Q.product_id,
    )
    if dataset is not None:
        stmt = stmt.where(Q.dataset == dataset)
    columns = ["dataset", "ts", "rows", "columns", "missing_share", "schema_changes"]
    df = read(store, stmt.order_by(Q.ts, Q.dataset), columns, times=["ts"])
    df["schema_changes"] = [list(c or []) for c in df["schema_changes"]]
    return df


PIPELINE_RUN_COLUMNS = [
    "system", "pipeline", "run_id", "state", "start", "end", "trigger", "url", "run_type",
    "duration",
]  # fmt: skip


def pipeline_runs(store: Store, product: str, since: datetime | None = None) -> pd.DataFrame:
    """Runs of the product's pipelines by start; `duration` is the system's own seconds
    (Airflow's), NaN where the system reports none."""
    R = s.PipelineRun
    stmt = _of(select(*(getattr(R, c) for c in PIPELINE_RUN_COLUMNS)), product, R.product_id)
    if since is not None:
        stmt = stmt.where(R.start >= since)
    return read(store, stmt.order_by(R.start, R.run_id), PIPELINE_RUN_COLUMNS,
                times=["start", "end"], dtypes={"duration": "float64"})


PIPELINE_TASK_COLUMNS = [
    "pipeline", "run_id", "run_state", "run_start", "task_id", "map_index", "state", "start",
    "end", "duration", "try_number", "operator",
]  # fmt: skip


def pipeline_tasks(
    store: Store, product: str, start: datetime, end: datetime,
    states: Sequence[str] | None = None, limit: int = 500,
    run_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Task instances of the runs started in [start, end), newest run first, at most `limit`
    rows; `states` keeps only tasks in those states (the system's own words, e.g. failed),
    `run_ids` only the tasks of those runs.

    Bounded by the page's date range (the (product_id, start) index on pipeline_run) and
    by `limit`, so a page never reads a pipeline's whole task history.
    """
    R, T = s.PipelineRun, s.PipelineTask
    stmt = _of(
        select(R.pipeline, R.run_id, R.state, R.start, T.task_id, T.map_index, T.state,
               T.start, T.end, T.duration, T.try_number, T.operator)
        .select_from(T)
        .join(R, R.id == T.run_id),
        product,
        R.product_id,
    ).where(R.start >= start, R.start < end)
    if states is not None:
        stmt = stmt.where(T.state.in_(list(states)))
    if run_ids is not None:
        stmt = stmt.where(R.run_id.in_(list(run_ids)))
    stmt = stmt.order_by(R.start.desc(), R.run_id, T.start.is_(None), T.start, T.task_id,
                         T.map_index).limit(limit)
    return read(store, stmt, PIPELINE_TASK_COLUMNS, times=["run_start", "start", "end"],
                dtypes={"duration": "float64"})


def sprints(store: Store, product: str) -> pd.DataFrame:
    S = s.Sprint
    stmt = _of(
        select(S.source, S.external_id, S.name, S.state, S.start, S.end, S.completed, S.goal),
        product,
        S.product_id,
    ).order_by(S.start.is_(None), S.start, S.external_id)
    columns = ["source", "external_id", "name", "state", "start", "end", "completed", "goal"]
    return read(store, stmt, columns, times=["start", "end", "completed"])


BACKLOG_COLUMNS = [
    "source",
    "key",
    "title",
    "type",
    "status",
    "status_category",
    "points",
    "epic",
    "sprint",
    "created",
    "resolved",
    "labels",
    "url",
    "origin",
]


def backlog_items(store: Store, product: str) -> pd.DataFrame:
    B = s.BacklogItem
    stmt = _of(select(*(getattr(B, c) for c in BACKLOG_COLUMNS)), product, B.product_id)
    df = read(
        store, stmt.order_by(B.created, B.key), BACKLOG_COLUMNS, times=["created", "resolved"]
    )
    df["labels"] = [list(x or []) for x in df["labels"]]
    df["points"] = df["points"].astype("float64")
    return df


def item_events(store: Store, product: str, sprints: Collection[str] | None = None
                ) -> pd.DataFrame:
    """Every event of the product's items; with `sprints` (external ids), only those of the
    items that were ever in one of them (in it now, or moved into or out of it): all that
    rebuilding those sprints reads (`kpis.history.ever_in`)."""
    B, E = s.BacklogItem, s.ItemEvent
    stmt = _of(
        select(B.key, E.ts, E.field, E.from_value, E.to_value)
        .select_from(E)
        .join(B, B.id == E.item_id),
        product,
        B.product_id,
    ).order_by(E.ts, B.key, E.field)
    if sprints is not None:
        ids = sorted(sprints)
        moved = select(E.item_id).where(E.field == ItemField.SPRINT.value,
                                        or_(E.from_value.in_(ids), E.to_value.in_(ids)))
        stmt = stmt.where(or_(B.sprint.in_(ids), B.id.in_(moved)))
    columns = ["item_key", "ts", "field", "from_value", "to_value"]
    return read(store, stmt, columns, times=["ts"])
