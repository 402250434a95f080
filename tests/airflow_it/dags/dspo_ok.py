"""A DAG whose runs succeed: the happy path a dspo Airflow collector must read.

`score` sleeps about a second so the task instances have non-zero durations, which a
collector turns into run-time KPIs. Parsed only by the test Airflow (tests/airflow_it/server.py).
"""

from __future__ import annotations

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(
    dag_id="dspo_ok",
    schedule=None,
    catchup=False,
    tags=["dspo-test"],
    default_args={"retries": 0},
    doc_md="Two tasks that succeed (dspo test fixture).",
):
    extract = BashOperator(task_id="extract", bash_command="echo extracted")
    score = BashOperator(task_id="score", bash_command="sleep 1 && echo scored")
    extract >> score
