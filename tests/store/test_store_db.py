"""Store construction: URLs, SQLite setup, schema checks."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from store.db import Store, StoreError, normalize_url


def test_plain_postgresql_urls_use_psycopg_and_passwords_are_masked():
    store = Store("postgresql://dspo:s3cret@db.example:5432/dspo")
    assert store.engine.dialect.driver == "psycopg"
    assert store.url == "postgresql+psycopg://dspo:s3cret@db.example:5432/dspo"
    assert "s3cret" not in store.display_url and "***" in store.display_url
    assert "s3cret" not in repr(store)
    assert normalize_url("postgres://u@h/d").drivername == "postgresql+psycopg"


@pytest.mark.parametrize("url", ["mysql://u@h/d", "not a url"])
def test_unsupported_urls_are_store_errors(url):
    with pytest.raises(StoreError):
        Store(url)


def test_sqlite_creates_its_folder_and_sets_pragmas(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'a' / 'b' / 'dspo.db'}")
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert (tmp_path / "a" / "b" / "dspo.db").exists()
    finally:
        store.dispose()


def test_unknown_newer_revision_asks_to_upgrade_dspo(store):
    with store.session() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="upgrade dspo"):
        store.check_schema()
