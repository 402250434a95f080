"""Airflow 3: the stable REST API under /api/v2, read through the official
`apache-airflow-client` (its generated models check every answer against Airflow's OpenAPI
document: https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html).

The client is set up so that dspo's one retry policy and the run's deadline hold:

- its urllib3 retries are off (`Retry(0)`), every call goes through `Collector.call` with
  `_request_timeout` = (connect_timeout, read_timeout) capped at what remains of the deadline;
- its urllib3 pool is wrapped so each answer is read in chunks with the deadline checked
  between them: a read timeout alone never fires on a server that drips a byte a second;
- answers that do not fit the client's models (malformed JSON, a shape or state word this
  client version does not know) fail clearly, naming the call, instead of a raw traceback.

Sign-in: a ready `token`, or username and password exchanged for a JWT (`JwtSession`),
renewed before it expires and once more when a call is answered 401.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import urllib3
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.api_client import ApiClient
from airflow_client.client.configuration import Configuration
from airflow_client.client.models.dag_run_collection_response import DAGRunCollectionResponse
from airflow_client.client.models.dag_run_response import DAGRunResponse
from airflow_client.client.models.task_instance_response import TaskInstanceResponse
from airflow_client.client.models.task_instances_batch_body import TaskInstancesBatchBody

from collectors.airflow_common import (
    DagInfo,
    JwtSession,
    RunInfo,
    TaskInfo,
    offset_pages,
    when,
)
from collectors.base import Collector, FatalSourceError
from collectors.rest import MAX_BODY
from config.sources.airflow import AirflowSource

log = logging.getLogger(__name__)

T = TypeVar("T")
CHUNK = 64 * 1024
Timeout = tuple[float, float]


class Airflow3Api:
    major = "3"

    def __init__(self, collector: Collector[AirflowSource]) -> None:
        settings = collector.settings
        self.collector = collector
        self.settings = settings
        self.base = settings.url.rstrip("/")
        self._jwt = JwtSession(collector) if settings.username else None
        token = settings.token.get_secret_value() if settings.token is not None else None
        config = Configuration(
            host=self.base, access_token=token,
            retries=urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=3),
        )  # fmt: skip
        self.client = ApiClient(config)
        rest = self.client.rest_client
        rest.pool_manager = DeadlineReads(rest.pool_manager, collector)  # type: ignore[assignment]
        self.dags_api = DAGApi(self.client)
        self.runs_api = DagRunApi(self.client)
        self.tasks_api = TaskInstanceApi(self.client)

    def close(self) -> None:
        self.client.rest_client.pool_manager.clear()

    # ------------------------------------------------------------ calls

    def _timeout(self) -> Timeout:
        deadline, s = self.collector.deadline, self.settings
        return (deadline.cap(s.connect_timeout.total_seconds()),
                deadline.cap(s.read_timeout.total_seconds()))

    def _once(self, fn: Callable[[Timeout], T], doing: str) -> T:
        if self._jwt is not None:
            self.client.configuration.access_token = self._jwt.token()
        try:
            return fn(self._timeout())
        except ValueError as e:  # bad JSON, or pydantic refusing the answer's shape
            raise self.collector.fail(
                f"{doing}: the answer is not what apache-airflow-client expects "
                f"({_first_line(e)}); is url an Airflow 3 (version: 3)?"
            ) from e

    def call(self, fn: Callable[[Timeout], T], doing: str) -> T:
        """One API call with retries and the deadline; a 401 with a password renews the JWT
        and tries once more (the token may have been revoked or the server restarted)."""
        try:
            return self.collector.call(lambda: self._once(fn, doing), doing)
        except FatalSourceError as e:
            if self._jwt is None or getattr(e.__cause__, "status", None) != 401:
                raise
        log.info("source %s: token refused; signing in again", self.settings.name)
        self._jwt.renew()
        return self.collector.call(lambda: self._once(fn, doing), doing)

    # ------------------------------------------------------------ reads

    def dags(self) -> Iterator[DagInfo]:
        size = self.settings.page_size

        def fetch(offset: int) -> tuple[list[Any], int | None]:
            page = self.call(lambda t: self.dags_api.get_dags(
                limit=size, offset=offset, exclude_stale=True, order_by=["dag_id"],
                _request_timeout=t), "GET /api/v2/dags")
            return page.dags, page.total_entries

        for dag in offset_pages(fetch, size):
            yield DagInfo(dag.dag_id, dag.is_paused)

    def _run_pages(self, dag_id: str, updated_since: datetime | None) -> Iterator[DAGRunResponse]:
        """Keyset (cursor) pages ordered by id: runs created while paging cannot shift
        a page boundary the way offsets would.

        An Airflow 3 older than cursor paging ignores `cursor` and answers the first offset
        page (no `total_entries_limit`, no `next_cursor`): paging then goes on by offset,
        so such a server is read whole instead of one page of it.
        """
        doing = f"GET /api/v2/dags/{quote(dag_id, safe='~')}/dagRuns"
        page = self.call(partial(self._runs_page, dag_id, updated_since, "", None), doing)
        if page.next_cursor is None and page.total_entries_limit is None:
            yield from page.dag_runs

            def fetch(offset: int) -> tuple[list[Any], int | None]:
                more = self.call(partial(self._runs_page, dag_id, updated_since, None, offset),
                                 doing)
                return more.dag_runs, more.total_entries

            if page.total_entries is not None and len(page.dag_runs) < page.total_entries:
                yield from offset_pages(fetch, self.settings.page_size,
                                        start=len(page.dag_runs))
            return
        while True:
            yield from page.dag_runs
            if not page.next_cursor or not page.dag_runs:
                return
            page = self.call(partial(self._runs_page, dag_id, updated_since,
                                     page.next_cursor, None), doing)

    def _runs_page(self, dag_id: str, updated_since: datetime | None, cursor: str | None,
                   offset: int | None, timeout: Timeout) -> DAGRunCollectionResponse:
        return self.runs_api.get_dag_runs(
            dag_id, cursor=cursor, offset=offset, limit=self.settings.page_size,
            order_by=["id"], updated_at_gte=updated_since, _request_timeout=timeout)

    def runs(self, dag_id: str, updated_since: datetime | None) -> Iterator[RunInfo]:
        for run in self._run_pages(dag_id, updated_since):
            yield _run(run)

    def run_ids(self, dag_id: str) -> Iterator[str]:
        for run in self._run_pages(dag_id, None):
            yield run.dag_run_id

    def tasks(self, dag_id: str, run_ids: Sequence[str]) -> Iterator[TaskInfo]:
        size = self.settings.page_size
        doing = "POST /api/v2/dags/~/dagRuns/~/taskInstances/list"

        def fetch(offset: int) -> tuple[list[Any], int | None]:
            body = TaskInstancesBatchBody(dag_ids=[dag_id], dag_run_ids=list(run_ids),
                                          page_limit=size, page_offset=offset, order_by="id")
            page = self.call(lambda t: self.tasks_api.get_task_instances_batch(
                "~", "~", body, _request_timeout=t), doing)
            return page.task_instances, page.total_entries

        for ti in offset_pages(fetch, size):
            yield _task(ti)

    def run_url(self, dag_id: str, run_id: str) -> str:
        return f"{self.base}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def _run(run: DAGRunResponse) -> RunInfo:
    return RunInfo(
        dag_id=run.dag_id,
        run_id=run.dag_run_id,
        state=run.state.value,
        run_type=run.run_type.value,
        start=when(run.start_date),
        end=when(run.end_date),
        queued_at=when(run.queued_at),
        run_after=when(run.run_after),
        duration=float(run.duration) if run.duration is not None else None,
        triggered_by=run.triggered_by.value if run.triggered_by is not None else None,
    )


def _task(ti: TaskInstanceResponse) -> TaskInfo:
    return TaskInfo(
        dag_id=ti.dag_id,
        run_id=ti.dag_run_id,
        task_id=ti.task_id,
        map_index=ti.map_index,
        state=ti.state.value if ti.state is not None else None,
        start=when(ti.start_date),
        end=when(ti.end_date),
        duration=float(ti.duration) if ti.duration is not None else None,
        try_number=ti.try_number,
        operator=ti.operator_name or ti.operator,
    )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:200]


class DeadlineReads:
    """The Airflow client's urllib3 pool, with each answer read in chunks and the run's
    deadline checked between them; the client gets the answer fully read, as it expects.

    Everything but `request` is the wrapped pool's own (clear, connection settings).
    """

    def __init__(self, pool: urllib3.PoolManager, collector: Collector[AirflowSource]) -> None:
        self._pool = pool
        self._collector = collector

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    def request(self, method: str, url: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
        kwargs["preload_content"] = False
        doing = f"reading {method} {urlsplit(url).path}"
        response = self._pool.request(method, url, **kwargs)
        body = bytearray()
        try:
            while True:
                self._collector.deadline.check(doing)
                chunk = response.read1(CHUNK)
                if not chunk:
                    break
                body += chunk
                if len(body) > MAX_BODY:
                    raise self._collector.fail(f"{doing}: answer larger than {MAX_BODY} bytes")
        except BaseException:
            response.close()
            raise
        finally:
            response.release_conn()
        return urllib3.HTTPResponse(
            body=bytes(body), headers=response.headers, status=response.status,
            reason=response.reason, preload_content=True, decode_content=False,
        )
