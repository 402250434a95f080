"""Stored figures of closed sprints (`sprint_figures`) and the stamp that says they hold.

The collection path computes a product's closed-sprint figures (`kpis.sprint_figures`)
after its backlog sources write, and stores them with the product's *backlog stamp*: a
few counts and maxima that move whenever anything a sprint's figures are built from may
have changed. Pages read only the rows whose stamp is still the product's
(`valid_sprint_figures`); any other sprint is rebuilt live, so a stale row is never shown.

The stamp covers, for the product:

* its backlog items (count, newest `updated_at`: the writer bumps it whenever an item row
  changes, and an insert or delete moves one of the two) and their events (count, highest
  id);
* its sprints (count, highest id; each stored row also names the start and close it was
  computed for, which the KPI checks against the sprint as it is now);
* the last run that wrote rows of any source of those items and sprints: a tracker that
  corrects an event in place changes no count, but its run records that it wrote.

Items filed by alerts (`store.alert_items`) are left out: they are created outside any
sprint and only ever get status events, so they cannot change a sprint's figures, and an
alert filing one must not make every page rebuild every sprint.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select, union
from sqlalchemy.orm import Session

from store import schema as s
from store.alert_items import ALERT_SOURCE
from store.db import Store
from store.frames import frame
from store.upsert import table, upsert

FIGURE_COLUMNS = [
    "external_id", "start", "closed_at", "settled_at", "commitment", "completed",
    "added_mid_sprint", "removed_mid_sprint", "carry_items", "carry_points", "into_sprints",
    "to_backlog", "stayed",
]  # fmt: skip
TIMES = ["start", "closed_at", "settled_at"]
INTS = ("added_mid_sprint", "removed_mid_sprint", "carry_items")


def _product_id(product: str) -> Any:
    return select(s.Product.id).where(s.Product.key == product).scalar_subquery()


def _stamp_parts(product: str) -> list[Select[Any]]:
    B, E, Sp, C = s.BacklogItem, s.ItemEvent, s.Sprint, s.CollectorRun
    pid = _product_id(product)
    tracked = (B.product_id == pid, B.source != ALERT_SOURCE)
    sources = union(select(B.source).where(*tracked), select(Sp.source).where(
        Sp.product_id == pid))
    return [
        select(func.count(B.id)).where(*tracked),
        select(func.max(B.updated_at)).where(*tracked),
        select(func.count(E.id)).join(B, B.id == E.item_id).where(*tracked),
        select(func.max(E.id)).join(B, B.id == E.item_id).where(*tracked),
        select(func.count(Sp.id)).where(Sp.product_id == pid),
        select(func.max(Sp.id)).where(Sp.product_id == pid),
        select(func.max(C.id)).where(C.source.in_(sources), C.rows_written > 0,
                                     C.status == "ok"),
    ]


def _stamp(session: Session, product: str) -> str:
    row = session.execute(select(*(p.scalar_subquery() for p in _stamp_parts(product)))).one()
    return "|".join("" if v is None else str(v) for v in row)


def backlog_stamp(store: Store, product: str) -> str:
    """The product's backlog stamp (module docstring): equal stamps, same inputs."""
    with store.session() as session:
        return _stamp(session, product)


def _rows(session: Session, product: str, stamp: str | None) -> pd.DataFrame:
    F, Sp = s.SprintFigures, s.Sprint
    stmt = (select(Sp.external_id, *(getattr(F, c) for c in FIGURE_COLUMNS[1:]))
            .join(Sp, Sp.id == F.sprint_id)
            .where(Sp.product_id == _product_id(product))
            .order_by(F.start, Sp.external_id))
    if stamp is not None:
        stmt = stmt.where(F.stamp == stamp)
    rows = session.execute(stmt).all()
    return frame(rows, FIGURE_COLUMNS, times=TIMES,
                 dtypes={**dict.fromkeys(FIGURE_COLUMNS[4:], "float64"),
                         **dict.fromkeys(INTS, "int64")})


def valid_sprint_figures(store: Store, product: str) -> pd.DataFrame:
    """The product's stored sprint figures that still hold: FIGURE_COLUMNS, rows whose
    stamp is the product's backlog stamp now (none when the backlog changed since)."""
    with store.session() as session:
        return _rows(session, product, _stamp(session, product))


def stored_sprint_figures(store: Store, product: str) -> tuple[set[str], pd.DataFrame]:
    """Every stored row of the product, valid or not, and the stamps they carry (for the
    collection path to tell whether they need computing again, and for tests)."""
    with store.session() as session:
        stamps = set(session.execute(
            select(s.SprintFigures.stamp).distinct()
            .join(s.Sprint, s.Sprint.id == s.SprintFigures.sprint_id)
            .where(s.Sprint.product_id == _product_id(product))).scalars())
        return stamps, _rows(session, product, None)


def replace_sprint_figures(store: Store, product: str, figures: pd.DataFrame, stamp: str,
                           now: datetime) -> int:
    """Store `figures` (FIGURE_COLUMNS, one row per closed sprint by external id) as the
    product's, computed on `stamp`; rows of its other sprints are deleted. Returns the rows
    stored. Read the stamp *before* the data the figures come from: a change in between
    then leaves rows under an old stamp, which pages ignore, never a new stamp on old
    figures."""
    F, Sp = s.SprintFigures, s.Sprint
    with store.writing(), store.session() as session:
        ids = dict(session.execute(
            select(Sp.external_id, Sp.id).where(Sp.product_id == _product_id(product))
        ).tuples().all())
        rows = [_row(record, ids[str(record["external_id"])], stamp, now)
                for record in figures.to_dict("records") if str(record["external_id"]) in ids]
        keep = [row["sprint_id"] for row in rows]
        session.execute(table(F).delete().where(
            F.sprint_id.in_(select(Sp.id).where(Sp.product_id == _product_id(product))),
            F.sprint_id.not_in(keep)))
        if rows:
            upsert(session, table(F), rows, ["sprint_id"], _updated(rows[0]))
    return len(rows)


def _updated(row: dict[str, Any]) -> Sequence[str]:
    return [c for c in row if c != "sprint_id"]


def _row(record: dict[str, Any], sprint_id: int, stamp: str, now: datetime
         ) -> dict[str, Any]:
    row: dict[str, Any] = {"sprint_id": sprint_id, "stamp": stamp, "computed_at": now}
    for column in FIGURE_COLUMNS[1:]:
        value = record[column]
        if column in TIMES:
            row[column] = pd.Timestamp(value).to_pydatetime()
        elif column in INTS:
            row[column] = int(value)
        else:
            row[column] = float(value)
    return row
