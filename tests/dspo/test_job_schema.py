"""Jobs (`dspo collect`, `dspo alerts evaluate`, `dspo users add`) never upgrade a live
store: several schedulers may run them at once, beside dashboard workers of the release
before, so an old schema stops them with the command to run. A store never migrated gets
its schema (there is nothing in it to break), and `dspo demo` migrates its own store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dspo.cli import app
from store.db import Store

OLD = "0006"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    """A config with no sources and no rules, and its SQLite store (not created yet)."""
    store = Store(f"sqlite:///{tmp_path / 'dspo.db'}")
    config = tmp_path / "dspo.yaml"
    config.write_text(f'store: {{url: "{store.url}"}}\nproducts: [{{key: churn, name: Churn}}]\n')
    yield config, store
    store.dispose()


JOBS = {
    "collect": ["collect"],
    "alerts evaluate": ["alerts", "evaluate"],
    "users add": ["users", "add", "ana", "--role", "admin"],
}


@pytest.mark.parametrize("job", JOBS.values(), ids=JOBS.keys())
def test_a_job_refuses_an_old_schema_and_leaves_it_as_it_was(
    world: tuple[Path, Store], job: list[str]
) -> None:
    config, store = world
    store.upgrade(OLD)
    out = CliRunner().invoke(app, [*job, "-c", str(config)])
    assert out.exit_code == 1, out.output
    head = store.head_revision()
    assert f"is at schema {OLD}, dspo needs {head}; run: dspo db upgrade -c {config}" in (
        " ".join(out.output.split())
    )
    assert store.current_revision() == OLD


@pytest.mark.parametrize("job", JOBS.values(), ids=JOBS.keys())
def test_a_job_creates_the_schema_of_a_new_store(world: tuple[Path, Store],
                                                 job: list[str]) -> None:
    config, store = world
    out = CliRunner().invoke(app, [*job, "-c", str(config)])
    assert out.exit_code == 0, out.output
    assert store.current_revision() == store.head_revision()
