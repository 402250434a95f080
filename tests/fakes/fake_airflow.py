"""A fake Apache Airflow REST API holding DAGs, DAG runs and task instances in memory, as
Airflow 3 (`/api/v2`, JWT from `POST /auth/token`) or Airflow 2 (`/api/v1`, basic auth).

Shapes: Airflow 3.3 https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html
(DAGResponse, DAGRunResponse, TaskInstanceResponse and their collections; the answers below
copy what the real Airflow 3.3.2 of tests/airflow_it sent, every field the official client
requires included) and Airflow 2.10.5
https://airflow.apache.org/docs/apache-airflow/2.10.5/stable-rest-api-ref.html (DAG, DAGRun,
TaskInstance, ListTaskInstanceForm). Each handler cites its operation.

Modelled where the collector depends on it: lists cap `limit` at maximum_page_limit (100),
order runs by id, filter on `updated_at_gte` (which no answer carries), page runs by cursor
in Airflow 3 (`next_cursor`) and by offset in Airflow 2 (`total_entries`); task-instance
batches filter on dag_ids and dag_run_ids; `~` means every DAG; JWTs carry an `exp` claim
and can be revoked; stale DAGs are left out of the DAG list.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from fake_http import FakeServer, Recorded, Reply

MAX_PAGE_LIMIT = 100  # Airflow's [api] maximum_page_limit default
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
OPEN_PATHS = {"/auth/token", "/api/v2/version", "/api/v2/monitor/health", "/api/v1/version",
              "/api/v1/health"}


def iso(t: datetime | None) -> str | None:
    return t.isoformat().replace("+00:00", "Z") if t else None


@dataclass
class FakeTask:
    task_id: str
    state: str | None
    start: datetime | None = None
    end: datetime | None = None
    try_number: int = 1
    map_index: int = -1
    operator: str = "BashOperator"

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()


@dataclass
class FakeRun:
    id: int
    dag_id: str
    run_id: str
    state: str
    run_type: str
    start: datetime | None
    end: datetime | None
    queued_at: datetime | None
    updated_at: datetime
    logical: datetime
    triggered_by: str | None = "timetable"
    tasks: list[FakeTask] = field(default_factory=list)

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()


class FakeAirflow(FakeServer):
    """`FakeAirflow(major="3")` speaks /api/v2, `major="2"` /api/v1; `username`/`password`
    sign in, `token` is a ready bearer token accepted as well."""

    def __init__(self, *, major: str = "3", username: str = "admin", password: str = "admin",
                 token: str | None = None, token_lifetime: float = 3600.0) -> None:
        super().__init__()
        self.major = major
        self.username, self.password, self.static_token = username, password, token
        self.token_lifetime = token_lifetime
        self.issued: set[str] = set()
        self.dags: dict[str, dict[str, Any]] = {}
        self.runs: dict[tuple[str, str], FakeRun] = {}
        self._ids = itertools.count(1)
        self._revoke_after: str | None = None
        self.cursor_paging = True
        self.route("POST", "/auth/token", self.create_token)
        if major == "3":
            self.route("GET", "/api/v2/version", lambda r, m: Reply(200, {
                "version": "3.3.2", "git_version": None}))
            self.route("GET", "/api/v2/monitor/health", lambda r, m: Reply(200, {
                "metadatabase": {"status": "healthy"}}))
            self.route("GET", "/api/v2/dags", self.v2_dags)
            self.route("GET", r"/api/v2/dags/(?P<dag>[^/]+)/dagRuns", self.v2_runs)
            self.route("POST", "/api/v2/dags/~/dagRuns/~/taskInstances/list", self.v2_tasks)
        else:
            self.route("GET", "/api/v1/version", lambda r, m: Reply(200, {
                "version": "2.10.5", "git_version": None}))
            self.route("GET", "/api/v1/dags", self.v1_dags)
            self.route("GET", r"/api/v1/dags/(?P<dag>[^/]+)/dagRuns", self.v1_runs)
            self.route("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", self.v1_tasks)

    # ------------------------------------------------------------ the world

    def add_dag(self, dag_id: str, *, paused: bool = False, stale: bool = False) -> None:
        self.dags[dag_id] = {"dag_id": dag_id, "is_paused": paused, "is_stale": stale}

    def add_run(self, dag_id: str, *, state: str = "success", run_type: str = "scheduled",
                start: datetime = T0, seconds: float = 60.0,
                tasks: list[tuple[str, str]] | None = None, run_id: str | None = None,
                updated_at: datetime | None = None) -> FakeRun:
        """A run whose tasks each take an equal share of its time; an upstream_failed task
        gets start = end = the run's end and try number 0, as Airflow 3 stamps it."""
        if dag_id not in self.dags:
            self.add_dag(dag_id)
        run_id = run_id or f"{run_type}__{start.isoformat()}"
        finished = state in ("success", "failed")
        end = start + timedelta(seconds=seconds) if finished else None
        run = FakeRun(next(self._ids), dag_id, run_id, state, run_type,
                      start if state != "queued" else None, end, start - timedelta(seconds=1),
                      updated_at or datetime.now(UTC), start)
        pairs = tasks if tasks is not None else [("extract", "success"), ("train", "success")]
        share = seconds / max(1, len(pairs))
        for i, (task_id, task_state) in enumerate(pairs):
            if task_state == "upstream_failed":
                stamp = end or start
                run.tasks.append(FakeTask(task_id, task_state, stamp, stamp, try_number=0))
            else:
                t0 = start + timedelta(seconds=i * share)
                run.tasks.append(FakeTask(task_id, task_state, t0, t0 + timedelta(seconds=share)))
        self.runs[(dag_id, run_id)] = run
        return run

    def delete_run(self, dag_id: str, run_id: str) -> None:
        del self.runs[(dag_id, run_id)]

    def revoke_tokens(self) -> None:
        """Every JWT issued so far is refused from now on (a restart with a new secret)."""
        self.issued.clear()

    def revoke_tokens_after(self, path: str) -> None:
        """Revoke every token once, right after the first answer to `path`."""
        self._revoke_after = path

    def handle(self, request: Recorded) -> Reply:
        reply = super().handle(request)
        if self._revoke_after is not None and request.path == self._revoke_after:
            self._revoke_after = None
            self.revoke_tokens()
        return reply

    # ------------------------------------------------------------ auth

    def authorized(self, request: Recorded) -> bool:
        if request.path in OPEN_PATHS:
            return True
        auth = request.headers.get("authorization", "")
        if self.static_token and auth == f"Bearer {self.static_token}":
            return True
        if self.major == "3":
            token = auth.removeprefix("Bearer ")
            return token in self.issued and _exp(token) > time.time()
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return auth == f"Basic {expected}"

    def unauthorized(self) -> Reply:
        if self.major == "3":  # FastAPI's HTTPException body
            return Reply(401, {"detail": "Not authenticated"})
        return Reply(401, {"detail": None, "status": 401, "title": "Unauthorized",
                           "type": "https://airflow.apache.org/docs/apache-airflow/2.10.5/"
                                   "stable-rest-api-ref.html#section/Errors/Unauthenticated"})

    def create_token(self, request: Recorded, _: Any) -> Reply:
        """Airflow 3 simple auth manager: POST /auth/token {username, password} -> 201
        {"access_token": JWT} (https://airflow.apache.org/docs/apache-airflow/stable/
        security/api.html)."""
        body = request.body if isinstance(request.body, dict) else {}
        if (body.get("username"), body.get("password")) != (self.username, self.password):
            return Reply(401, {"detail": "Invalid credentials"})
        token = _jwt(self.username, time.time() + self.token_lifetime)
        self.issued.add(token)
        return Reply(201, {"access_token": token})

    # ------------------------------------------------------------ Airflow 3: /api/v2

    def v2_dags(self, request: Recorded, _: Any) -> Reply:
        """GET /api/v2/dags (get_dags): limit, offset, exclude_stale -> DAGCollectionResponse."""
        limit, offset = _limit(request), int(_q(request, "offset") or 0)
        dags = [d for d in sorted(self.dags.values(), key=lambda d: d["dag_id"])
                if not d["is_stale"] or _q(request, "exclude_stale") == "false"]
        return Reply(200, {"dags": [_v2_dag(d) for d in dags[offset:offset + limit]],
                           "total_entries": len(dags)})

    def v2_runs(self, request: Recorded, match: Any) -> Reply:
        """GET /api/v2/dags/{dag_id}/dagRuns (get_dag_runs): cursor pages ordered by id,
        updated_at_gte -> DAGRunCollectionResponse with next_cursor."""
        runs = self._runs(unquote(match["dag"]), _q(request, "updated_at_gte"))
        limit = _limit(request)
        if not self.cursor_paging:  # an Airflow 3 before cursor paging: offset pages only
            offset = int(_q(request, "offset") or 0)
            return Reply(200, {"dag_runs": [_v2_run(r) for r in runs[offset:offset + limit]],
                               "total_entries": len(runs)})
        cursor = _q(request, "cursor")
        after = int(base64.b64decode(cursor)) if cursor else 0
        page = [r for r in runs if r.id > after][:limit]
        more = bool(page) and any(r.id > page[-1].id for r in runs)
        return Reply(200, {
            "dag_runs": [_v2_run(r) for r in page],
            "total_entries": len(runs), "total_entries_limit": 50000,
            "next_cursor": base64.b64encode(str(page[-1].id).encode()).decode() if more else None,
            "previous_cursor": None,
        })

    def v2_tasks(self, request: Recorded, _: Any) -> Reply:
        """POST /api/v2/dags/~/dagRuns/~/taskInstances/list (get_task_instances_batch):
        TaskInstancesBatchBody -> TaskInstanceCollectionResponse (offset pages)."""
        tis, offset, limit = self._batch(request)
        return Reply(200, {"task_instances": [_v2_ti(r, t) for r, t in tis[offset:offset + limit]],
                           "total_entries": len(tis), "next_cursor": None,
                           "previous_cursor": None, "total_entries_limit": None})

    # ------------------------------------------------------------ Airflow 2: /api/v1

    def v1_dags(self, request: Recorded, _: Any) -> Reply:
        """GET /api/v1/dags (get_dags): limit, offset, only_active -> DAGCollection."""
        limit, offset = _limit(request), int(_q(request, "offset") or 0)
        dags = [d for d in sorted(self.dags.values(), key=lambda d: d["dag_id"])
                if not d["is_stale"]]
        return Reply(200, {"dags": [_v1_dag(d) for d in dags[offset:offset + limit]],
                           "total_entries": len(dags)})

    def v1_runs(self, request: Recorded, match: Any) -> Reply:
        """GET /api/v1/dags/{dag_id}/dagRuns (get_dag_runs): limit, offset, order_by,
        updated_at_gte, fields -> DAGRunCollection."""
        runs = self._runs(unquote(match["dag"]), _q(request, "updated_at_gte"))
        limit, offset = _limit(request), int(_q(request, "offset") or 0)
        fields = request.query.get("fields")
        items = [_v1_run(r) for r in runs[offset:offset + limit]]
        if fields:
            wanted = {f for value in fields for f in value.split(",")}
            items = [{k: v for k, v in item.items() if k in wanted} for item in items]
        return Reply(200, {"dag_runs": items, "total_entries": len(runs)})

    def v1_tasks(self, request: Recorded, _: Any) -> Reply:
        """POST /api/v1/dags/~/dagRuns/~/taskInstances/list (get_task_instances_batch):
        ListTaskInstanceForm (page_offset, page_limit, dag_ids, dag_run_ids) ->
        TaskInstanceCollection."""
        tis, offset, limit = self._batch(request)
        return Reply(200, {"task_instances": [_v1_ti(r, t) for r, t in tis[offset:offset + limit]],
                           "total_entries": len(tis)})

    # ------------------------------------------------------------ shared

    def _runs(self, dag_id: str, updated_at_gte: str | None) -> list[FakeRun]:
        since = datetime.fromisoformat(updated_at_gte.replace("Z", "+00:00")) \
            if updated_at_gte else None
        return sorted(
            (r for r in self.runs.values()
             if (dag_id == "~" or r.dag_id == dag_id)
             and (since is None or r.updated_at >= since)),
            key=lambda r: r.id,
        )

    def _batch(self, request: Recorded) -> tuple[list[tuple[FakeRun, FakeTask]], int, int]:
        body = request.body if isinstance(request.body, dict) else {}
        dag_ids, run_ids = body.get("dag_ids"), body.get("dag_run_ids")
        tis = [(r, t) for r in sorted(self.runs.values(), key=lambda r: r.id)
               if (not dag_ids or r.dag_id in dag_ids) and (not run_ids or r.run_id in run_ids)
               for t in r.tasks]
        limit = min(int(body.get("page_limit") or 100), MAX_PAGE_LIMIT)
        return tis, int(body.get("page_offset") or 0), limit


