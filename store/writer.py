"""Writing collector records and collector runs into the store.

`write_records` upserts a mixed stream of records keyed by natural keys (see
`store/upsert.py`), so a collector can be re-run any number of times, or twice at once,
without duplicates. Records name their parents by natural key (product key, model name,
item key); the writer resolves those to ids, creating unknown products and models on the
way, and buffers the stream per record type, flushing parents before children whenever a
buffer fills. It never commits: the runner commits records and the new watermark in one
transaction, so a failed run leaves the store as it was.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, select, tuple_
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from config.schema import ProductConfig
from store import records as r
from store import rollups, rows
from store import schema as s
from store.aliases import observed_moves
from store.upsert import Row, batched, table, upsert, upsert_columns

log = logging.getLogger(__name__)

# Record types in the order their buffers flush: parents before children. Products are
# resolved (and created when unknown) on demand by every flusher, so they come first.
FLUSH_ORDER: tuple[type, ...] = (
    r.Model,
    r.AliasEvent,  # before versions: observed moves are checked against recorded events
    r.ModelVersion,
    r.Run,
    r.Point,
    r.DriftReport,
    r.DataQuality,
    r.PipelineRun,
    r.PipelineTask,
    r.Sprint,
    r.SprintReport,
    r.BacklogItem,
    r.ItemEvent,
    r.Deleted,  # last: a deletion in the same write as an upsert of that key wins
    r.Present,
)


def _keep_unit(excluded: Any) -> ColumnElement[Any]:
    """A point without a unit (the default '') does not blank out its series' unit."""
    unit = table(s.Series).c.unit
    return case((excluded.unit == "", unit), else_=excluded.unit)


def _keep_alert_origin(excluded: Any) -> ColumnElement[Any]:
    """An item created by an alert stays an alert item when a tracker import sees it."""
    origin = table(s.BacklogItem).c.origin
    return case((origin == r.Origin.ALERT.value, origin), else_=excluded.origin)


