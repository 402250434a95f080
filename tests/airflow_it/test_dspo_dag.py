"""deploy/airflow/dspo_dag.py, the DAG dspo ships: parsed by Airflow's own DagBag in the suite's
Airflow 3 venv, then run by the real Airflow against a stand-in `dspo` command.

The parse runs in a subprocess of Airflow's venv (its pins clash with dspo's), once for every
scenario, and prints what the DagBag made of each: import errors, task ids, dependencies.
The run checks what a parse cannot: Variables reach the tasks when they run, every source is
collected before the rules are evaluated, and the rules are still evaluated when a source
failed.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from .server import AirflowServer, AirflowUnavailable, _clean_env, ensure_venv

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

DAG_FILE = Path(__file__).resolve().parents[2] / "deploy" / "airflow" / "dspo_dag.py"

# Runs in Airflow's python: parse the folder once per scenario (env of Variables), print JSON.
_PARSE = r"""
import json, os, sys
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:
    from airflow.models.dagbag import DagBag
out = {}
for name, variables in json.loads(sys.argv[2]).items():
    for key in [k for k in os.environ if k.startswith("AIRFLOW_VAR_")]:
        del os.environ[key]
    os.environ.update(variables)
    bag = DagBag(dag_folder=sys.argv[1])
    dag = bag.dags.get("dspo")
    out[name] = {
        "errors": [str(e) for e in bag.import_errors.values()],
        "tasks": None if dag is None else {
            t.task_id: {"upstream": sorted(t.upstream_task_ids),
                        "trigger": getattr(t.trigger_rule, "value", t.trigger_rule),
                        "command": getattr(t, "bash_command", None),
                        "env": getattr(t, "env", None), "retries": t.retries}
            for t in dag.tasks},
        "schedule": None if dag is None else str(dag.schedule),
        "max_active_runs": None if dag is None else dag.max_active_runs,
    }
print("DSPO-JSON" + json.dumps(out))
"""

SCENARIOS = {
    "per_source": {"AIRFLOW_VAR_DSPO_SOURCES": '["churn-mlflow", "jira.board"]',
                   "AIRFLOW_VAR_DSPO_SCHEDULE": "@hourly"},
    "comma_list": {"AIRFLOW_VAR_DSPO_SOURCES": " churn-mlflow , jira.board,churn-mlflow"},
    "all_sources": {"AIRFLOW_VAR_DSPO_SCHEDULE": "none"},
    "bad_name": {"AIRFLOW_VAR_DSPO_SOURCES": "Churn MLflow"},
}


def _airflow_bin() -> Path:
    try:
        return ensure_venv()
    except AirflowUnavailable as e:
        reason = f"Apache Airflow venv unavailable: {e}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What Airflow's DagBag makes of the shipped DAG file in each scenario."""
    python = _airflow_bin().parent / "python"
    home = tmp_path_factory.mktemp("airflow-parse")
    dags = home / "dags"
    dags.mkdir()
    shutil.copy(DAG_FILE, dags / DAG_FILE.name)
    env = _clean_env() | {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                          "AIRFLOW__CORE__DAGS_FOLDER": str(dags)}
    env.pop("DSPO_CONFIG", None)
    done = subprocess.run([str(python), "-c", _PARSE, str(dags), json.dumps(SCENARIOS)],
                          capture_output=True, text=True, env=env, cwd=home, timeout=180)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("DSPO-JSON")]
    assert done.returncode == 0 and lines, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(lines[-1].removeprefix("DSPO-JSON"))  # type: ignore[no-any-return]