def _q(request: Recorded, name: str) -> str | None:
    values = request.query.get(name)
    return values[0] if values else None


def _limit(request: Recorded) -> int:
    return min(int(_q(request, "limit") or 50), MAX_PAGE_LIMIT)


def _jwt(subject: str, exp: float) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return ".".join([part({"alg": "HS512", "typ": "JWT"}),
                     part({"sub": subject, "exp": int(exp), "jti": uuid.uuid4().hex}),
                     "c2lnbmF0dXJl"])


def _exp(token: str) -> float:
    try:
        payload = token.split(".")[1]
        return float(json.loads(base64.urlsafe_b64decode(payload + "==="))["exp"])
    except (IndexError, ValueError, KeyError):
        return 0.0


def _v2_dag(d: dict[str, Any]) -> dict[str, Any]:
    """DAGResponse, as Airflow 3.3.2 answered for tests/airflow_it/dags/dspo_ok.py."""
    dag_id = d["dag_id"]
    return {
        "dag_id": dag_id, "dag_display_name": dag_id, "is_paused": d["is_paused"],
        "is_stale": d["is_stale"], "last_parsed_time": iso(T0), "last_parse_duration": 0.1,
        "last_expired": None, "bundle_name": "dags-folder", "bundle_version": None,
        "relative_fileloc": f"{dag_id}.py", "fileloc": f"/opt/airflow/dags/{dag_id}.py",
        "description": None, "timetable_summary": "@daily",
        "timetable_description": "At 00:00", "timetable_partitioned": False,
        "timetable_periodic": True, "tags": [], "max_active_tasks": 16,
        "max_active_runs": 16, "max_consecutive_failed_dag_runs": 0,
        "has_task_concurrency_limits": False, "has_import_errors": False,
        "next_dagrun_logical_date": None, "next_dagrun_data_interval_start": None,
        "next_dagrun_data_interval_end": None, "next_dagrun_run_after": None,
        "allowed_run_types": None, "owners": ["airflow"], "is_backfillable": True,
        "file_token": "eyJidW5kbGVfbmFtZSI6ImRhZ3MtZm9sZGVyIn0.c2ln",
    }


