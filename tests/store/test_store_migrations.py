"""The migrations build exactly the schema the ORM declares, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from store.db import StoreError
from store.schema import Base


def test_fresh_database_is_behind_and_says_what_to_run(empty_store):
    assert empty_store.current_revision() is None
    assert empty_store.head_revision() == "0009"
    with pytest.raises(StoreError, match="run: dspo db upgrade"):
        empty_store.check_schema()


def test_upgrade_reaches_head_and_is_repeatable(empty_store):
    empty_store.upgrade()
    empty_store.upgrade()
    assert empty_store.current_revision() == empty_store.head_revision()
    empty_store.check_schema()
    tables = set(inspect(empty_store.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_migrations_and_models_agree(store):
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == []


def test_every_constraint_and_index_is_named(store):
    inspector = inspect(store.engine)
    for table in Base.metadata.tables:
        for uq in inspector.get_unique_constraints(table):
            assert uq["name"] and uq["name"].startswith("uq_"), (table, uq)
        for fk in inspector.get_foreign_keys(table):
            assert fk["name"] and fk["name"].startswith("fk_"), (table, fk)
        for ix in inspector.get_indexes(table):
            assert ix["name"], (table, ix)


def test_0004_keeps_collector_runs_and_pipeline_runs(empty_store):
    """A store at 0003 with data upgrades without losing a row: run counts become
    rows_written, pipeline runs get source = system (adopted later by the writer)."""
    from sqlalchemy import text

    empty_store.upgrade("0003")
    with empty_store.engine.begin() as c:
        c.execute(text("INSERT INTO product (key, name, owner, description) "
                       "VALUES ('p', 'P', '', '')"))
        c.execute(text("INSERT INTO collector_run (source, kind, started, status, records) "
                       "VALUES ('s', 'files', '2026-11-01 00:00:00', 'ok', 42)"))
        c.execute(text("INSERT INTO pipeline_run (product_id, system, pipeline, run_id, state, "
                       "start) SELECT id, 'mlflow', 'etl', 'r1', 'success', "
                       "'2026-11-01 00:00:00' FROM product"))
    empty_store.upgrade()
    with empty_store.engine.connect() as c:
        run = c.execute(text("SELECT rows_written, records_read, status FROM collector_run"))
        assert run.one() == (42, 0, "ok")
        pipe = c.execute(text("SELECT source, system, run_id FROM pipeline_run"))
        assert pipe.one() == ("mlflow", "mlflow", "r1")


def test_0005_gives_outbox_rows_a_state(empty_store):
    """A store at 0004 with a delivered and an undelivered outbox row upgrades without
    losing either: the delivered one is `delivered`, the other `pending` and due at once
    (no next attempt yet), with its attempts and last error kept."""
    from sqlalchemy import text

    empty_store.upgrade("0004")
    with empty_store.engine.begin() as c:
        for i, delivered in ((1, "'2026-11-01 00:05:00'"), (2, "NULL")):
            c.execute(text(
                "INSERT INTO outbox (id, fingerprint, sink, action, payload, created_at, "
                f"attempts, last_error, delivered_at, dedupe_key) VALUES ({i}, 'fp', 'jira', "
                f"'create', '{{}}', '2026-11-01 00:00:00', {i}, 'HTTP 503', {delivered}, "
                f"'k{i}')"))
    empty_store.upgrade()
    with empty_store.engine.connect() as c:
        rows = c.execute(text("SELECT id, state, attempts, last_error, next_attempt_at, "
                              "discarded_by FROM outbox ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, "delivered", 1, "HTTP 503", None, None),
                                        (2, "pending", 2, "HTTP 503", None, None)]


def test_0006_drops_the_copies_of_drift_and_quality_and_keeps_the_rest(empty_store):
    """Drift shares and data quality live in their own tables; their copies in the points
    table go, usage points stay."""
    from sqlalchemy import text

    empty_store.upgrade("0005")
    _points_in_sql(empty_store, [("drift", "drifted_share", "2026-11-02 00:00:00", 0.5),
                                 ("data_quality", "rows", "2026-11-02 00:00:00", 70.0),
                                 ("usage", "dau", "2026-11-02 00:00:00", 1000.0)])
    empty_store.upgrade()
    with empty_store.engine.connect() as c:
        kinds = c.execute(text("SELECT kind FROM series ORDER BY kind")).scalars().all()
        points = c.execute(text("SELECT count(*) FROM point")).scalar_one()
    assert (kinds, points) == (["usage"], 1)


def _points_in_sql(store, points):
    """(kind, name, ts, value) written in plain SQL, one series each: the writer of head
    also writes tables an old revision lacks."""
    from sqlalchemy import text

    with store.engine.begin() as c:
        c.execute(text("INSERT INTO product (key, name, owner, description) "
                       "VALUES ('p', 'P', '', '')"))
        for kind, name, ts, value in points:
            c.execute(text("INSERT INTO series (product_id, kind, name, labels_key, labels, unit) "
                           "SELECT id, :kind, :name, :key, '{}', '' FROM product"),
                      {"kind": kind, "name": name, "key": f"{kind}/{name}/{ts}"})
            c.execute(text("INSERT INTO point (series_id, ts, step, value) "
                           "SELECT max(id), :ts, 0, :value FROM series"),
                      {"ts": _utc_text(store, ts), "value": value})


def _utc_text(store, ts: str) -> str:
    """A UTC time as each backend takes it in plain SQL: SQLite's stored text, PostgreSQL's
    literal with its offset (the test session's time zone is not UTC)."""
    return f"{ts}.000000" if store.dialect == "sqlite" else f"{ts}+00"


def test_0008_rolls_up_the_points_already_stored(empty_store):
    """A store at 0007 has points and no rollups: the upgrade fills them. Values at 10:05
    and 10:50 (1.5, 2.5), 11:00 (4.0) on 11-02 and 09:00 on 11-03 (8.0): hours 10:00 (n 2,
    sum 4.0, min 1.5, max 2.5, last 2.5 at 10:50) and 11:00; days 11-02 (n 3, sum 8.0, min
    1.5, max 4.0, last 4.0) and 11-03 (8.0)."""
    from sqlalchemy import text

    empty_store.upgrade("0007")
    _points_in_sql(empty_store, [("usage", "dau", "2026-11-02 10:05:00", 1.5)])
    with empty_store.engine.begin() as c:
        for ts, value in (("2026-11-02 10:50:00", 2.5), ("2026-11-02 11:00:00", 4.0),
                          ("2026-11-03 09:00:00", 8.0)):
            c.execute(text("INSERT INTO point (series_id, ts, step, value) "
                           "SELECT max(id), :ts, 0, :value FROM series"),
                      {"ts": _utc_text(empty_store, ts), "value": value})
    empty_store.upgrade()
    with empty_store.engine.connect() as c:
        rows = c.execute(text("SELECT grain, n, total, lo, hi, last_value FROM point_rollup "
                              "ORDER BY grain, bucket")).all()
    assert [tuple(row) for row in rows] == [
        ("day", 3, 8.0, 1.5, 4.0, 4.0), ("day", 1, 8.0, 8.0, 8.0, 8.0),
        ("hour", 2, 4.0, 1.5, 2.5, 2.5), ("hour", 1, 4.0, 4.0, 4.0, 4.0),
        ("hour", 1, 8.0, 8.0, 8.0, 8.0),
    ]
