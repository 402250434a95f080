"""Airflow 2: the stable REST API under /api/v1, read with `collectors.rest.RestClient`.

apache-airflow-client 3.x speaks only Airflow 3's /api/v2 and cannot parse these answers,
and the 2.x client would pin urllib3 and pydantic versions dspo does not use; the v1 API is
small and documented, so plain JSON over httpx reads it (streamed, deadline-checked).
Shapes: https://airflow.apache.org/docs/apache-airflow/2.10.5/stable-rest-api-ref.html
(DAGCollection, DAGRunCollection, TaskInstanceCollection, ListTaskInstanceForm).

Limits of Airflow 2's API that shape this reader: runs carry no `duration` and no
`triggered_by` (the collector leaves duration None, so readers use end - start), and the
task-instance lists have no ORDER BY, so a request whose answer spans several pages could
repeat or miss an instance between pages; the collector asks for few enough runs per
request that their task instances fit one page where it can, and duplicates are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from collectors.airflow_common import DagInfo, RunInfo, TaskInfo, offset_pages, when
from collectors.base import Collector
from collectors.rest import RestClient
from config.sources.airflow import AirflowSource

R = TypeVar("R")


class Airflow2Api:
    major = "2"

    def __init__(self, collector: Collector[AirflowSource]) -> None:
        settings = collector.settings
        self.collector = collector
        self.settings = settings
        headers: dict[str, str] = {}
        auth: tuple[str, str] | None = None
        if settings.token is not None:
            headers["Authorization"] = f"Bearer {settings.token.get_secret_value()}"
        elif settings.username and settings.password is not None:
            auth = (settings.username, settings.password.get_secret_value())
        self.rest = RestClient(collector, settings.url.rstrip("/") + "/api/v1",
                               headers=headers, auth=auth)
        self.base = settings.url.rstrip("/")

    def close(self) -> None:
        self.rest.close()

    def _page(self, path: str, key: str, params: Mapping[str, Any]) -> tuple[list[Any], int | None]:
        return self._items(self.rest.get_json(path, params=params), key, path)

    def _items(self, body: Any, key: str, what: str) -> tuple[list[Any], int | None]:
        """The list under `key` and the total count; another shape is a clear failure."""
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise self.collector.fail(f"{what}: the answer has no {key!r} list of objects; "
                                      "is url an Airflow 2 with its REST API enabled?")
        total = body.get("total_entries")
        return items, total if isinstance(total, int) else None

    def _read(self, convert: Callable[[Mapping[str, Any]], R], item: Mapping[str, Any],
              what: str) -> R:
        try:
            return convert(item)
        except (KeyError, TypeError, ValueError) as e:
            raise self.collector.fail(f"{what} in an unexpected shape ({e!r})") from e

    def dags(self) -> Iterator[DagInfo]:
        size = self.settings.page_size

        def fetch(offset: int) -> tuple[list[Any], int | None]:
            return self._page("dags", "dags", {"limit": size, "offset": offset,
                                               "only_active": "true", "order_by": "dag_id"})

        for dag in offset_pages(fetch, size):
            yield self._read(_dag, dag, "a DAG")

    def runs(self, dag_id: str, updated_since: datetime | None) -> Iterator[RunInfo]:
        size = self.settings.page_size
        path = f"dags/{quote(dag_id, safe='~')}/dagRuns"

        def fetch(offset: int) -> tuple[list[Any], int | None]:
            params: dict[str, Any] = {"limit": size, "offset": offset, "order_by": "id"}
            if updated_since is not None:
                params["updated_at_gte"] = updated_since.isoformat()
            return self._page(path, "dag_runs", params)

        for run in offset_pages(fetch, size):
            yield self._read(_run, run, "a DAG run")

    def run_ids(self, dag_id: str) -> Iterator[str]:
        size = self.settings.page_size
        path = f"dags/{quote(dag_id, safe='')}/dagRuns"

        def fetch(offset: int) -> tuple[list[Any], int | None]:
            return self._page(path, "dag_runs", {"limit": size, "offset": offset,
                                                 "order_by": "id", "fields": "dag_run_id"})

        for run in offset_pages(fetch, size):
            yield self._read(lambda r: str(r["dag_run_id"]), run, "a DAG run")

    def tasks(self, dag_id: str, run_ids: Sequence[str]) -> Iterator[TaskInfo]:
        size = self.settings.page_size
        wanted = set(run_ids)
        seen: set[tuple[str, str, int]] = set()

        def fetch(offset: int) -> tuple[list[Any], int | None]:
            body = self.rest.request_json(
                "POST", "dags/~/dagRuns/~/taskInstances/list",
                json_body={"dag_ids": [dag_id], "dag_run_ids": list(run_ids),
                           "page_offset": offset, "page_limit": size},
            )
            return self._items(body, "task_instances", "taskInstances/list")

        for ti in offset_pages(fetch, size):
            task = self._read(_task, ti, "a task instance")
            key = (task.run_id, task.task_id, task.map_index)
            # Before 2.7.1 Airflow ignored dag_run_ids and listed the DAG's every run.
            if task.run_id in wanted and key not in seen:
                seen.add(key)
                yield task

    def run_url(self, dag_id: str, run_id: str) -> str:
        return f"{self.base}/dags/{quote(dag_id, safe='')}/grid?dag_run_id={quote(run_id, safe='')}"


def _dag(dag: Mapping[str, Any]) -> DagInfo:
    """A DAG of /api/v1 (2.10.5 reference, schema DAG)."""
    return DagInfo(str(dag["dag_id"]), bool(dag.get("is_paused")))


def _run(run: Mapping[str, Any]) -> RunInfo:
    """A DAGRun of /api/v1 (2.10.5 reference, schema DAGRun)."""
    return RunInfo(
        dag_id=str(run["dag_id"]),
        run_id=str(run["dag_run_id"]),
        state=str(run.get("state") or "none"),
        run_type=str(run.get("run_type") or ""),
        start=when(run.get("start_date")),
        end=when(run.get("end_date")),
        queued_at=None,
        run_after=when(run.get("logical_date") or run.get("execution_date")),
        duration=None,  # Airflow 2 reports none; readers use end - start
        triggered_by=None,  # Airflow 2 has only external_trigger (true/false)
    )


def _task(ti: Mapping[str, Any]) -> TaskInfo:
    """A TaskInstance of /api/v1 (2.10.5 reference, schema TaskInstance)."""
    duration = ti.get("duration")
    try_number = ti.get("try_number")
    return TaskInfo(
        dag_id=str(ti["dag_id"]),
        run_id=str(ti["dag_run_id"]),
        task_id=str(ti["task_id"]),
        map_index=int(ti["map_index"]) if ti.get("map_index") is not None else -1,
        state=ti.get("state"),
        start=when(ti.get("start_date")),
        end=when(ti.get("end_date")),
        duration=float(duration) if isinstance(duration, int | float) else None,
        try_number=try_number if isinstance(try_number, int) else None,
        operator=ti.get("operator"),
    )
