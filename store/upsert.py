"""Generic natural-key upsert for SQLite and PostgreSQL, in SQLAlchemy Core batches.

`INSERT ... ON CONFLICT (natural key) DO UPDATE ... WHERE <a value differs>`: the update
fires only when something changed, so re-running a collector rewrites no rows (no dead
tuples in PostgreSQL, no spurious `updated_at` bumps). Rows go to the driver as one
executemany per batch; SQLAlchemy's insertmanyvalues keeps each statement under the
backend's parameter limit, whatever the width of the table.

Large batches (`BULK_MIN_ROWS` and up) take the bulk path, which gives the same rows and the
same count: on PostgreSQL a COPY into a temporary staging table and one
`INSERT ... SELECT ... ON CONFLICT` per batch; on SQLite one executemany of the compiled
statement without RETURNING, counted by the driver's rowcount (SQLite counts an upsert whose
`WHERE` is false as no change). Values go through each column type's own bind processor, so
times and JSON are stored exactly as the row-by-row path stores them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import islice, repeat
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Connection,
    Dialect,
    Executable,
    MetaData,
    Table,
    Text,
    literal_column,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from store import schema as s

Row = dict[str, Any]
Override = Mapping[str, Callable[[Any], ColumnElement[Any]]]

# From this many rows a batch takes the bulk path: below it, creating a staging table costs
# PostgreSQL more than the rows it saves (points upserted on this 2-core machine, best of 3:
# 100 rows 5.7 ms row by row vs 7.3 ms bulk; 300 rows 28 vs 16 ms; 1,000 rows 68 vs 37 ms).
BULK_MIN_ROWS = 300


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
    override: Override | None = None,
    always: Sequence[str] = (),
    bulk: bool | None = None,
) -> int:
    """Insert `rows` into `target`, updating `update` columns where the `keys` exist; return
    how many rows were inserted or changed (re-writing what is stored returns 0).

    `override` maps a column to a function of the `excluded` row giving its new value (e.g.
    keep an alert's origin). `always` columns are set on update but do not by themselves
    cause one (e.g. `updated_at`). With no `update` columns, existing rows are left alone.
    Every row has the same columns, and no two rows the same `keys` (PostgreSQL refuses to
    change one row twice in a statement). `bulk` forces (True) or forbids (False) the bulk
    path; by default batches of `BULK_MIN_ROWS` rows and more take it.
    """
    if not rows:
        return 0
    if bulk is None:
        bulk = len(rows) >= BULK_MIN_ROWS
    dialect = _dialect(session)
    if bulk:
        return sum(
            _bulk(session, target, {c: [row[c] for row in chunk] for c in chunk[0]}, keys,
                  update, override, always)
            for chunk in batched(rows, BULK_CHUNK)
        )
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upserted = _on_conflict(insert(target), target, keys, update, override, always)
    # RETURNING yields a row per insert or update that happened: PostgreSQL's executemany
    # rowcount is -1, so counting returned rows is the one portable count of rows written.
    counted: Executable = upserted.returning(literal_column("1"))
    return sum(len(session.execute(counted, chunk).all()) for chunk in batched(rows, batch_size))


def upsert_columns(
    session: Session,
    target: Table,
    columns: Mapping[str, Sequence[Any]],
    keys: Sequence[str],
    update: Sequence[str] = (),
    *,
    override: Override | None = None,
    always: Sequence[str] = (),
    bulk: bool | None = None,
) -> int:
    """`upsert` of a batch given column by column (equal lengths), as the writer builds
    its largest batches: a dict per row would cost more than the bulk write itself."""
    count = len(next(iter(columns.values()), ()))
    if count == 0:
        return 0
    if not (count >= BULK_MIN_ROWS if bulk is None else bulk):
        rows = [dict(zip(columns, values, strict=True))
                for values in zip(*columns.values(), strict=True)]
        return upsert(session, target, rows, keys, update, override=override, always=always,
                      bulk=False)
    return sum(
        _bulk(session, target, {c: v[start:start + BULK_CHUNK] for c, v in columns.items()},
              keys, update, override, always)
        for start in range(0, count, BULK_CHUNK)
    )


def _bulk(
    session: Session, target: Table, columns: Mapping[str, Sequence[Any]],
    keys: Sequence[str], update: Sequence[str], override: Override | None,
    always: Sequence[str],
) -> int:
    write = _copy_upsert if _dialect(session) == "postgresql" else _executemany_upsert
    return write(session.connection(), target, columns, keys, update, override, always)


# Rows per bulk statement: bounds the staging table and the driver's parameter list.
BULK_CHUNK = 50_000
# SQLAlchemy keeps an INSERT's rowcount only when asked (it is the count of rows written).
COUNTED = {"preserve_rowcount": True}


def _on_conflict(
    stmt: Any, target: Table, keys: Sequence[str], update: Sequence[str],
    override: Override | None, always: Sequence[str],
) -> Insert:
    """`stmt` (a dialect's INSERT) made an upsert that changes a row only when a value
    differs: the one definition both paths and both backends share."""
    excluded = stmt.excluded
    if not update:
        return cast(Insert, stmt.on_conflict_do_nothing(index_elements=list(keys)))
    new: dict[str, ColumnElement[Any]] = {c: excluded[c] for c in update}
    for column, make in (override or {}).items():
        new[column] = make(excluded)
    changed = or_(*(differs(target.c[c], value) for c, value in new.items()))
    set_ = {**new, **{c: excluded[c] for c in always}}
    return cast(
        Insert, stmt.on_conflict_do_update(index_elements=list(keys), set_=set_, where=changed)
    )


def _bound(connection: Connection, target: Table, columns: Mapping[str, Sequence[Any]]
           ) -> list[Sequence[Any]]:
    """Each column's values as the driver receives them: the column type's bind processor
    mapped over the column in one tight loop."""
    dialect = connection.dialect
    bound: list[Sequence[Any]] = []
    for name, values in columns.items():
        process = fast_bind(target.c[name].type, dialect)
        bound.append(list(map(process, values)) if process else values)
    return bound


def fast_bind(column_type: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's bind processor, but for UTC times on SQLite a direct formatter
    giving the same text (a test holds them equal): SQLAlchemy's goes through two layers
    and a %-format, the largest cost per point of the bulk path."""
    if isinstance(column_type, s.UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_utc_text
    return cast(
        "Callable[[Any], Any] | None", column_type.dialect_impl(dialect).bind_processor(dialect)
    )


def _sqlite_utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # naive is taken to be UTC, as `records.utc` does
        return value.isoformat(" ", "microseconds")
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]  # less its +00:00


def _executemany_upsert(
    connection: Connection, target: Table, columns: Mapping[str, Sequence[Any]],
    keys: Sequence[str], update: Sequence[str], override: Override | None,
    always: Sequence[str],
) -> int:
    """SQLite: the compiled upsert without RETURNING, executemany'd with bound tuples."""
    stmt = _on_conflict(sqlite.insert(target), target, keys, update, override, always)
    compiled = stmt.compile(dialect=connection.dialect, column_keys=list(columns))
    by_column = dict(zip(columns, _bound(connection, target, columns), strict=True))
    ordered = [
        by_column[n] if n in by_column else repeat(_constant(compiled, n, connection.dialect))
        for n in compiled.positiontup or ()
    ]
    params = list(zip(*ordered, strict=False))  # repeat() is endless: stops at the rows' end
    result = connection.exec_driver_sql(
        str(compiled), params, execution_options=COUNTED  # type: ignore[arg-type]
    )
    return max(result.rowcount, 0)


def _constant(compiled: Any, name: str, dialect: Dialect) -> Any:
    """A literal parameter of the statement itself (e.g. the '' of 'keep the unit')."""
    value = compiled.params[name]
    process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process else value


def _copy_upsert(
    connection: Connection, target: Table, columns: Mapping[str, Sequence[Any]],
    keys: Sequence[str], update: Sequence[str], override: Override | None,
    always: Sequence[str],
) -> int:
    """PostgreSQL: COPY into a staging table shaped like `target`, then one upsert from it."""
    values = _bound(connection, target, columns)
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    stage = Table(f"_dspo_stage_{target.name}", MetaData(),
                  *(Column(c, target.c[c].type) for c in columns))
    staged = quote(stage.name)
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {staged} ON COMMIT DROP AS "
        f"SELECT {names} FROM {quote(target.name)} WITH NO DATA"
    )
    copy_sql = f"COPY {staged} ({names}) FROM STDIN"
    import psycopg  # only a PostgreSQL store reaches here

    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(copy_sql) as copy:
            for row in zip(*values, strict=True):
                copy.write_row(row)
    except psycopg.Error as e:  # reported as SQLAlchemy reports the driver's other errors
        raise DBAPIError.instance(copy_sql, None, e, psycopg.Error) from e
    finally:
        cursor.close()
    stmt = postgresql.insert(target).from_select(list(columns), select(*stage.c))
    upserted = _on_conflict(stmt, target, keys, update, override, always)
    written = connection.execute(upserted, execution_options=COUNTED).rowcount
    connection.exec_driver_sql(f"DROP TABLE {staged}")
    return written


def differs(column: Any, value: Any) -> ColumnElement[bool]:
    """Null-safe 'differs'; JSON has no equality operator in PostgreSQL, so compare text."""
    if isinstance(column.type, JSON):
        return sql_cast(column, Text).is_distinct_from(sql_cast(value, Text))
    return cast(ColumnElement[bool], column.is_distinct_from(value))