def _v2_run(r: FakeRun) -> dict[str, Any]:
    """DAGRunResponse (no updated_at field, although the list filters on it)."""
    return {
        "dag_run_id": r.run_id, "dag_id": r.dag_id, "logical_date": iso(r.logical),
        "queued_at": iso(r.queued_at), "start_date": iso(r.start), "end_date": iso(r.end),
        "duration": r.duration, "data_interval_start": None, "data_interval_end": None,
        "run_after": iso(r.queued_at), "last_scheduling_decision": iso(r.end),
        "run_type": r.run_type, "state": r.state, "triggered_by": r.triggered_by,
        "triggering_user_name": None, "conf": {}, "note": None,
        "dag_versions": [{
            "id": "01a229cd-4ef9-7171-b257-f3ee63dac443", "version_number": 1,
            "dag_id": r.dag_id, "bundle_name": "dags-folder", "bundle_version": None,
            "created_at": iso(T0), "dag_display_name": r.dag_id, "bundle_url": None,
        }],
        "bundle_version": None, "dag_display_name": r.dag_id, "partition_key": None,
        "partition_date": None,
    }


def _v2_ti(r: FakeRun, t: FakeTask) -> dict[str, Any]:
    """TaskInstanceResponse."""
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{r.dag_id}/{r.run_id}/{t.task_id}")),
        "task_id": t.task_id, "dag_id": r.dag_id, "dag_run_id": r.run_id,
        "map_index": t.map_index, "logical_date": iso(r.logical), "run_after": iso(r.queued_at),
        "start_date": iso(t.start), "end_date": iso(t.end), "duration": t.duration,
        "state": t.state, "try_number": t.try_number, "max_tries": 0,
        "task_display_name": t.task_id, "dag_display_name": r.dag_id, "hostname": "worker-1",
        "unixname": "airflow", "pool": "default_pool", "pool_slots": 1, "queue": "default",
        "priority_weight": 1, "operator": t.operator, "operator_name": t.operator,
        "queued_when": iso(t.start), "scheduled_when": iso(t.start), "pid": 4242,
        "executor": None, "executor_config": "{}", "note": None, "rendered_map_index": None,
        "rendered_fields": {}, "trigger": None, "triggerer_job": None, "dag_version": None,
    }


