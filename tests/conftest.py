"""Shared fixtures: a migrated dspo store on SQLite and on PostgreSQL.

`store` is parametrized over both backends, so every test that uses it runs twice. Each
PostgreSQL test gets its own uniquely named schema (selected via `search_path`), so parallel
test runs against one server never see each other's tables; the schema is dropped afterwards.
The PostgreSQL session runs in a non-UTC time zone on purpose, so tests prove that times
come back as UTC whatever the server's setting. PostgreSQL tests are skipped, with the
reason, when the server is unreachable, unless CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from store.db import Store, normalize_url

# The fake HTTP servers (Jira, GitHub, webhook, ...) serve the tests of several packages.
sys.path.insert(0, str(Path(__file__).resolve().parent / "fakes"))

PG_URL_ENV = "DSPO_TEST_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SESSION_TIMEZONE = "Asia/Kolkata"


def _pg_admin_url() -> str:
    return normalize_url(os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)).render_as_string(
        hide_password=False
    )


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL test server URL, or skip (fail under CI=true) when it is unreachable."""
    url = _pg_admin_url()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as e:
        reason = f"PostgreSQL unreachable at {PG_URL_ENV} ({normalize_url(url)!r}): {e}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        engine.dispose()
    return url


def _sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'state' / 'dspo.db'}")
    yield store
    store.dispose()


def _pg_store(admin_url: str) -> Iterator[Store]:
    schema = f"dspo_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(admin_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = normalize_url(admin_url).update_query_dict(
        {"options": f"-csearch_path={schema} -ctimezone={PG_SESSION_TIMEZONE}"}
    )
    store = Store(url.render_as_string(hide_password=False))
    try:
        yield store
    finally:
        store.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store on a fresh, never-migrated database (SQLite file or PostgreSQL schema)."""
    if request.param == "sqlite":
        yield from _sqlite_store(tmp_path)
    else:
        yield from _pg_store(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(empty_store: Store) -> Store:
    """A store migrated to head."""
    empty_store.upgrade()
    return empty_store


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ],
)
def module_store(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A store migrated to head, shared by one test module whose tests only read it (the
    module's own fixture writes its data once)."""
    stores = (_sqlite_store(tmp_path_factory.mktemp("module"))
              if request.param == "sqlite" else _pg_store(request.getfixturevalue("pg_url")))
    for store in stores:
        store.upgrade()
        yield store
