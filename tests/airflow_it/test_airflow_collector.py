"""The airflow collector against a real Airflow 3.3 (the session's `airflow_server`), through
`run_sources` into dspo's store on SQLite and PostgreSQL.

A successful and a failing DAG run end to end: both runs stored with their states and
Airflow's own durations, the failed run's failing task named and the task it starved told
apart (upstream_failed, never started); collecting again writes nothing; a run deleted in
Airflow leaves the store; a stopped Airflow is a clear failure while another source of the
same collection still collects. Runs are triggered here, never taken from other tests, and
only runs this module created are deleted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import pytest

from collectors.runner import run_sources
from config.sources.airflow import AirflowSource
from config.sources.files import FilesSource
from store import queries
from store.db import Store

from .server import AirflowServer

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

DAGS = ("dspo_ok", "dspo_fails")
ITEMS = ("key,title,type,status,status_category,points,created\n"
         "A-1,One,Story,Done,done,3,2026-02-01T10:00:00Z\n")


def run_path(dag_id: str, run_id: str) -> str:
    return f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}"


def settle(server: AirflowServer, timeout: float = 120.0) -> None:
    """Wait until no run of the test DAGs is queued or running (other tests' runs too), so
    a collection reads finished runs only and a second one finds nothing changed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        open_runs = [r for d in DAGS
                     for r in server.get(f"/api/v2/dags/{d}/dagRuns", limit=100)["dag_runs"]
                     if r["state"] not in ("success", "failed")]
        if not open_runs:
            return
        time.sleep(0.5)
    raise TimeoutError(f"runs still open after {timeout:.0f} s:\n{server.logs()}")


def source(server: AirflowServer, **kw: Any) -> AirflowSource:
    settings: dict[str, Any] = {
        "name": "airflow-it", "kind": "airflow", "product": "ml", "url": server.url,
        "username": server.username, "password": server.password, "dags": list(DAGS),
        "reconcile_every": "0s", "retries": 1, "deadline": "60s",
    }
    return AirflowSource(**{**settings, **kw})


@pytest.fixture(scope="module")
def finished(airflow_server: AirflowServer) -> dict[str, str]:
    """One run of each DAG, finished: {dag_id: run_id}."""
    airflow_server.wait_for_dags(*DAGS)
    runs = {dag: airflow_server.trigger(dag) for dag in DAGS}
    assert airflow_server.wait("dspo_ok", runs["dspo_ok"]) == "success"
    assert airflow_server.wait("dspo_fails", runs["dspo_fails"]) == "failed"
    settle(airflow_server)
    return runs


def test_both_runs_with_states_durations_and_the_failed_task(
    store: Store, airflow_server: AirflowServer, finished: dict[str, str]
) -> None:
    [result] = run_sources(store, [source(airflow_server)])
    assert result.status == "ok", result.error

    runs = queries.pipeline_runs(store, "ml").set_index("run_id")
    ok, failed = (f"{dag}/{finished[dag]}" for dag in DAGS)
    assert runs.loc[ok, "state"] == "success" and runs.loc[failed, "state"] == "failed"
    assert runs.loc[ok, "pipeline"] == "dspo_ok" and runs.loc[ok, "system"] == "airflow"
    assert runs.loc[ok, "run_type"] == "manual" and runs.loc[ok, "trigger"] == "rest_api"
    for key, dag in ((ok, "dspo_ok"), (failed, "dspo_fails")):
        airflow = airflow_server.get(run_path(dag, finished[dag]))
        assert runs.loc[key, "duration"] == pytest.approx(airflow["duration"], abs=1e-6)
        assert runs.loc[key, "start"] == pd.Timestamp(airflow["start_date"])
        assert runs.loc[key, "url"] == (f"{airflow_server.url}/dags/{dag}/runs/"
                                        f"{quote(finished[dag], safe='')}")
    assert runs.loc[ok, "duration"] > 1.0  # `score` sleeps a second

    now = datetime.now(UTC)
    tasks = queries.pipeline_tasks(store, "ml", now - timedelta(days=1), now)
    mine = tasks[tasks["run_id"] == failed].set_index("task_id")
    assert mine["state"].to_dict() == {"extract": "success", "train": "failed",
                                       "publish": "upstream_failed"}
    assert mine.loc["train", "try_number"] == 1 and mine.loc["train", "duration"] > 0
    assert mine.loc["train", "operator"] == "BashOperator"
    publish = mine.loc["publish"]  # never ran: no times, though Airflow stamps start = end
    assert pd.isna(publish["start"]) and pd.isna(publish["end"])
    assert pd.isna(publish["duration"]) and publish["try_number"] == 0
    failed_only = queries.pipeline_tasks(store, "ml", now - timedelta(days=1), now,
                                         states=["failed"])
    assert failed_only.loc[failed_only["run_id"] == failed, "task_id"].tolist() == ["train"]
    points = queries.series_points(store, "ml", "pipeline", "duration_seconds")
    assert runs.loc[ok, "duration"] in points["value"].tolist()

    [again] = run_sources(store, [source(airflow_server)])
    assert (again.status, again.rows) == ("ok", 0)


def test_a_run_deleted_in_airflow_leaves_the_store(
    store: Store, airflow_server: AirflowServer, finished: dict[str, str]
) -> None:
    doomed = airflow_server.trigger("dspo_ok")
    assert airflow_server.wait("dspo_ok", doomed) == "success"
    settle(airflow_server)
    assert run_sources(store, [source(airflow_server)])[0].status == "ok"
    assert f"dspo_ok/{doomed}" in set(queries.pipeline_runs(store, "ml")["run_id"])

    with airflow_server.client() as api:
        assert api.delete(run_path("dspo_ok", doomed)).status_code == 204
    [result] = run_sources(store, [source(airflow_server)])
    assert result.status == "ok" and result.rows == 1  # the run; its tasks go with it
    stored = set(queries.pipeline_runs(store, "ml")["run_id"])
    assert f"dspo_ok/{doomed}" not in stored and f"dspo_ok/{finished['dspo_ok']}" in stored
    now = datetime.now(UTC)
    tasks = queries.pipeline_tasks(store, "ml", now - timedelta(days=1), now)
    assert f"dspo_ok/{doomed}" not in set(tasks["run_id"])


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """One backend is enough here: stopping Airflow costs a restart of ~20 s."""
    store = Store(f"sqlite:///{tmp_path / 'dspo.db'}")
    store.upgrade()
    yield store
    store.dispose()


def test_a_stopped_airflow_fails_clearly_while_another_source_collects(
    sqlite_store: Store, airflow_server: AirflowServer, finished: dict[str, str],
    tmp_path: Path,
) -> None:
    items = tmp_path / "items.csv"
    items.write_text(ITEMS)
    backlog = FilesSource(name="backlog", kind="files", product="ml", items=items)
    token = airflow_server.token()
    probing = source(airflow_server, retries=0)  # version auto: the probe meets the outage
    client = source(airflow_server, name="airflow-it-v3", version="3", username=None,
                    password=None, token=token, retries=0)  # the official client meets it
    with airflow_server.stopped():
        started = time.monotonic()
        results = {r.source: r for r in run_sources(sqlite_store, [probing, client, backlog])}
        elapsed = time.monotonic() - started
    assert results["backlog"].status == "ok" and results["backlog"].rows > 0
    for name in ("airflow-it", "airflow-it-v3"):
        error = results[name].error or ""
        assert results[name].status == "failed"
        assert f"'{name}'" in error and airflow_server.url in error, error
        assert "cannot connect" in error, error
        assert token not in error and airflow_server.password not in error
    assert elapsed < 30, f"a stopped Airflow held the collection for {elapsed:.0f} s"
    status = queries.collector_status(sqlite_store).set_index("source")
    assert status.loc["airflow-it", "status"] == "failed"