def _v1_dag(d: dict[str, Any]) -> dict[str, Any]:
    """DAG (2.10.5)."""
    return {"dag_id": d["dag_id"], "dag_display_name": d["dag_id"], "root_dag_id": None,
            "is_paused": d["is_paused"], "is_active": True, "is_subdag": False,
            "last_parsed_time": iso(T0), "fileloc": f"/opt/airflow/dags/{d['dag_id']}.py",
            "file_token": "Ii9vcHQvYWlyZmxvdy9kYWdzIg.c2ln", "owners": ["airflow"],
            "description": None, "schedule_interval": {"__type": "CronExpression",
                                                       "value": "0 0 * * *"},
            "tags": [], "has_import_errors": False, "next_dagrun": None}


def _v1_run(r: FakeRun) -> dict[str, Any]:
    """DAGRun (2.10.5): no duration, no triggered_by."""
    run_type = "dataset_triggered" if r.run_type == "asset_triggered" else r.run_type
    return {"dag_run_id": r.run_id, "dag_id": r.dag_id, "logical_date": iso(r.logical),
            "execution_date": iso(r.logical), "start_date": iso(r.start), "end_date": iso(r.end),
            "data_interval_start": iso(r.logical), "data_interval_end": iso(r.logical),
            "last_scheduling_decision": iso(r.end), "run_type": run_type, "state": r.state,
            "external_trigger": r.run_type == "manual", "conf": {}, "note": None}


def _v1_ti(r: FakeRun, t: FakeTask) -> dict[str, Any]:
    """TaskInstance (2.10.5)."""
    return {"task_id": t.task_id, "task_display_name": t.task_id, "dag_id": r.dag_id,
            "dag_run_id": r.run_id, "execution_date": iso(r.logical),
            "start_date": iso(t.start), "end_date": iso(t.end), "duration": t.duration,
            "state": t.state, "try_number": t.try_number, "map_index": t.map_index,
            "max_tries": 0, "hostname": "worker-1", "unixname": "airflow",
            "pool": "default_pool", "pool_slots": 1, "queue": "default",
            "priority_weight": 1, "operator": t.operator, "queued_when": iso(t.start),
            "pid": 4242, "executor": None, "executor_config": "{}", "sla_miss": None,
            "rendered_map_index": None, "rendered_fields": {}, "trigger": None,
            "triggerer_job": None, "note": None}
