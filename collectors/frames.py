"""Load a table a collector compares or aggregates: a CSV/Parquet file or a SQL query.

Collectors read the *product's* data here, never dspo's own store, and only ever read:
SQLite files are opened with `mode=ro`, PostgreSQL sessions are marked read-only, and no
transaction is ever committed. An engine lives for one call and is disposed at its end, so
a long-running scheduler holds no connections to a product database between runs.

Errors are `FrameError`s that name the file or the URL with its password masked; those
raised while connecting are `retriable` (the database may be back on the next run), the
rest (missing file, bad query, unparseable file) are not. Collectors turn them into their
own `SourceError` with `Collector.fail`.

A query gets a time limit (`timeout`): the database itself cancels a statement that runs
longer (PostgreSQL `statement_timeout`, MySQL `max_execution_time`, MariaDB
`max_statement_time`, SQLite through a progress handler that interrupts it), so a runaway
query ends as a clear failure instead of holding a collection forever and its connection
is freed on the server too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from config.schema import FileFrame

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.zip", ".csv.bz2")
PARQUET_SUFFIXES = (".parquet", ".pq")


class FrameError(Exception):
    """A table could not be loaded; the message names the file or the (masked) URL."""

    def __init__(self, target: str, problem: str, *, retriable: bool = False) -> None:
        super().__init__(f"{target}: {problem}")
        self.target = target  # the file, or the URL with its password masked
        self.problem = problem
        self.retriable = retriable


def masked_url(url: str) -> str:
    """The URL as it may appear in logs and on pages: password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def load_frame(
    frame: FileFrame,
    *,
    params: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    connect_timeout: float | None = None,
) -> pd.DataFrame:
    """Read `frame`; `params` are offered to a SQL query, which binds those it names;
    `timeout` limits the query (seconds), `connect_timeout` the connection."""
    if frame.path is not None:
        return _read_file(frame.path)
    assert frame.url is not None and frame.query is not None  # enforced by FileFrame
    return read_sql(frame.url, frame.query, params=params, timeout=timeout,
                    connect_timeout=connect_timeout)


def _read_file(path: Path) -> pd.DataFrame:
    name = path.name.lower()
    try:
        if name.endswith(CSV_SUFFIXES):
            return pd.read_csv(path)
        if name.endswith(PARQUET_SUFFIXES):
            return _read_parquet(path)
    except FileNotFoundError:
        raise FrameError(str(path), "no such file") from None
    except (OSError, ValueError) as e:  # pandas' ParserError/EmptyDataError are ValueErrors
        raise FrameError(str(path), f"cannot read: {e}") from e
    raise FrameError(str(path), "unsupported file type (expected .csv or .parquet)")


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow  # lazily: only Parquet readers pay for it

    try:
        return pd.read_parquet(path)
    except pyarrow.ArrowException as e:  # ArrowInvalid is also a ValueError; IO errors are not
        if isinstance(e, FileNotFoundError):
            raise
        raise FrameError(str(path), f"cannot read Parquet: {e}") from e


