"""Airflow DAG runs and their task instances as pipeline runs.

What is read: the unpaused DAGs the settings select (`dags` allow-list and/or `dag_pattern`),
their runs updated since the watermark, and the task instances of those runs. Airflow 3
(`/api/v2`, JWT; `collectors/airflow3.py`) and Airflow 2 (`/api/v1`, basic auth;
`collectors/airflow2.py`) answer the same interface (`collectors/airflow_common.py`), so
both give the same records:

- `PipelineRun` per run, keyed `"{dag_id}/{dag_run_id}"` (run ids are only unique within a
  DAG), with Airflow's own state word, run type and trigger in `detail`, Airflow's
  `duration` (Airflow 3; Airflow 2 reports none) and, as `attempt`, the highest try number
  of its tasks;
- `PipelineTask` per task instance; a task that never ran (upstream_failed, or try number
  0) gets no start, end or duration, although Airflow stamps one on it;
- a `duration_seconds` point per successful run, as the MLflow pipelines collector does.

Incremental rule: Airflow filters runs on `updated_at` but does not return it, so each run
re-reads `overlap` before the watermark (re-reading is an upsert that changes nothing).
Deletions: at most every `reconcile_every`, each DAG read lists all its run ids and a
`Present` record lets the writer drop the runs Airflow no longer has. Runs of a DAG that
was deleted as a whole, paused or deselected are left as they are.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import chain

from collectors.airflow_common import AirflowApi, RunInfo, TaskInfo, detect_major
from collectors.base import Collector, reconcile_due
from collectors.mlflow_common import mask_uri
from config.sources.airflow import AirflowSource
from store.records import (
    Entity,
    PipelineRun,
    PipelineState,
    PipelineTask,
    Point,
    Present,
    Record,
    SeriesKind,
)

log = logging.getLogger(__name__)

SYSTEM = "airflow"
STATES: dict[str, PipelineState] = {
    "queued": PipelineState.QUEUED,
    "running": PipelineState.RUNNING,
    "success": PipelineState.SUCCESS,
    "failed": PipelineState.FAILED,
}
RUN_TYPES = {"dataset_triggered": "asset_triggered"}  # Airflow 2's word for the same thing
ALL_DAGS_AT_ONCE = 20  # above this many DAGs, one listing of every DAG's runs is cheaper
TASKS_PER_RUN_GUESS = 10  # sizes the first task-instance request of a DAG


class AirflowCollector(Collector[AirflowSource]):
    kind = "airflow"

    @property
    def where(self) -> str:
        return mask_uri(self.settings.url)

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        api = self._open()
        try:
            yield from self._collect(api, since, until)
        finally:
            api.close()

    def _open(self) -> AirflowApi:
        major = detect_major(self) if self.settings.version == "auto" else self.settings.version
        if major == "3":
            from collectors.airflow3 import Airflow3Api  # imports the client (~0.8 s)

            return Airflow3Api(self)
        from collectors.airflow2 import Airflow2Api

        return Airflow2Api(self)

    def _collect(self, api: AirflowApi, since: datetime | None, until: datetime
                 ) -> Iterator[Record]:
        dags = self._selected(api)
        updated_since = self._updated_since(since, until)
        reconcile = reconcile_due(since, until, self.settings.reconcile_every)
        by_dag: dict[str, list[RunInfo]] = {d: [] for d in dags}
        for run in self._changed_runs(api, dags, updated_since):
            if run.dag_id in by_dag:
                by_dag[run.dag_id].append(run)
        for dag_id, runs in by_dag.items():
            yield from self._dag_records(api, dag_id, runs, until)
            if reconcile:
                # Without a time filter the listing just read was every run already.
                ids = ([r.run_id for r in runs] if updated_since is None
                       else list(api.run_ids(dag_id)))
                yield Present(
                    self.product, Entity.PIPELINE_RUN,
                    frozenset(f"{dag_id}/{run_id}" for run_id in ids),
                    scope={"pipeline": self.settings.pipeline_of(dag_id)},
                )

    # ------------------------------------------------------------ what to read

    def _selected(self, api: AirflowApi) -> list[str]:
        """Unpaused DAGs in the allow-list or matching the pattern (all when neither)."""
        wanted = set(self.settings.dags)
        pattern = re.compile(self.settings.dag_pattern) if self.settings.dag_pattern else None
        chosen: list[str] = []
        paused: list[str] = []
        seen: set[str] = set()
        for dag in api.dags():
            seen.add(dag.dag_id)
            listed = dag.dag_id in wanted or bool(pattern and pattern.search(dag.dag_id))
            if (wanted or pattern) and not listed:
                continue
            (paused if dag.is_paused else chosen).append(dag.dag_id)
        if paused:
            log.info("source %s: paused DAGs not read: %s", self.name, ", ".join(paused))
        if missing := sorted(wanted - seen):
            log.warning("source %s: DAGs not found in Airflow (or stale): %s", self.name,
                        ", ".join(missing))
        return chosen

    def _updated_since(self, since: datetime | None, until: datetime) -> datetime | None:
        if since is not None:
            return since - self.settings.overlap
        if self.settings.history:
            return until - self.settings.history
        return None

    def _changed_runs(self, api: AirflowApi, dags: Sequence[str],
                      updated_since: datetime | None) -> Iterator[RunInfo]:
        if len(dags) > ALL_DAGS_AT_ONCE:
            return api.runs("~", updated_since)
        return chain.from_iterable(api.runs(d, updated_since) for d in dags)

    def _tasks(self, api: AirflowApi, dag_id: str, runs: Sequence[RunInfo]
               ) -> dict[str, list[TaskInfo]]:
        """Task instances of these runs, asking for about one page's worth per request
        (learning the DAG's tasks per run), which keeps Airflow 2's unordered lists whole."""
        found: dict[str, list[TaskInfo]] = {r.run_id: [] for r in runs}
        per_run, done = TASKS_PER_RUN_GUESS, 0
        while done < len(runs):
            chunk = [r.run_id for r in runs[done:done + max(1, self.settings.page_size // per_run)]]
            count = 0
            for task in api.tasks(dag_id, chunk):
                found.setdefault(task.run_id, []).append(task)
                count += 1
            observed = math.ceil(count / len(chunk))
            per_run = max(observed, 1) if done == 0 else max(per_run, observed)
            done += len(chunk)
        return found

    # ------------------------------------------------------------ records

    def _dag_records(self, api: AirflowApi, dag_id: str, runs: Sequence[RunInfo],
                     until: datetime) -> Iterator[Record]:
        pipeline = self.settings.pipeline_of(dag_id)
        tasks = self._tasks(api, dag_id, runs) if self.settings.tasks and runs else {}
        for run in runs:
            state = STATES.get(run.state)
            if state is None:  # a state newer than this code: skip it rather than guess
                log.warning("source %s: run %s/%s has unknown state %r", self.name, dag_id,
                            run.run_id, run.state)
                continue
            key = f"{dag_id}/{run.run_id}"
            mine = tasks.get(run.run_id, [])
            record = self._run(api, run, pipeline, key, state, mine, until)
            yield record
            for task in mine:
                yield self._task(task, key)
            if state is PipelineState.SUCCESS and record.end is not None:
                yield Point(
                    product=self.product, kind=SeriesKind.PIPELINE, name="duration_seconds",
                    ts=record.end,
                    value=record.duration if record.duration is not None
                    else (record.end - record.start).total_seconds(),
                    labels={"pipeline": pipeline}, unit="s",
                )

    def _run(self, api: AirflowApi, run: RunInfo, pipeline: str, key: str,
             state: PipelineState, tasks: Sequence[TaskInfo], until: datetime) -> PipelineRun:
        tries = [t.try_number for t in tasks if t.try_number]
        detail = {"state": run.state, "run_type": run.run_type, "dag_id": run.dag_id,
                  "dag_run_id": run.run_id}
        if run.triggered_by:
            detail["triggered_by"] = run.triggered_by
        return PipelineRun(
            product=self.product,
            system=SYSTEM,
            pipeline=pipeline,
            run_id=key,
            state=state,
            # A queued run has not started: it stands at the time it was queued for.
            start=run.start or run.queued_at or run.run_after or until,
            end=run.end,
            trigger=run.triggered_by,
            url=api.run_url(run.dag_id, run.run_id),
            run_type=RUN_TYPES.get(run.run_type, run.run_type) or None,
            attempt=max(tries) if tries else None,
            duration=run.duration,
            detail=detail,
        )

    def _task(self, task: TaskInfo, run_key: str) -> PipelineTask:
        # Airflow stamps start = end = the moment it marked a task upstream_failed; it never
        # ran, so it has no times (a duration of 0 would pull every average down).
        never_ran = task.try_number == 0 or task.state == "upstream_failed"
        return PipelineTask(
            product=self.product,
            run_id=run_key,
            task_id=task.task_id,
            state=task.state or "none",
            start=None if never_ran else task.start,
            end=None if never_ran else task.end,
            duration=None if never_ran else task.duration,
            try_number=task.try_number,
            map_index=task.map_index,
            operator=task.operator,
        )