def test_one_collect_task_per_source_then_the_alert_rules(parsed: dict[str, Any]) -> None:
    found = parsed["per_source"]
    assert found["errors"] == []
    tasks = found["tasks"]
    assert set(tasks) == {"collect_churn-mlflow", "collect_jira.board", "alerts_evaluate",
                          "all_collected"}
    collects = ["collect_churn-mlflow", "collect_jira.board"]
    assert tasks["alerts_evaluate"]["upstream"] == collects
    assert tasks["all_collected"]["upstream"] == collects
    assert tasks["all_collected"]["trigger"] == "all_success"  # fails the run on a failure
    # evaluated even when a collection failed: a stale source is what freshness rules catch
    assert tasks["alerts_evaluate"]["trigger"] == "all_done"
    assert tasks["collect_jira.board"]["command"] == (
        '$DSPO_COMMAND collect --config "$DSPO_CONFIG" --source jira.board')
    assert tasks["alerts_evaluate"]["command"] == (
        '$DSPO_COMMAND alerts evaluate --config "$DSPO_CONFIG"')
    assert tasks["collect_jira.board"]["env"] == {
        "DSPO_COMMAND": "{{ var.value.get('dspo_command', 'dspo') }}",
        "DSPO_CONFIG": "{{ var.value.get('dspo_config', '/etc/dspo/dspo.yaml') }}",
    }
    assert {t["retries"] for t in tasks.values()} == {0}
    assert found["schedule"] == "@hourly"
    assert found["max_active_runs"] == 1


def test_a_comma_separated_list_is_read_like_the_json_one(parsed: dict[str, Any]) -> None:
    found = parsed["comma_list"]
    assert found["errors"] == []
    # spaces trimmed, the repeated name collapsed
    assert set(found["tasks"]) == {"collect_churn-mlflow", "collect_jira.board",
                                   "alerts_evaluate", "all_collected"}
    assert found["schedule"] == "*/15 * * * *"


def test_without_a_source_list_one_task_collects_every_source(parsed: dict[str, Any]) -> None:
    found = parsed["all_sources"]
    assert found["errors"] == []
    assert found["tasks"]["collect"]["command"] == '$DSPO_COMMAND collect --config "$DSPO_CONFIG"'
    assert found["tasks"]["alerts_evaluate"]["upstream"] == ["collect"]
    assert set(found["tasks"]) == {"collect", "alerts_evaluate", "all_collected"}
    assert found["schedule"] == "None"  # `none`: manual or triggered runs only


def test_a_name_dspo_would_refuse_is_an_import_error(parsed: dict[str, Any]) -> None:
    found = parsed["bad_name"]
    assert found["tasks"] is None
    assert len(found["errors"]) == 1 and "dspo_sources" in found["errors"][0], found["errors"]


FAKE_DSPO = """#!/bin/sh
# Stands in for dspo: records each call, and fails the collection of source beta as dspo
# does when a source fails (exit 2).
echo "$DSPO_CONFIG $*" >> {log}
case "$*" in *"--source beta"*) exit 2 ;; esac
exit 0
"""


def _set_variable(server: AirflowServer, key: str, value: str) -> None:
    with server.client() as c:
        response = c.post("/api/v2/variables", json={"key": key, "value": value})
        if response.status_code == 409:  # already there from an earlier run of this test
            response = c.patch(f"/api/v2/variables/{key}", json={"key": key, "value": value})
        response.raise_for_status()


def test_the_dag_runs_in_airflow_with_its_variables(airflow_server: AirflowServer,
                                                    tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    fake = tmp_path / "fake-dspo"
    fake.write_text(FAKE_DSPO.format(log=log))
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    _set_variable(airflow_server, "dspo_sources", "alpha,beta")
    _set_variable(airflow_server, "dspo_schedule", "none")  # only the run triggered below
    _set_variable(airflow_server, "dspo_command", str(fake))
    _set_variable(airflow_server, "dspo_config", str(tmp_path / "dspo config.yaml"))
    shutil.copy(DAG_FILE, airflow_server.dags_folder / DAG_FILE.name)
    airflow_server.wait_for_dags("dspo")

    run = airflow_server.trigger("dspo")
    assert airflow_server.wait("dspo", run) == "failed"  # beta's collection failed

    body = airflow_server.get(f"/api/v2/dags/dspo/dagRuns/{quote(run, safe='')}/taskInstances")
    states = {ti["task_id"]: ti["state"] for ti in body["task_instances"]}
    assert states == {"collect_alpha": "success", "collect_beta": "failed",
                      "alerts_evaluate": "success", "all_collected": "upstream_failed"}
    calls = log.read_text().splitlines()
    config = tmp_path / "dspo config.yaml"  # a space in the path: still one argument
    assert sorted(calls[:2]) == [f"{config} collect --config {config} --source alpha",
                                 f"{config} collect --config {config} --source beta"]
    assert calls[2:] == [f"{config} alerts evaluate --config {config}"]
