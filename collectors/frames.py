"""Load a table a collector compares or aggregates: a CSV/Parquet file or a SQL query.

Collectors read the *product's* data here, never dspo's own store, and only ever read:
SQLite files are opened with `mode=ro`, PostgreSQL sessions are marked read-only, and no
transaction is ever committed. An engine lives for one call and is disposed at its end, so
a long-running scheduler holds no connections to a product database between runs.

Errors are `FrameError`s that name the file or the URL with its password masked; those
raised while connecting are `retriable` (the database may be back on the next run), the
rest (missing file, bad query, unparseable file) are not. Collectors turn them into their
own `SourceError` with `Collector.fail`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
from sqlalchemy import create_engine, make_url, text
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


def load_frame(frame: FileFrame, *, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Read `frame`; `params` are offered to a SQL query, which binds those it names."""
    if frame.path is not None:
        return _read_file(frame.path)
    assert frame.url is not None and frame.query is not None  # enforced by FileFrame
    return read_sql(frame.url, frame.query, params=params)


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


def read_sql(url: str, query: str, *, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run one SELECT read-only; bind only the parameters the query names (`:since`, ...)."""
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
        engine = create_engine(engine_url)
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
                result = conn.execute(statement, bind_values(engine_url, wanted))
                frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            except DBAPIError as e:
                retriable = bool(e.connection_invalidated)
                raise FrameError(shown, f"query failed: {_cause(e)}", retriable=retriable) from e
            except SQLAlchemyError as e:
                raise FrameError(shown, f"query failed: {_cause(e)}") from e
            finally:
                conn.rollback()  # read-only by construction: nothing is ever committed
        return frame
    finally:
        engine.dispose()


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