def read_sql(
    url: str,
    query: str,
    *,
    params: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    connect_timeout: float | None = None,
) -> pd.DataFrame:
    """Run one SELECT read-only; bind only the parameters the query names (`:since`, ...).

    `timeout` (seconds) is enforced by the database, which cancels a longer statement.
    """
    shown = masked_url(url)
    try:
        engine_url = read_only_url(make_url(url))
    except ArgumentError as e:
        raise FrameError(shown, f"invalid database URL: {e}") from e
    statement = text(query)
    declared = statement.compile().params
    wanted = {k: v for k, v in (params or {}).items() if k in declared}
    missing = sorted(set(declared) - set(wanted))
    if missing:
        raise FrameError(shown, f"query uses unknown parameter(s) {', '.join(missing)}")
    try:
        engine = create_engine(engine_url, connect_args=_connect_args(engine_url, connect_timeout))
    except (ArgumentError, ImportError) as e:
        raise FrameError(shown, f"cannot use database URL: {e}") from e
    try:
        try:
            conn = engine.connect()
        except SQLAlchemyError as e:
            raise FrameError(shown, f"cannot connect: {_cause(e)}", retriable=True) from e
        with conn:
            if engine_url.get_backend_name() == "postgresql":
                conn = conn.execution_options(postgresql_readonly=True)
            try:
                with statement_timeout(conn, timeout):
                    result = conn.execute(statement, bind_values(engine_url, wanted))
                    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            except DBAPIError as e:
                if timeout is not None and _timed_out(e):
                    raise FrameError(
                        shown, f"query ran longer than its time limit of {timeout:g}s "
                        "(read_timeout) and was cancelled by the database", retriable=True,
                    ) from e
                retriable = bool(e.connection_invalidated)
                raise FrameError(shown, f"query failed: {_cause(e)}", retriable=retriable) from e
            except SQLAlchemyError as e:
                raise FrameError(shown, f"query failed: {_cause(e)}") from e
            finally:
                conn.rollback()  # read-only by construction: nothing is ever committed
        return frame
    finally:
        engine.dispose()


@contextmanager
def statement_timeout(conn: Connection, seconds: float | None) -> Iterator[None]:
    """Have the database cancel the statements run in this block after `seconds`."""
    if seconds is None:
        yield
        return
    backend = conn.dialect.name
    if backend == "sqlite":
        raw = conn.connection.dbapi_connection
        ends = time.monotonic() + seconds
        raw.set_progress_handler(lambda: int(time.monotonic() > ends), 10_000)  # type: ignore[union-attr]
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)  # type: ignore[union-attr]
        return
    millis = max(1, int(seconds * 1000))
    if backend == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {millis}")
    elif backend in ("mysql", "mariadb"):
        if getattr(conn.dialect, "is_mariadb", False):
            conn.exec_driver_sql(f"SET SESSION max_statement_time = {millis / 1000:.3f}")
        else:
            conn.exec_driver_sql(f"SET SESSION max_execution_time = {millis}")
    yield


def _timed_out(e: DBAPIError) -> bool:
    """The database's own 'cancelled for taking too long', whatever the backend says."""
    text = str(getattr(e, "orig", e)).lower()
    return any(word in text for word in (
        "statement timeout", "canceling statement", "interrupted", "max_execution_time",
        "max_statement_time", "query execution was interrupted",
    ))


def _connect_args(url: URL, seconds: float | None) -> dict[str, Any]:
    """The driver's connect timeout, in the unit and key each driver expects."""
    if seconds is None:
        return {}
    backend = url.get_backend_name()
    if backend == "sqlite":
        return {"timeout": seconds}  # waiting for a lock held by a writer
    if backend in ("postgresql", "mysql", "mariadb"):
        return {"connect_timeout": max(1, int(seconds))}
    return {}


def read_only_url(url: URL) -> URL:
    """SQLite files open with mode=ro, so a typo in a path cannot create an empty database."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return url
    if url.query.get("uri") == "true" or url.database.startswith("file:"):
        return url  # the user already wrote a SQLite URI; respect it
    return url.set(
        database=f"file:{quote(url.database)}",
        query={**url.query, "mode": "ro", "uri": "true"},
    )


def bind_values(url: URL, params: Mapping[str, Any]) -> dict[str, Any]:
    """Datetimes as the database compares them.

    SQLite has no date type: product tables keep times as text, most often
    'YYYY-MM-DD HH:MM:SS' in UTC (SQLAlchemy's DateTime, SQLite's datetime()), so aware
    datetimes are bound as that text and compare correctly with such columns (wrap a column
    in datetime(...) when it holds ISO 'T' text). Other databases get aware datetimes.
    """
    if url.get_backend_name() != "sqlite":
        return dict(params)
    return {
        k: v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else v
        for k, v in params.items()
    }


def _cause(e: SQLAlchemyError) -> str:
    """The driver's message without SQLAlchemy's multi-line SQL echo and help link."""
    orig = getattr(e, "orig", None)
    return str(orig if orig is not None else e).strip().splitlines()[0]
