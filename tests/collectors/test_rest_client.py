"""The shared HTTP path of REST collectors: retries, Retry-After, deadlines, clear failures.

A tiny collector reads pages from a real HTTP server on 127.0.0.1 (`FakeServer`) through
`collectors.rest.RestClient`, the same code the REST collectors use, so each case runs
httpx's whole path: sockets, streaming, status codes, headers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Literal

import pytest
from fake_http import FakeServer, Reply, free_port
from pydantic import SecretStr

from collectors.base import Collector, FatalSourceError, RetriableSourceError, SourceError
from collectors.rest import RestClient
from collectors.retry import failure_of, retry_after
from config.sources import SourceBase
from store.records import Point, Record, SeriesKind

TOKEN = "s3cr3t-t0ken-value"
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


class PagesSource(SourceBase):
    collector: ClassVar[str | None] = f"{__name__}:PagesCollector"
    kind: Literal["pages"] = "pages"
    url: str
    token: SecretStr = SecretStr(TOKEN)


class PagesCollector(Collector[PagesSource]):
    """Follows `next` links of {"values": [...], "next": path|null} pages."""

    kind = "pages"

    @property
    def where(self) -> str:
        return self.settings.url

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        headers = {"Authorization": f"Bearer {self.settings.token.get_secret_value()}"}
        with RestClient(self, self.settings.url, headers=headers) as client:
            path: str | None = "/values"
            while path:
                page = client.get_json(path)
                for value in page["values"]:
                    yield Point(self.product, SeriesKind.USAGE, "v", until, float(value))
                path = page["next"]


def pages(fake: FakeServer, count: int) -> None:
    def page(n: int):  # type: ignore[no-untyped-def]
        def handler(_request, _match):  # type: ignore[no-untyped-def]
            nxt = f"/values/{n + 1}" if n + 1 < count else None
            return Reply(200, {"values": [n], "next": nxt})
        return handler

    fake.route("GET", "/values", page(0))
    for n in range(1, count):
        fake.route("GET", f"/values/{n}", page(n))


def collect(url: str, **limits: object) -> list[Record]:
    settings = PagesSource(name="pages", product="p", url=url, **limits)  # type: ignore[arg-type]
    return list(PagesCollector(settings).collect(None, T0))


def test_pages_are_followed_and_the_token_is_sent() -> None:
    with FakeServer() as fake:
        pages(fake, 3)
        assert [p.value for p in collect(fake.url)] == [0.0, 1.0, 2.0]  # type: ignore[union-attr]
        assert {r.headers["authorization"] for r in fake.requests} == {f"Bearer {TOKEN}"}


def test_a_500_is_retried_then_succeeds() -> None:
    with FakeServer() as fake:
        pages(fake, 2)
        fake.fail_next(500, {"message": "boom"})
        assert len(collect(fake.url)) == 2
        assert len(fake.requests) == 3


def test_a_429_waits_as_long_as_retry_after_says() -> None:
    with FakeServer() as fake:
        pages(fake, 1)
        fake.fail_next(429, {"message": "slow down"}, headers={"Retry-After": "2"})
        t0 = time.monotonic()
        assert len(collect(fake.url)) == 1
        assert time.monotonic() - t0 >= 2.0


def test_retries_give_up_after_the_configured_number_and_say_so() -> None:
    with FakeServer() as fake:
        pages(fake, 1)
        fake.fail_next(503, times=10)
        with pytest.raises(RetriableSourceError) as caught:
            collect(fake.url, retries=2)
        assert len(fake.requests) == 3
        message = str(caught.value)
        assert "source 'pages'" in message and fake.url in message
        assert "HTTP 503" in message and "gave up after 3 attempts" in message


def test_a_retry_after_beyond_the_deadline_fails_at_once() -> None:
    with FakeServer() as fake:
        pages(fake, 1)
        fake.fail_next(429, headers={"Retry-After": "3600"})
        t0 = time.monotonic()
        with pytest.raises(SourceError, match="HTTP 429"):
            collect(fake.url, deadline=timedelta(seconds=30))
        assert time.monotonic() - t0 < 5


def test_a_dripping_answer_is_cut_at_the_deadline() -> None:
    with FakeServer() as fake:
        pages(fake, 1)
        fake.drip(0.2)  # ~30 bytes: 6 s, each byte well within the 60 s read timeout
        t0 = time.monotonic()
        with pytest.raises(SourceError, match=r"deadline of 2s exceeded while reading GET"):
            collect(fake.url, deadline=timedelta(seconds=2))
        assert time.monotonic() - t0 < 4


def test_malformed_json_fails_clearly_and_is_not_retried() -> None:
    with FakeServer() as fake:
        fake.route("GET", "/values",
                   lambda _r, _m: Reply(200, "{not json", content_type="text/html"))
        with pytest.raises(FatalSourceError, match=r"not JSON \(starts '\{not json'\)"):
            collect(fake.url)
        assert len(fake.requests) == 1


def test_401_names_what_to_check_and_never_the_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeServer() as fake:
        fake.route("GET", "/values",
                   lambda _r, _m: Reply(401, {"message": f"bad token {TOKEN}"}))
        with pytest.raises(FatalSourceError) as caught:
            collect(fake.url)
        assert len(fake.requests) == 1
    message = str(caught.value)
    assert "HTTP 401" in message and "check the source's credentials" in message
    assert TOKEN not in message
    assert TOKEN not in caplog.text


def test_404_is_fatal_with_a_hint() -> None:
    with FakeServer() as fake, pytest.raises(FatalSourceError, match="check the URL"):
        collect(fake.url)


def test_connection_refused_is_retriable_and_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RetriableSourceError) as caught:
        collect(url, retries=1)
    assert url in str(caught.value) and "cannot connect" in str(caught.value)


def test_a_stalled_server_hits_the_read_timeout_then_the_retries_end() -> None:
    with FakeServer() as fake:
        pages(fake, 1)
        fake.stall(30)
        t0 = time.monotonic()
        with pytest.raises(RetriableSourceError, match="no answer in time"):
            collect(fake.url, read_timeout=timedelta(seconds=1), retries=1)
        assert time.monotonic() - t0 < 10


# ------------------------------------------------------------ classification, unit


class _Answer(Exception):
    def __init__(self, status: int, headers: dict[str, str]) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers


@pytest.mark.parametrize(
    ("status", "headers", "retriable", "wait"),
    [
        (500, {}, True, None),
        (429, {"Retry-After": "7"}, True, 7.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000"}, True, 100.0),
        (403, {"retry-after": "60"}, True, 60.0),  # GitHub's secondary rate limit
        (403, {}, False, None),
        (401, {}, False, None),
        (404, {}, False, None),
        (400, {}, False, None),
    ],
    ids=["5xx", "429-retry-after", "github-primary-limit", "github-secondary-limit",
         "403-forbidden", "401", "404", "400"],
)
def test_statuses_are_classified(status: int, headers: dict[str, str], retriable: bool,
                                 wait: float | None) -> None:
    failure = failure_of(_Answer(status, headers))
    assert failure is not None and failure.retriable is retriable
    if wait is not None and "x-ratelimit-reset" in headers:
        assert retry_after({k.lower(): v for k, v in headers.items()}, now=900.0) == wait
    elif wait is not None:
        assert failure.retry_after == wait


def test_retry_after_as_an_http_date() -> None:
    assert retry_after({"retry-after": "Thu, 01 Jan 1970 00:01:40 GMT"}, now=40.0) == 60.0


def test_client_library_exceptions_are_read_the_same_way() -> None:
    import requests
    from github import GithubException
    from jira import JIRAError

    response = requests.Response()
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    jira_error = JIRAError(status_code=503, text="down", response=response)
    github_error = GithubException(401, {"message": "Bad credentials"}, {})
    timeout = requests.exceptions.ReadTimeout("read timed out")
    assert (failure_of(jira_error).retriable, failure_of(jira_error).retry_after) == (True, 5.0)  # type: ignore[union-attr]
    assert failure_of(github_error).retriable is False  # type: ignore[union-attr]
    assert failure_of(timeout).retriable is True  # type: ignore[union-attr]
    assert failure_of(ValueError("a bug")) is None
