"""One Jira source's HTTP client: the `jira` library's session, auth and errors, one retried
and deadline-bounded request per page.

The client is the `jira` package's `JIRA`, built to do nothing on its own: no server-info or
login request when built, its retry layer off (`max_retries=0`: `Collector.call` is the one
retry policy), timeouts from the source's settings capped at what remains of the deadline.
Cloud authenticates with e-mail + API token (basic), Data Center with a personal access
token (bearer, the library's `token_auth`).

Why `JIRA._get_json` rather than the public search and agile methods: those fetch *every*
page inside one call and wrap each issue in a Resource object, so a 500 on page 30 would
restart the whole listing and no deadline check could run between pages. `_get_json` is the
method each of them calls for one page (URL building, session, `JIRAError` on 4xx/5xx);
dspo pages itself, one `Collector.call` per page. The library's `myself()` and `fields()`
are single requests but go through the same method here, so every request shares one
choke point.

The session's transport reads each answer in small pieces and checks the run's deadline
between them (`DeadlineAdapter`): a server dripping a byte a second cannot hold the run,
although each read returns long before the read timeout.

Endpoints (Cloud REST v2 unless noted; Data Center serves the same v2 paths):
- GET /rest/api/2/myself (timeZone of the user: JQL dates are read in it)
  https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-myself/#api-rest-api-2-myself-get
- GET /rest/api/2/field, GET /rest/api/2/status
- GET /rest/api/2/search/jql (Cloud, pages by nextPageToken)
  https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-search/#api-rest-api-2-search-jql-get
- GET /rest/api/2/search (Data Center, pages by startAt; removed from Cloud in 2025,
  https://developer.atlassian.com/changelog/#CHANGE-2046)
  https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/search-searchUsingSearchRequest
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from jira import JIRA, JIRAError
from requests.adapters import HTTPAdapter

from collectors.base import Collector, FatalSourceError
from collectors.deadline import Deadline
from config.sources.jira import JiraSource

Api = Literal["api", "agile", "greenhopper"]
BASES: Mapping[Api, str] = {
    "api": "{server}/rest/api/2/{path}",
    "agile": "{server}/rest/agile/1.0/{path}",
    "greenhopper": "{server}/rest/greenhopper/1.0/{path}",
}
READ_CHUNK = 64 * 1024
MAX_BODY = 64 * 1024 * 1024  # a JSON page larger than this is a misconfiguration, not data
JQL_TIME = "%Y-%m-%d %H:%M"


class AnswerTooLarge(Exception):
    """An answer past MAX_BODY: a wrong URL or a misconfiguration, never worth a retry."""


class DeadlineAdapter(HTTPAdapter):
    """requests' transport, reading every answer in pieces with a deadline check between.

    requests reads a non-streamed body in one blocking call, which a dripping server keeps
    alive for ever; here the adapter streams it and stores the bytes where requests looks
    for them, so the library above sees an ordinary response.
    """

    def __init__(self, deadline: Deadline) -> None:
        super().__init__(max_retries=0)
        self.deadline = deadline

    def send(self, request: requests.PreparedRequest, stream: bool = False,  # type: ignore[override]
             **kwargs: Any) -> requests.Response:
        response = super().send(request, stream=True, **kwargs)
        if stream:
            return response
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                self.deadline.check(f"reading {request.method} {request.url}")
                chunk = response.raw.read1(READ_CHUNK, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY:
                    raise AnswerTooLarge(f"answer larger than {MAX_BODY} bytes")
        except BaseException:
            response.close()
            raise
        response._content = b"".join(chunks)  # where Response.content keeps a read body
        response.raw.release_conn()
        return response


class JiraApi:
    """GET JSON from one Jira site as the collector's source, with its retries and deadline."""

    def __init__(self, collector: Collector[JiraSource]) -> None:
        self.collector = collector
        settings = collector.settings
        self.settings = settings
        self.cloud = settings.cloud
        self._connect = settings.connect_timeout.total_seconds()
        self._read = settings.read_timeout.total_seconds()
        token = settings.token.get_secret_value()
        auth: dict[str, Any] = (
            {"basic_auth": (settings.email or "", token)} if self.cloud
            else {"token_auth": token}
        )
        self.client = JIRA(
            server=settings.base_url, get_server_info=False, validate=False, max_retries=0,
            timeout=(self._connect, self._read),
            options={"headers": {"User-Agent": "dspo"}}, **auth,
        )
        # The library picks Cloud-only calls by this attribute, which it would otherwise
        # only learn from a server-info request; the settings already say.
        self.client.deploymentType = "Cloud" if self.cloud else "Server"
        session = self.client._session
        adapter = DeadlineAdapter(collector.deadline)
        session.mount("https://", adapter)
        session.mount("http://", adapter)

    def close(self) -> None:
        self.client.close()

    def url(self, path: str, api: Api = "api") -> str:
        """The full URL of `path`, for messages (never carries a secret)."""
        return BASES[api].format(server=self.settings.base_url, path=path)

    def get(self, path: str, params: Mapping[str, Any] | None = None, *,
            api: Api = "api") -> Any:
        """GET one JSON answer; retried and bounded by `Collector.call`. A refusal carries
        Jira's own words (an error in the JQL, a board without sprints)."""
        doing = f"GET {self.url(path, api)}"
        try:
            return self.collector.call(lambda: self._once(path, params, api, doing), doing)
        except FatalSourceError as e:
            said = _jira_says(e.__cause__)
            if not said:
                raise
            raise self.collector.fail(f"{e.cause}; Jira says: {said}") from e.__cause__

    def _once(self, path: str, params: Mapping[str, Any] | None, api: Api, doing: str) -> Any:
        deadline = self.collector.deadline
        self.client._session.timeout = (deadline.cap(self._connect), deadline.cap(self._read))
        try:
            return self.client._get_json(path, params=dict(params or {}), base=BASES[api])
        except AnswerTooLarge as e:
            raise self.collector.fail(f"{doing}: {e}") from None
        except ValueError as e:  # requests' JSONDecodeError: a 2xx answer that is not JSON
            raise self.collector.fail(
                f"{doing}: answered with a body that is not JSON ({e})") from None

    # ------------------------------------------------------------ site facts

    def time_zone(self) -> ZoneInfo:
        """The zone JQL dates are read in: the time zone of the user dspo signs in as."""
        me = self.get("myself")
        name = (me or {}).get("timeZone") if isinstance(me, dict) else None
        try:
            return ZoneInfo(name) if isinstance(name, str) and name else ZoneInfo("UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise self.collector.fail(
                f"GET {self.url('myself')}: unknown time zone {name!r} of the Jira user"
            ) from None

    def fields(self) -> list[dict[str, Any]]:
        return self._listing(self.get("field"), "field")

    def statuses(self) -> list[dict[str, Any]]:
        return self._listing(self.get("status"), "status")

    def _listing(self, answer: Any, path: str) -> list[dict[str, Any]]:
        if not isinstance(answer, list):
            raise self.collector.fail(f"GET {self.url(path)}: expected a JSON list")
        return [x for x in answer if isinstance(x, dict)]

    # ------------------------------------------------------------ pages

    def search(self, jql: str, fields: list[str], *, expand: str | None = None
               ) -> Iterator[list[dict[str, Any]]]:
        """Pages of issues matching `jql`: Cloud's /search/jql by nextPageToken, Data
        Center's /search by startAt."""
        params: dict[str, Any] = {"jql": jql, "fields": ",".join(fields),
                                  "maxResults": self.settings.page_size}
        if expand:
            params["expand"] = expand
        if self.cloud:
            yield from self._search_by_token(params)
        else:
            yield from self._search_by_offset(params)

    def _search_by_token(self, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        seen: set[str] = set()
        while True:
            page = self._object(self.get("search/jql", params), "search/jql")
            yield self._issues(page, "search/jql")
            token = page.get("nextPageToken")
            if page.get("isLast", not token) or not token:
                return
            if token in seen:  # a server handing out the same page again would loop for ever
                raise self.collector.fail("search/jql: nextPageToken repeats; giving up")
            seen.add(token)
            params = {**params, "nextPageToken": token}

    def _search_by_offset(self, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        start = 0
        while True:
            page = self._object(self.get("search", {**params, "startAt": start}), "search")
            issues = self._issues(page, "search")
            yield issues
            start += len(issues)
            if not issues or start >= int(page.get("total") or 0):
                return

    def pages(self, path: str, params: Mapping[str, Any] | None = None, *, api: Api,
              key: str = "values") -> Iterator[list[dict[str, Any]]]:
        """Pages of a startAt/maxResults/isLast listing (agile boards and sprints, an
        issue's changelog)."""
        start = 0
        while True:
            query = {**(params or {}), "startAt": start, "maxResults": self.settings.page_size}
            page = self._object(self.get(path, query, api=api), path)
            values = page.get(key)
            if not isinstance(values, list):
                raise self.collector.fail(f"GET {self.url(path, api)}: no {key!r} list")
            yield [v for v in values if isinstance(v, dict)]
            start += len(values)
            total = page.get("total")
            last = page.get("isLast")
            if not values or last is True or (last is None and total is not None
                                              and start >= int(total)):
                return

    def _object(self, answer: Any, path: str) -> dict[str, Any]:
        if not isinstance(answer, dict):
            raise self.collector.fail(f"{path}: expected a JSON object")
        return answer

    def _issues(self, page: dict[str, Any], path: str) -> list[dict[str, Any]]:
        issues = page.get("issues")
        if not isinstance(issues, list):
            raise self.collector.fail(f"{path}: the answer has no 'issues' list")
        return [i for i in issues if isinstance(i, dict) and i.get("key")]


def _jira_says(error: BaseException | None) -> str:
    """The error messages of Jira's ErrorCollection, as the library parsed them."""
    if not isinstance(error, JIRAError) or not error.text:
        return ""
    return " ".join(str(error.text).split())[:300]


def jql_string(value: str) -> str:
    """A JQL string literal: quoted, with quotes and backslashes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jql_time(at: datetime, zone: ZoneInfo) -> str:
    """`at` as a JQL date literal in `zone`, floored to the minute (JQL's precision).

    JQL reads "2026-03-02 09:15" in the time zone of the *user who searches*, not UTC: a
    watermark written in UTC digits is hours off for any user elsewhere (west of UTC,
    updates are missed; east, re-read).
    """
    local = at.astimezone(zone).replace(second=0, microsecond=0)
    return jql_string(local.strftime(JQL_TIME))


def since_clause(since: datetime | None, overlap: timedelta, zone: ZoneInfo) -> str | None:
    return None if since is None else f"updated >= {jql_time(since - overlap, zone)}"


def parse_time(value: Any) -> datetime | None:
    """Jira's '2026-03-02T09:15:00.000+0000' (REST) or '+01:00' (agile) as aware UTC; None
    for anything else, a time without an offset included (Jira always sends one)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)  # Python 3.11 reads Jira's offsets, and fast
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None
