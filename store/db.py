"""The one object that talks to the database: engine, sessions, migrations.

`Store(url)` builds the engine for SQLite (the embedded default) or PostgreSQL (the
production store); the same code and the same migrations serve both. Every write and read
goes through `Store.session()`, which commits or rolls back and turns SQLAlchemy's errors
into `StoreError`, so callers handle one exception type. The app refuses to run on an old
schema (`check_schema`) and says which command fixes it, as MLflow does.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
UPGRADE_HINT = "run: dspo db upgrade"


class StoreError(Exception):
    """A database problem, with SQLAlchemy's exception as `__cause__`."""


def normalize_url(url: str) -> URL:
    """Parse `url`; plain `postgresql://` (and `postgres://`) use psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise StoreError(f"invalid store URL {url!r}: {e}") from e
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported store backend {parsed.get_backend_name()!r}")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Set per-connection SQLite pragmas: WAL lets readers run during a collector's write,
    the busy timeout makes concurrent writers wait instead of failing at once, and foreign
    keys are off by default in SQLite."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


class Store:
    """Engine and session factory for one database URL."""

    def __init__(self, url: str) -> None:
        self._url = normalize_url(url)
        if self._url.get_backend_name() == "sqlite":
            database = self._url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self._engine = create_engine(self._url)
            event.listen(self._engine, "connect", _sqlite_pragmas)
        else:
            self._engine = create_engine(self._url, pool_pre_ping=True)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._write_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The full URL, password included: never print or log it (use `display_url`)."""
        return self._url.render_as_string(hide_password=False)

    @property
    def display_url(self) -> str:
        """The URL with its password masked, safe to show and log."""
        return self._url.render_as_string(hide_password=True)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self._engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold while writing from one of several threads of this process.

        SQLite has one writer at a time and makes the others wait only `busy_timeout`; a
        long collector write would make a concurrent one fail, so threads take turns here.
        PostgreSQL writes concurrently and needs no turn.
        """
        if self.dialect != "sqlite":
            yield
            return
        with self._write_lock:
            yield

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error.

        SQLAlchemy errors come out as `StoreError` (cause attached); other exceptions pass
        through unchanged after the rollback.
        """
        session = self._sessions()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as e:
            session.rollback()
            raise StoreError(f"database error on {self.display_url}: {e}") from e
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    # ------------------------------------------------------------ migrations

    def _alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        return config

    def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations up to `revision` on this store's database."""
        config = self._alembic_config()
        try:
            with self._engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        except SQLAlchemyError as e:
            raise StoreError(f"migration failed on {self.display_url}: {e}") from e

    def current_revision(self) -> str | None:
        """The database's Alembic revision; None for a database never migrated."""
        try:
            with self._engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        except SQLAlchemyError as e:
            raise StoreError(f"cannot read schema version of {self.display_url}: {e}") from e

    def head_revision(self) -> str | None:
        """The newest revision this version of dspo ships."""
        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def check_schema(self, hint: str = UPGRADE_HINT) -> None:
        """Raise StoreError, with the command that fixes it (`hint`: callers that know the
        config file name it), unless the schema is at head."""
        current, head = self.current_revision(), self.head_revision()
        if current == head:
            return
        if current is None:
            raise StoreError(f"the store at {self.display_url} has no dspo schema; {hint}")
        known = {
            s.revision for s in ScriptDirectory.from_config(self._alembic_config()).walk_revisions()
        }
        if current not in known:
            raise StoreError(
                f"the store at {self.display_url} is at schema {current}, newer than this "
                f"dspo knows ({head}); upgrade dspo"
            )
        raise StoreError(
            f"the store at {self.display_url} is at schema {current}, dspo needs {head}; {hint}"
        )

    def ensure_schema(self, hint: str = UPGRADE_HINT) -> None:
        """Create a new store's schema, but refuse to migrate an existing one (StoreError
        with `hint`): jobs (collect, alerts) may run from several schedulers at once and
        beside dashboard workers of an older release, so upgrading a live store is
        `dspo db upgrade`'s, once per deployment; a store never migrated holds nothing
        that a job could break."""
        if self.current_revision() is None:
            self.upgrade()
            return
        self.check_schema(hint)

    def dispose(self) -> None:
        """Close every pooled connection (tests, forks of gunicorn workers)."""
        self._engine.dispose()