class _Writer:
    """Buffers records per type and writes them in dependency order; caches resolved ids."""

    def __init__(self, session: Session, source: str, batch_size: int) -> None:
        self.session = session
        self.source = source
        self.batch_size = batch_size
        self.now = datetime.now(UTC)
        self.buffers: dict[type, dict[Hashable, Any]] = {t: {} for t in FLUSH_ORDER}
        self.product_ids: dict[str, int] = {}
        self.model_ids: dict[tuple[int, str], int] = {}
        self.series_ids: dict[rows.SeriesKey, int] = {}
        self.labels_keys: dict[tuple[tuple[str, str], ...], str] = {}
        self.baseline_models: set[int] = set()  # first seen in this write: no observed moves
        self.skipped = 0
        self.written = 0  # rows inserted, changed or deleted
        self.flushers: dict[type, Callable[[list[Any]], None]] = {
            r.Model: self._models,
            r.AliasEvent: self._alias_events,
            r.ModelVersion: self._model_versions,
            r.Run: self._runs,
            r.DriftReport: self._drift_reports,
            r.DataQuality: self._data_quality,
            r.PipelineRun: self._pipeline_runs,
            r.PipelineTask: self._pipeline_tasks,
            r.Sprint: self._sprints,
            r.SprintReport: self._sprint_reports,
            r.BacklogItem: self._backlog_items,
            r.ItemEvent: self._item_events,
            r.Deleted: self._deleted,
            r.Present: self._present,
        }

    def add(self, record: r.Record) -> None:
        kind = type(record)
        if kind not in self.buffers:
            raise TypeError(f"not a store record: {kind.__name__}")
        buffer = self.buffers[kind]
        if isinstance(record, r.Point):
            key: Hashable = self._point_key(record)
        else:
            key = rows.natural_key(record)
        buffer[key] = record  # the last record for a key wins
        if len(buffer) >= self.batch_size:
            self.flush(upto=kind)

    def _point_key(self, x: r.Point) -> rows.PointKey:
        """`rows.natural_key` of a point, its labels encoded once per distinct label set:
        a metric's thousands of points share one set, and JSON-encoding it per point was
        half of the writer's time."""
        labels = tuple(x.labels.items())
        labels_key = self.labels_keys.get(labels)
        if labels_key is None:
            labels_key = self.labels_keys[labels] = r.labels_key(x.labels)
        return (x.product, str(x.kind), x.name, labels_key, r.utc(x.ts), x.step)

    def flush(self, upto: type | None = None) -> None:
        """Flush every buffer up to and including `upto` (all when None), parents first."""
        for kind in FLUSH_ORDER:
            buffer = self.buffers[kind]
            if buffer:
                if kind is r.Point:  # points are written by the key their series is part of
                    self._points(list(buffer.items()))  # type: ignore[arg-type]
                else:
                    self.flushers[kind](list(buffer.values()))
                buffer.clear()
            if kind is upto:
                return

    def _upsert(
        self, model: type[s.Base], batch: list[Row], keys: Sequence[str], **kw: Any
    ) -> None:
        update = [c for c in batch[0] if c not in keys and c not in kw.get("always", ())]
        self.written += upsert(
            self.session, table(model), batch, keys, update, batch_size=self.batch_size, **kw
        )

    # ------------------------------------------------------------ id resolution

    def products(self, keys: Iterable[str]) -> dict[str, int]:
        missing = sorted({k for k in keys if k not in self.product_ids})
        if missing:
            new = [{"key": k, "name": k, "owner": "", "description": ""} for k in missing]
            self.written += upsert(self.session, table(s.Product), new, ["key"])  # no renames
            found = self.session.execute(
                select(s.Product.key, s.Product.id).where(s.Product.key.in_(missing))
            )
            self.product_ids.update(dict(found.tuples().all()))
        return self.product_ids

    def models(self, names: Iterable[tuple[str, str]]) -> dict[tuple[int, str], int]:
        wanted = set(names)
        pids = self.products(p for p, _ in wanted)
        missing = sorted({(pids[p], m) for p, m in wanted} - set(self.model_ids))
        if missing:
            new = [{"product_id": p, "name": m, "description": ""} for p, m in missing]
            self.written += upsert(self.session, table(s.Model), new, ["product_id", "name"])
            found = self.session.execute(
                select(s.Model.product_id, s.Model.name, s.Model.id).where(
                    tuple_(s.Model.product_id, s.Model.name).in_(missing)
                )
            )
            self.model_ids.update({(p, m): i for p, m, i in found.tuples()})
        return self.model_ids

    def series(self, points: list[tuple[rows.PointKey, r.Point]]) -> dict[rows.SeriesKey, int]:
        """Ids of the points' series, upserted first (a unit given by any point is kept)."""
        pids = self.products({key[0] for key, _ in points})
        identities: dict[rows.SeriesKey, Row] = {}
        for (product, kind, name, labels_key, _, _), x in points:
            key = (pids[product], kind, name, labels_key)
            if key not in identities or x.unit:
                identities[key] = rows.series_row(x, key[0], labels_key)
        keys = ["product_id", "kind", "name", "labels_key"]
        self._upsert(s.Series, list(identities.values()), keys, override={"unit": _keep_unit})
        missing = set(identities) - set(self.series_ids)
        if missing:
            found = self.session.execute(
                select(
                    s.Series.product_id,
                    s.Series.kind,
                    s.Series.name,
                    s.Series.labels_key,
                    s.Series.id,
                ).where(
                    s.Series.product_id.in_({k[0] for k in missing}),
                    s.Series.name.in_({k[2] for k in missing}),
                )
            )
            for p, kind, name, labels_key, i in found.tuples():
                self.series_ids[(p, kind, name, labels_key)] = i
        return self.series_ids

    # ------------------------------------------------------------ flushers

    def _models(self, recs: list[r.Model]) -> None:
        pids = self.products(x.product for x in recs)
        batch = [rows.model_row(x, pids[x.product]) for x in recs]
        self._upsert(s.Model, batch, ["product_id", "name"])

    def _alias_events(self, recs: list[r.AliasEvent]) -> None:
        mids = self.models((x.product, x.model) for x in recs)
        pids = self.product_ids
        batch = [rows.alias_event_row(x, mids[(pids[x.product], x.model)]) for x in recs]
        self._upsert(s.ModelAliasEvent, batch, ["model_id", "alias", "ts"])

    def _model_versions(self, recs: list[r.ModelVersion]) -> None:
        """Upsert versions; an alias that moved since the store last saw the model becomes
        an 'observed' event stamped with this write's time (rules in `store/aliases.py`)."""
        mids = self.models((x.product, x.model) for x in recs)
        pids = self.product_ids
        incoming: dict[int, dict[str, tuple[str, ...]]] = {}
        for x in recs:
            incoming.setdefault(mids[(pids[x.product], x.model)], {})[x.version] = x.aliases
        moved, first_seen = observed_moves(self.session, incoming, self.baseline_models)
        self.baseline_models |= first_seen
        batch = [rows.model_version_row(x, mids[(pids[x.product], x.model)]) for x in recs]
        self._upsert(s.ModelVersion, batch, ["model_id", "version"])
        if moved:
            origin = r.AliasOrigin.OBSERVED.value
            events = [
                {"model_id": m, "alias": a, "version": v, "ts": self.now, "origin": origin}
                for m, a, v in moved
            ]
            self._upsert(s.ModelAliasEvent, events, ["model_id", "alias", "ts"])

    def _runs(self, recs: list[r.Run]) -> None:
        pids = self.products(x.product for x in recs)
        self._upsert(s.Run, [rows.run_row(x, pids[x.product]) for x in recs], ["run_id"])

    def _points(self, recs: list[tuple[rows.PointKey, r.Point]]) -> None:
        if self.session.get_bind().dialect.name == "sqlite":
            # SQLite has no NaN (it binds as NULL, which point.value refuses), and no reading
            # uses one (aggregates and 'last' skip NaN): MLflow's NaN metrics are left out.
            recs = [(k, x) for k, x in recs if not math.isnan(x.value)]
            if not recs:
                return
        sids = self.series(recs)
        pids = self.product_ids
        columns: dict[str, list[Any]] = {  # the key's time is the point's, in UTC
            "series_id": [sids[(pids[k[0]], k[1], k[2], k[3])] for k, _ in recs],
            "ts": [k[4] for k, _ in recs],
            "step": [k[5] for k, _ in recs],
            "value": [float(x.value) for _, x in recs],
        }
        written = upsert_columns(
            self.session, table(s.SeriesPoint), columns, ["series_id", "ts", "step"], ["value"]
        )
        if written:  # a batch that changed nothing leaves its rollups as they are
            rollups.refresh(self.session, rollups.touched_days(columns["series_id"],
                                                               columns["ts"]))
        self.written += written

    def _drift_reports(self, recs: list[r.DriftReport]) -> None:
        pids = self.products(x.product for x in recs)
        keys = ["product_id", "dataset", "window_start", "window_end"]
        self._upsert(s.DriftReport, [rows.drift_report_row(x, pids[x.product]) for x in recs], keys)
        with_features = [x for x in recs if x.features]
        ids = self._report_ids(with_features, pids)
        features: list[Row] = []
        for x in with_features:
            report_id = ids[(pids[x.product], x.dataset, r.utc(x.window_start),
                             r.utc(x.window_end))]
            by_column = {f.column: f for f in x.features}
            features += [rows.drift_feature_row(f, report_id) for f in by_column.values()]
        if features:
            self._upsert(s.DriftFeature, features, ["report_id", "column"])

    def _report_ids(
        self, recs: list[r.DriftReport], pids: dict[str, int]
    ) -> dict[tuple[int, str, datetime, datetime], int]:
        """Ids of the reports just upserted, by natural key: one query per 500 reports
        (a query per report made drift imports round-trip bound on PostgreSQL)."""
        report = table(s.DriftReport)
        columns = (report.c.product_id, report.c.dataset, report.c.window_start,
                   report.c.window_end)
        wanted = sorted({(pids[x.product], x.dataset, r.utc(x.window_start),
                          r.utc(x.window_end)) for x in recs})
        ids: dict[tuple[int, str, datetime, datetime], int] = {}
        for chunk in batched(wanted, 500):
            found = self.session.execute(
                select(*columns, report.c.id).where(tuple_(*columns).in_(chunk))
            )
            ids.update({(p, d, start, end): i for p, d, start, end, i in found.tuples()})
        return ids

    def _data_quality(self, recs: list[r.DataQuality]) -> None:
        pids = self.products(x.product for x in recs)
        batch = [rows.data_quality_row(x, pids[x.product]) for x in recs]
        self._upsert(s.DataQuality, batch, ["product_id", "dataset", "ts"])

    def _pipeline_runs(self, recs: list[r.PipelineRun]) -> None:
        pids = self.products(x.product for x in recs)
        self._adopt_legacy_runs(recs, pids)
        batch = [rows.pipeline_run_row(x, self.source, pids[x.product]) for x in recs]
        self._upsert(s.PipelineRun, batch, ["source", "run_id"])

    def _adopt_legacy_runs(self, recs: list[r.PipelineRun], pids: dict[str, int]) -> None:
        """Runs stored before migration 0004 carry source = system; the first time their
        real source writes them again they move under its name instead of doubling."""
        run = table(s.PipelineRun)
        for (system, product), ids in _group(recs, lambda x: (x.system, x.product)).items():
            if system == self.source:
                continue
            for chunk in batched(sorted(ids), 1000):
                self.session.execute(
                    sql_update(run)
                    .where(run.c.source == system, run.c.system == system,
                           run.c.product_id == pids[product], run.c.run_id.in_(chunk))
                    .values(source=self.source)
                )

    def _pipeline_tasks(self, recs: list[r.PipelineTask]) -> None:
        ids = self._ids_by_key(table(s.PipelineRun), "run_id", {x.run_id for x in recs})
        known = self._known(recs, lambda x: x.run_id in ids, "tasks of runs")
        if known:
            batch = [rows.pipeline_task_row(x, ids[x.run_id]) for x in known]
            self._upsert(s.PipelineTask, batch, ["run_id", "task_id", "map_index"])

    def _sprints(self, recs: list[r.Sprint]) -> None:
        pids = self.products(x.product for x in recs)
        batch = [rows.sprint_row(x, self.source, pids[x.product]) for x in recs]
        self._upsert(s.Sprint, batch, ["source", "external_id"])

    def _sprint_reports(self, recs: list[r.SprintReport]) -> None:
        ids = self._ids_by_key(table(s.Sprint), "external_id", {x.sprint for x in recs})
        known = self._known(recs, lambda x: x.sprint in ids, "reports of sprints")
        if known:
            batch = [rows.sprint_report_row(x, ids[x.sprint]) for x in known]
            self._upsert(s.SprintReport, batch, ["sprint_id"])

    def _backlog_items(self, recs: list[r.BacklogItem]) -> None:
        pids = self.products(x.product for x in recs)
        batch = [rows.backlog_item_row(x, self.source, pids[x.product], self.now) for x in recs]
        self._upsert(
            s.BacklogItem,
            batch,
            ["source", "key"],
            override={"origin": _keep_alert_origin},
            always=["updated_at"],
        )

    def _item_events(self, recs: list[r.ItemEvent]) -> None:
        ids = self._ids_by_key(table(s.BacklogItem), "key", {x.item_key for x in recs})
        known = self._known(recs, lambda x: x.item_key in ids, "events of items")
        if known:
            batch = [rows.item_event_row(x, ids[x.item_key]) for x in known]
            self._upsert(s.ItemEvent, batch, ["item_id", "ts", "field"])

    def _deleted(self, recs: list[r.Deleted]) -> None:
        pids = self.products(x.product for x in recs)
        for (entity, product), keys in _group(recs, lambda x: (x.entity, x.product)).items():
            target, key = _DELETABLE[entity]
            self._delete(target, key, pids[product], keys)

    def _present(self, recs: list[r.Present]) -> None:
        """Delete this source's rows of each scope whose key the source no longer lists."""
        pids = self.products(x.product for x in recs)
        for x in recs:
            target, key = _DELETABLE[x.entity]
            scoped = select(target.c[key]).where(
                target.c.source == self.source, target.c.product_id == pids[x.product],
                *(target.c[column] == value for column, value in x.scope.items()),
            )
            stored = set(self.session.execute(scoped).scalars())
            self._delete(target, key, pids[x.product], stored - x.keys)

    def _delete(self, target: Any, key: str, product_id: int, keys: Iterable[str]) -> None:
        for chunk in batched(sorted(keys), 1000):
            result = self.session.execute(
                target.delete()
                .where(target.c.source == self.source, target.c.product_id == product_id,
                       target.c[key].in_(chunk))
                .returning(target.c.id)
            )
            self.written += len(result.all())

    # ------------------------------------------------------------ helpers

    def _ids_by_key(self, target: Any, key: str, wanted: set[str]) -> dict[str, int]:
        """Ids of this source's rows of `target` by their natural key column."""
        ids: dict[str, int] = {}
        for chunk in batched(sorted(wanted), 1000):
            found = self.session.execute(
                select(target.c[key], target.c.id).where(
                    target.c.source == self.source, target.c[key].in_(chunk)
                )
            )
            ids.update(dict(found.tuples().all()))
        return ids

    def _known(self, recs: list[Any], known: Callable[[Any], bool], what: str) -> list[Any]:
        """Children whose parent is stored; the others are skipped with a warning."""
        kept = [x for x in recs if known(x)]
        if len(kept) < len(recs):
            self.skipped += len(recs) - len(kept)
            log.warning(
                "source %s: skipped %d %s not in the store", self.source, len(recs) - len(kept),
                what,
            )
        return kept


