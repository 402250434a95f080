"""dspo's Airflow DAG: collect each source, then evaluate the alert rules.

Copy this file into your DAGs folder. The tasks run the `dspo` command (BashOperator), so
Airflow's workers need dspo installed, or `dspo_command` set to something that runs it
(`docker run --rm --env-file /etc/dspo/env dspo:latest dspo`, a venv's `bin/dspo`...).
The store URL and source tokens come from the workers' environment, which the command
inherits; dspo's config interpolates them (`${DSPO_STORE_URL}`).

Settings are Airflow Variables; each can also be set as the environment variable
`AIRFLOW_VAR_<NAME>` (Airflow's own lookup):

- `dspo_sources` (read when the DAG is parsed): source names, a JSON list or
  comma-separated; one `collect_<name>` task each, so a failing source shows and reruns
  alone. Unset: one `collect` task for every enabled source.
- `dspo_schedule` (parsed): a cron expression or preset; default `*/15 * * * *`; `none`
  for manual or triggered runs only.
- `dspo_command` (read when a task runs): what runs dspo; default `dspo`.
- `dspo_config` (when a task runs): dspo's YAML config; default the DAG processor's
  `$DSPO_CONFIG`, else `/etc/dspo/dspo.yaml`.

Every task is idempotent (upserts keyed by source and id, the watermark committed with the
data; alert changes compare-and-set), and dspo's lease in the store keeps two runs of one
source apart, so overlapping runs, a manual trigger or a second scheduler change nothing
twice. `alerts_evaluate` runs even when a collection failed (a stale source is what
freshness rules are there to catch); `all_collected` then fails the run, so Airflow's own
alerting on failed runs still sees the failed source.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone

try:  # Airflow 3: the task SDK and the standard provider
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG, Variable
except ImportError:  # Airflow 2.x
    from airflow import DAG
    from airflow.models import Variable
    from airflow.operators.bash import BashOperator
    from airflow.operators.empty import EmptyOperator

DAG_ID = "dspo"
SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")  # dspo's own rule for source names
DEFAULT_SCHEDULE = "*/15 * * * *"
DEFAULT_CONFIG = os.environ.get("DSPO_CONFIG") or "/etc/dspo/dspo.yaml"


def parse_sources(value: str | None) -> list[str]:
    """Source names from a JSON list or a comma-separated string; a name dspo would refuse
    fails the parse, so the DAG shows an import error instead of tasks that can only fail."""
    if not value or not value.strip():
        return []
    text = value.strip()
    names = json.loads(text) if text.startswith("[") else text.split(",")
    names = [str(n).strip() for n in names if str(n).strip()]
    bad = [n for n in names if not SOURCE_NAME.fullmatch(n)]
    if bad:
        raise ValueError(f"dspo_sources: {bad} are not dspo source names "
                         "(lower-case letters, digits, '_', '.', '-')")
    return list(dict.fromkeys(names))


def _variable(name: str, default: str) -> str:
    """A parse-time Variable (the metadata DB or AIRFLOW_VAR_<NAME>), else the default."""
    value = Variable.get(name, None)
    return default if value is None else str(value)


def parse_schedule(value: str) -> str | None:
    """The DAG's schedule: a cron expression or preset as given, `none` for no schedule."""
    value = value.strip()
    return None if value.lower() == "none" else value or DEFAULT_SCHEDULE


def _runtime(name: str, default: str) -> str:
    """A Variable read when the task runs (templated), so changing it needs no re-parse."""
    return "{{ var.value.get(" + repr(name) + ", " + repr(default) + ") }}"


# The command gets its settings through the environment, never pasted into the shell line:
# a path with spaces or quotes stays one argument. $DSPO_COMMAND is split on purpose, so it
# can be a command with arguments (docker run ... dspo).
ENV = {
    "DSPO_COMMAND": _runtime("dspo_command", "dspo"),
    "DSPO_CONFIG": _runtime("dspo_config", DEFAULT_CONFIG),
}
COLLECT_ALL = '$DSPO_COMMAND collect --config "$DSPO_CONFIG"'
EVALUATE = '$DSPO_COMMAND alerts evaluate --config "$DSPO_CONFIG"'


def collect_command(source: str) -> str:
    """The shell line collecting one source (its name is checked, so it needs no quoting)."""
    return f"{COLLECT_ALL} --source {source}"


with DAG(
    dag_id=DAG_ID,
    schedule=parse_schedule(_variable("dspo_schedule", DEFAULT_SCHEDULE)),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),  # noqa: UP017 (Airflow 2 runs 3.9)
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    tags=["dspo"],
    # No retries: the next scheduled run is the retry, and it catches up from the watermark.
    default_args={"retries": 0, "execution_timeout": timedelta(minutes=30)},
    doc_md=__doc__,
) as dag:
    sources = parse_sources(_variable("dspo_sources", ""))
    collects = [
        BashOperator(task_id=f"collect_{name}", bash_command=collect_command(name),
                     env=ENV, append_env=True)
        for name in sources
    ] or [BashOperator(task_id="collect", bash_command=COLLECT_ALL, env=ENV, append_env=True)]
    evaluate = BashOperator(task_id="alerts_evaluate", bash_command=EVALUATE, env=ENV,
                            append_env=True, trigger_rule="all_done")
    collects >> evaluate
    # A run's state is its last tasks': this one fails the run when a source failed, which
    # alerts_evaluate (run whatever happened) would hide.
    collects >> EmptyOperator(task_id="all_collected")
