"""Generic natural-key upsert for SQLite and PostgreSQL, in SQLAlchemy Core batches.

`INSERT ... ON CONFLICT (natural key) DO UPDATE ... WHERE <a value differs>`: the update
fires only when something changed, so re-running a collector rewrites no rows (no dead
tuples in PostgreSQL, no spurious `updated_at` bumps). Rows go to the driver as one
executemany per batch; SQLAlchemy's insertmanyvalues keeps each statement under the
backend's parameter limit, whatever the width of the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, cast

from sqlalchemy import JSON, ColumnElement, Executable, Table, Text, literal_column, or_
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store import schema as s

Row = dict[str, Any]


def table(model: type[s.Base]) -> Table:
    """The Core table of an ORM class (typed for mypy)."""
    return cast(Table, model.__table__)


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """`itertools.batched` arrived in Python 3.12; dspo supports 3.11."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def upsert(
    session: Session,
    target: Table,
    rows: Sequence[Row],
    keys: Sequence[str],
    update: Sequence[str] = (),
    *,
    batch_size: int = 5000,
    override: Mapping[str, Callable[[Any], ColumnElement[Any]]] | None = None,
    always: Sequence[str] = (),
) -> int:
    """Insert `rows` into `target`, updating `update` columns where the `keys` exist; return
    how many rows were inserted or changed (re-writing what is stored returns 0).

    `override` maps a column to a function of the `excluded` row giving its new value (e.g.
    keep an alert's origin). `always` columns are set on update but do not by themselves
    cause one (e.g. `updated_at`). With no `update` columns, existing rows are left alone.
    """
    if not rows:
        return 0
    dialect = _dialect(session)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(target)
    excluded = stmt.excluded
    if update:
        new: dict[str, ColumnElement[Any]] = {c: excluded[c] for c in update}
        for column, make in (override or {}).items():
            new[column] = make(excluded)
        changed = or_(*(differs(target.c[c], value) for c, value in new.items()))
        set_ = {**new, **{c: excluded[c] for c in always}}
        upserted = stmt.on_conflict_do_update(index_elements=list(keys), set_=set_, where=changed)
    else:
        upserted = stmt.on_conflict_do_nothing(index_elements=list(keys))
    # RETURNING yields a row per insert or update that happened: PostgreSQL's executemany
    # rowcount is -1, so counting returned rows is the one portable count of rows written.
    counted: Executable = upserted.returning(literal_column("1"))
    return sum(len(session.execute(counted, chunk).all()) for chunk in batched(rows, batch_size))


def differs(column: Any, value: Any) -> ColumnElement[bool]:
    """Null-safe 'differs'; JSON has no equality operator in PostgreSQL, so compare text."""
    if isinstance(column.type, JSON):
        return sql_cast(column, Text).is_distinct_from(sql_cast(value, Text))
    return cast(ColumnElement[bool], column.is_distinct_from(value))