_DELETABLE: dict[r.Entity, tuple[Any, str]] = {
    r.Entity.BACKLOG_ITEM: (table(s.BacklogItem), "key"),
    r.Entity.SPRINT: (table(s.Sprint), "external_id"),
    r.Entity.PIPELINE_RUN: (table(s.PipelineRun), "run_id"),
}


def _group(recs: Iterable[Any], by: Callable[[Any], tuple[Any, str]]) -> dict[Any, set[str]]:
    """Natural ids (`key` or `run_id`) of records grouped by `by` (a pair)."""
    groups: dict[Any, set[str]] = {}
    for x in recs:
        groups.setdefault(by(x), set()).add(getattr(x, "key", None) or x.run_id)
    return groups


@dataclass(frozen=True)
class Written:
    """What one write did: records it was handed, rows it inserted, changed or deleted."""

    records: int
    rows: int


def write_records(
    session: Session, source: str, records: Iterable[r.Record], batch_size: int = 20_000
) -> Written:
    """Upsert a mixed stream of records from collector source `source`.

    Records are buffered per type and flushed parents first whenever a buffer fills, so a
    stream of any length and order writes in bounded memory. Children whose parent is not
    in the store under the same source (item events, run tasks, sprint reports) are
    skipped with a warning. Rows count only real changes: re-writing what is stored is 0.
    A full buffer takes the bulk path (`store/upsert.py`); 20,000 rows a flush keeps
    PostgreSQL's staging-table overhead small (benchmarks/ingest.py) in a few MB.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    writer = _Writer(session, source, batch_size)
    count = 0
    for record in records:
        writer.add(record)
        count += not isinstance(record, r.Present)  # a key listing is bookkeeping, not data
    writer.flush()
    return Written(records=count, rows=writer.written)


def sync_products(session: Session, products: Sequence[ProductConfig]) -> None:
    """Make the product table match the configuration's names, owners and descriptions."""
    batch = [
        {"key": p.key, "name": p.name, "owner": p.owner, "description": p.description}
        for p in products
    ]
    upsert(session, table(s.Product), batch, ["key"], ["name", "owner", "description"])
