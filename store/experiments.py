"""Reads of the experiment ledger: item descriptions, the runs that may answer an item,
and the final value of each metric of those runs.

Each read is bounded by what the ledger asks about (its items' keys, the runs linked to
them, the criterion's metrics), never a whole table: a tracking server with years of runs
answers with the few that name an item.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, false, func, or_, select

from store import schema as s
from store.db import Store
from store.frames import frame
from store.records import SeriesKind
from store.upsert import batched

ITEM_TAG = "dspo.item"
CANDIDATE_COLUMNS = ["run_id", "experiment", "name", "status", "start", "end", "model",
                     "model_version", "url", "item_tag"]
FINAL_COLUMNS = ["run_id", "metric", "value", "ts", "step"]

P, B, R, S, Pt = s.Product, s.BacklogItem, s.Run, s.Series, s.SeriesPoint
_CHUNK = 500


def item_descriptions(store: Store, product: str, keys: Iterable[str]) -> dict[str, str]:
    """key -> description of those of the product's items that have one."""
    found: dict[str, str] = {}
    with store.session() as session:
        for chunk in batched(sorted(set(keys)), _CHUNK):
            rows = session.execute(
                select(B.key, B.description).join(P, P.id == B.product_id)
                .where(P.key == product, B.key.in_(chunk), B.description.is_not(None))
            ).tuples()
            found.update({key: str(text) for key, text in rows if text})
    return found


def _tag() -> Any:
    return R.tags[ITEM_TAG].as_string()


def _like(column: Any, key: str) -> ColumnElement[bool]:
    """A cheap SQL prefilter for 'contains the key'; the whole-word test is done after."""
    return column.ilike(f"%{key}%")


def candidate_runs(store: Store, product: str, keys: Sequence[str],
                   run_ids: Iterable[str] = (), experiments: Iterable[str] = ()
                   ) -> pd.DataFrame:
    """Runs that may link to the given items: tagged `dspo.item` with one of the keys (any case),
    listed by id or experiment, or whose run or experiment name contains a key. Columns
    `CANDIDATE_COLUMNS` (`item_tag`: the run's `dspo.item` tag or None), by start."""
    rows: dict[str, tuple[Any, ...]] = {}
    filters: list[ColumnElement[bool]] = []
    for chunk in batched(sorted(set(run_ids)), _CHUNK):
        filters.append(R.run_id.in_(chunk))
    for chunk in batched(sorted(set(experiments)), _CHUNK):
        filters.append(R.experiment.in_(chunk))
    for chunk in batched(list(keys), 50):
        filters.append(func.lower(_tag()).in_([k.lower() for k in chunk]))
        filters.append(or_(false(), *(_like(R.name, k) for k in chunk),
                           *(_like(R.experiment, k) for k in chunk)))
    columns = (R.run_id, R.experiment, R.name, R.status, R.start, R.end, R.model,
               R.model_version, R.url, R.tags)
    with store.session() as session:
        for where in filters:
            found = session.execute(
                select(*columns).join(P, P.id == R.product_id).where(P.key == product, where)
            ).tuples()
            for *row, tags in found:
                tag = (tags or {}).get(ITEM_TAG)
                rows[row[0]] = (*row, None if tag is None else str(tag))
    ordered = sorted(rows.values(), key=lambda row: (row[4], row[0]))
    return frame(ordered, CANDIDATE_COLUMNS, ["start", "end"])


def final_values(store: Store, product: str, run_ids: Iterable[str],
                 metrics: Iterable[str], *, as_of: datetime) -> pd.DataFrame:
    """The final value of each of `metrics` each run logged by `as_of`: [run_id, metric,
    value, ts, step]. Final as MLflow means it: the point of the highest step, then the
    newest; NaN values are skipped (a run that diverged logs NaN, its last number stands).
    One indexed LIMIT 1 per series (a run's metric)."""
    names = sorted(set(metrics))
    rows: list[tuple[Any, ...]] = []
    if not names:
        return frame(rows, FINAL_COLUMNS, ["ts"], {"value": "float64"})
    run_label = S.labels["run_id"].as_string()
    with store.session() as session:
        valid = (Pt.value.is_not(None) if session.get_bind().dialect.name == "sqlite"
                 else Pt.value != float("nan"))  # SQLite keeps no NaN; PostgreSQL's equals NaN
        for chunk in batched(sorted(set(run_ids)), _CHUNK):
            series = session.execute(
                select(S.id, S.name, run_label).join(P, P.id == S.product_id)
                .where(P.key == product, S.kind == str(SeriesKind.MODEL_METRIC),
                       S.name.in_(names), run_label.in_(chunk))
                .order_by(S.id)
            ).tuples().all()
            for sid, name, run_id in series:
                last = session.execute(
                    select(Pt.ts, Pt.step, Pt.value)
                    .where(Pt.series_id == sid, Pt.ts <= as_of, valid)
                    .order_by(Pt.step.desc(), Pt.ts.desc()).limit(1)
                ).first()
                if last is not None:
                    rows.append((run_id, name, last[2], last[0], last[1]))
    rows.sort(key=lambda row: (row[0], row[1]))
    return frame(rows, FINAL_COLUMNS, ["ts"], {"value": "float64"})
