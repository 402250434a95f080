"""What the Airflow 2 and Airflow 3 readers share: the shapes they return, paging, the
version probe and Airflow 3's JWT sign-in.

The collector (`collectors/airflow.py`) talks to one `AirflowApi`, whichever Airflow it
is: `collectors/airflow3.py` reads `/api/v2` through the official `apache-airflow-client`,
`collectors/airflow2.py` reads `/api/v1` with `collectors.rest.RestClient` (the 3.x client
cannot parse Airflow 2's answers). Both turn answers into the small frozen dataclasses
below, so records are built in one place.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from collectors.base import Collector, FatalSourceError
from collectors.rest import RestClient
from config.sources.airflow import AirflowSource
from store.records import utc

log = logging.getLogger(__name__)

T = TypeVar("T")

TOKEN_MARGIN_SECONDS = 60.0  # a JWT this close to expiry is renewed before the next call


@dataclass(frozen=True)
class DagInfo:
    dag_id: str
    is_paused: bool


@dataclass(frozen=True)
class RunInfo:
    """One DAG run as either API reports it; `duration` only Airflow 3 reports."""

    dag_id: str
    run_id: str
    state: str
    run_type: str
    start: datetime | None
    end: datetime | None
    queued_at: datetime | None
    run_after: datetime | None  # Airflow 3's run_after; Airflow 2's logical date
    duration: float | None
    triggered_by: str | None


@dataclass(frozen=True)
class TaskInfo:
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    state: str | None
    start: datetime | None
    end: datetime | None
    duration: float | None
    try_number: int | None
    operator: str | None


class AirflowApi(Protocol):
    """What the collector asks of an Airflow, whichever major version answers."""

    major: str

    def dags(self) -> Iterator[DagInfo]:
        """Every active DAG (not stale/removed), paused or not."""
        ...

    def runs(self, dag_id: str, updated_since: datetime | None) -> Iterator[RunInfo]:
        """Runs of `dag_id` (`~` for every DAG) updated at or after `updated_since`."""
        ...

    def run_ids(self, dag_id: str) -> Iterator[str]:
        """Every run id of one DAG, to tell which stored runs were deleted upstream."""
        ...

    def tasks(self, dag_id: str, run_ids: Sequence[str]) -> Iterator[TaskInfo]:
        """The task instances of these runs of one DAG."""
        ...

    def run_url(self, dag_id: str, run_id: str) -> str:
        """The run's page in Airflow's web UI."""
        ...

    def close(self) -> None: ...


def when(value: Any) -> datetime | None:
    """An API time (ISO text or a datetime) as aware UTC; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return utc(value)
    return utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def offset_pages(
    fetch: Callable[[int], tuple[list[T], int | None]], limit: int, start: int = 0
) -> Iterator[T]:
    """Items of an offset-paged list; `fetch(offset)` returns a page and the total count.

    Airflow caps `limit` at its own maximum_page_limit, so a short page does not mean the
    end: the total does (and an empty page, so a total that grows cannot loop forever).
    """
    offset = start
    while True:
        items, total = fetch(offset)
        yield from items
        offset += len(items)
        if not items or (total is None and len(items) < limit):
            return
        if total is not None and offset >= total:
            return


# ------------------------------------------------------------------ version detection


def detect_major(collector: Collector[AirflowSource]) -> str:
    """'3' or '2', from which version endpoint the server answers (without credentials).

    Airflow 3 removed /api/v1 (it answers 404 there) and Airflow 2 has no /api/v2; an
    answer that asks for credentials (401/403) still shows the API exists.
    """
    settings = collector.settings
    with RestClient(collector, settings.url) as rest:
        for path, major in (("api/v2/version", "3"), ("api/v1/version", "2")):
            if _answers(rest, path):
                log.info("source %s: %s speaks Airflow %s's API", settings.name,
                         settings.url, major)
                return major
    raise collector.fail(
        "neither /api/v2/version (Airflow 3) nor /api/v1/version (Airflow 2) answers: "
        "check that url is Airflow's base URL (the address of its web UI)"
    )


def _answers(rest: RestClient, path: str) -> bool:
    try:
        rest.get_json(path)
    except FatalSourceError as e:
        status = getattr(e.__cause__, "status_code", None)
        if status in (401, 403):
            return True
        if status == 404:
            return False
        raise
    return True


# ------------------------------------------------------------------ Airflow 3 sign-in


class JwtSession:
    """Airflow 3's bearer token for username and password: `POST /auth/token` (201), renewed
    shortly before its `exp` claim and, once, when a call is answered 401."""

    def __init__(self, collector: Collector[AirflowSource]) -> None:
        self.collector = collector
        self._token: str | None = None
        self._expires: float | None = None

    def token(self) -> str:
        if self._token is None or (
            self._expires is not None and self._expires - time.time() < TOKEN_MARGIN_SECONDS
        ):
            return self.renew()
        return self._token

    def renew(self) -> str:
        settings = self.collector.settings
        password = settings.password.get_secret_value() if settings.password else ""
        with RestClient(self.collector, settings.url) as rest:
            answer = rest.request_json(
                "POST", "auth/token",
                json_body={"username": settings.username, "password": password},
            )
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise self.collector.fail(
                "POST /auth/token answered without an access_token: is this Airflow 3?"
            )
        self._token, self._expires = token, jwt_expiry(token)
        return token


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim (epoch seconds) of a JWT, read without checking its signature:
    only to know when to ask for a new one. None when the token is not a readable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) else None
