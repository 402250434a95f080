"""A DAG whose runs fail: `train` exits 1 with no retries, so `publish` ends upstream_failed.

A collector must report the run as failed, name the failing task, and tell the task that never
ran apart from the one that broke. Parsed only by the test Airflow (tests/airflow_it/server.py).
"""

from __future__ import annotations

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(
    dag_id="dspo_fails",
    schedule=None,
    catchup=False,
    tags=["dspo-test"],
    default_args={"retries": 0},
    doc_md="A failing training step (dspo test fixture).",
):
    extract = BashOperator(task_id="extract", bash_command="echo extracted")
    train = BashOperator(task_id="train", bash_command="echo 'training failed' >&2; exit 1")
    publish = BashOperator(task_id="publish", bash_command="echo published")
    extract >> train >> publish
