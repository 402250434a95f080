"""The Airflow fixture itself: both DAGs run to their expected end, read back over the REST API.

If this fails, every Airflow collector test would fail for reasons that have nothing to do with
the collector, so it pins down what the fixture promises: DAGs get parsed, runs get triggered
and finish, and run and task-instance states come back as Airflow 3 reports them.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .server import AirflowServer

pytestmark = [pytest.mark.slow, pytest.mark.airflow]


def _task_states(server: AirflowServer, dag_id: str, run_id: str) -> dict[str, str]:
    body = server.get(f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances")
    return {ti["task_id"]: ti["state"] for ti in body["task_instances"]}


def test_dags_run_to_success_and_failure(airflow_server: AirflowServer) -> None:
    airflow_server.wait_for_dags("dspo_ok", "dspo_fails")
    ok_run = airflow_server.trigger("dspo_ok")
    failing_run = airflow_server.trigger("dspo_fails")
    assert ok_run.startswith("manual__")  # e.g. manual__2026-01-01T00:00:00.123456+00:00

    assert airflow_server.wait("dspo_ok", ok_run) == "success"
    assert airflow_server.wait("dspo_fails", failing_run) == "failed"

    runs = airflow_server.get("/api/v2/dags/dspo_ok/dagRuns", order_by="-start_date")
    assert ok_run in {r["dag_run_id"] for r in runs["dag_runs"] if r["state"] == "success"}

    ok_tasks = _task_states(airflow_server, "dspo_ok", ok_run)
    assert ok_tasks == {"extract": "success", "score": "success"}

    failing_tasks = _task_states(airflow_server, "dspo_fails", failing_run)
    assert failing_tasks == {"extract": "success", "train": "failed", "publish": "upstream_failed"}
