"""Health probes: /healthz answers while the process lives, /readyz only while the store
answers at the schema this code needs; both open to load balancers, neither saying more
than ready or not (the reason goes to the log)."""

from __future__ import annotations

from pathlib import Path

import pytest
from secured_app import build
from sqlalchemy import create_engine, text

from store.db import Store


def test_probes_answer_without_a_session(tmp_path: Path) -> None:
    world = build(tmp_path)
    client = world.app.server.test_client()
    alive = client.get("/healthz")
    ready = client.get("/readyz")
    assert (alive.status_code, alive.get_data(as_text=True)) == (200, "ok\n")
    assert (ready.status_code, ready.get_data(as_text=True)) == (200, "ready\n")
    assert ready.headers["Cache-Control"] == "no-store"
    # an exact path, not a prefix: anything longer is a page, behind the sign-in
    assert client.get("/healthz-and-more").status_code == 302


def test_a_store_behind_the_code_is_not_ready(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    world = build(tmp_path)
    client = world.app.server.test_client()
    # the code of a release whose migration has not run yet: the store reads one behind
    with create_engine(world.config.store.url).begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    older = Store(world.config.store.url)
    assert older.current_revision() != older.head_revision()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    said = answer.get_data(as_text=True)
    assert "not ready" in said and world.config.store.url not in said
    assert client.get("/healthz").status_code == 200  # alive: not restarted for it
    assert any("not ready" in r.getMessage() for r in caplog.records)
