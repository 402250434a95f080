"""What the GitHub collectors share: the PyGithub client, pages, GraphQL, the rate budget.

The client is configured as dspo's GitHub alert sink configures it (`alerts/sinks/github.py`):
lazy (building it makes no request), no retries of its own (`retry=None`: PyGithub's default
retry sleeps through rate limits for as long as they last, past any deadline), no pacing
between reads, `base_url` for GitHub Enterprise Server. Every request goes through
`Collector.call`, so retries, Retry-After, `x-ratelimit-reset` and the deadline are handled
in one place (`collectors/retry.py`).

Requests are made with PyGithub's `Github.requester` ("to make requests to API endpoints not
yet supported by PyGithub") and the JSON is read as documented, rather than through
PyGithub's objects: an object built from a list item fetches its whole self the moment code
reads an attribute the item lacks (a field an older GitHub Enterprise does not send), one
hidden request per item outside the retry policy and the deadline. Raw pages are also where
a malformed answer can be told apart from data.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from github import Auth, Github, GithubException

from collectors.base import Collector
from config.sources.github import GithubSourceBase

log = logging.getLogger(__name__)

PER_PAGE = 100  # the most GitHub serves per page
WAIT_MARGIN = 5.0  # seconds kept between a wait for the rate-limit reset and the deadline


@dataclass(frozen=True)
class Page:
    """One page of a list: its items and, for lists wrapped in an object, the total count."""

    items: list[dict[str, Any]]
    total: int | None


class GithubApi:
    """One collector run's GitHub client: REST pages, GraphQL, the token's rate budget."""

    def __init__(self, collector: Collector[Any]) -> None:
        settings: GithubSourceBase = collector.settings
        self.collector = collector
        self.reserve = settings.rate_limit_reserve
        self.api_url = str(settings.api_url).rstrip("/")
        self._waited_for = 0  # the reset instant already waited for
        self.github = Github(
            auth=Auth.Token(settings.token.get_secret_value()),
            base_url=self.api_url,
            # PyGithub takes one whole-second timeout, for connecting and for each read;
            # the deadline bounds the run whatever the socket does.
            timeout=max(1, math.ceil(settings.read_timeout.total_seconds())),
            retry=None,
            lazy=True,
            per_page=PER_PAGE,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        self.requester = self.github.requester

    def close(self) -> None:
        self.github.close()

    def __enter__(self) -> GithubApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ REST

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, doing: str) -> Any:
        """GET one answer's JSON (a path under the API root, or an absolute `next` link)."""
        return self._get(path, params, doing)[0]

    def pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, key: str | None = None,
        doing: str,
    ) -> Iterator[Page]:
        """Every page of a list, following GitHub's `Link: rel="next"` headers.

        `key` names the list inside an object answer ({"total_count": n, "workflow_runs":
        [...]}); without it the answer is the list itself.
        """
        url: str | None = path
        query: dict[str, Any] | None = {**(params or {}), "per_page": PER_PAGE}
        number = 1
        while url:
            shown = f"{doing} (page {number})"
            data, headers = self._get(url, query, shown)
            yield self._page(data, key, shown)
            url, query, number = next_link(headers), None, number + 1

    def _get(self, url: str, params: Mapping[str, Any] | None,
             doing: str) -> tuple[Any, dict[str, Any]]:
        def once() -> tuple[Any, dict[str, Any]]:
            self._keep_reserve(doing)
            try:
                headers, data = self.requester.requestJsonAndCheck(
                    "GET", url, parameters=dict(params) if params else None
                )
            except json.JSONDecodeError as e:
                raise self.collector.fail(f"{doing}: the answer is not valid JSON ({e})") from e
            return data, headers

        return self.collector.call(once, doing)

    def _page(self, data: Any, key: str | None, doing: str) -> Page:
        not_json = _not_json(data)
        if not_json is not None:
            raise self.collector.fail(f"{doing}: the answer is not JSON (starts {not_json!r})")
        if key is None and isinstance(data, list):
            return Page([x for x in data if isinstance(x, dict)], None)
        if key is not None and isinstance(data, dict) and isinstance(data.get(key), list):
            total = data.get("total_count")
            return Page([x for x in data[key] if isinstance(x, dict)],
                        total if isinstance(total, int) else None)
        shape = f"an object with a {key!r} list" if key else "a list"
        raise self.collector.fail(f"{doing}: expected {shape}, got {_describe(data)}")

    # ------------------------------------------------------------ GraphQL

    def graphql(self, query: str, variables: Mapping[str, Any], *, doing: str) -> dict[str, Any]:
        """The `data` of a GraphQL answer; GraphQL errors fail the run with GitHub's words."""

        def once() -> dict[str, Any]:
            self._keep_reserve(doing)
            try:
                _, answer = self.requester.graphql_query(query, dict(variables))
            except json.JSONDecodeError as e:
                raise self.collector.fail(f"{doing}: the answer is not valid JSON ({e})") from e
            except GithubException as e:
                if e.status in (400, 404) and isinstance(e.data, dict) and "errors" in e.data:
                    raise self.collector.fail(f"{doing}: {_graphql_errors(e.data)}") from e
                raise
            data = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(data, dict):
                raise self.collector.fail(f"{doing}: expected a GraphQL answer with data, got "
                                          f"{_describe(answer)}")
            return data

        return self.collector.call(once, f"POST {self.requester.graphql_url} ({doing})")

    # ------------------------------------------------------------ the rate budget

    def _keep_reserve(self, doing: str) -> None:
        """Before a request: with fewer than `rate_limit_reserve` requests left until the
        reset, wait for the reset when it comes within the deadline, else stop retriably.

        Stopping early and committing what was read is no option: the runner would commit
        the run's start as the watermark and the unread changes would never be read.
        """
        remaining, limit = self.requester.rate_limiting
        reset = self.requester.rate_limiting_resettime
        if remaining < 0 or remaining >= self.reserve or reset <= self._waited_for:
            return
        wait = reset - time.time() + 1.0
        if wait <= 0:
            return
        at = datetime.fromtimestamp(reset, tz=UTC).strftime("%H:%M:%S UTC")
        if wait + WAIT_MARGIN < self.collector.deadline.remaining():
            log.info("%s: %d of %d GitHub requests left; waiting %.0fs for the reset at %s",
                     self.collector.name, remaining, limit, wait, at)
            time.sleep(wait)
            self._waited_for = reset
            return
        raise self.collector.fail(
            f"{doing}: GitHub rate limit nearly used up ({remaining} of {limit} requests left "
            f"until {at}; rate_limit_reserve is {self.reserve}); the next run reads everything "
            "this one did not",
            retriable=True,
        )


# ---------------------------------------------------------------- helpers


def next_link(headers: Mapping[str, Any]) -> str | None:
    """The `rel="next"` URL of a Link header, None on the last page."""
    for part in str(headers.get("link") or headers.get("Link") or "").split(","):
        section = [s.strip() for s in part.split(";")]
        if len(section) >= 2 and 'rel="next"' in section[1:]:
            return section[0].strip("<>")
    return None


def parse_time(value: Any) -> datetime | None:
    """GitHub's ISO 8601 times ('2026-03-01T09:00:00Z') as aware UTC; None stays None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso(value: datetime) -> str:
    """A time as GitHub's query parameters take it (`since=2026-03-01T09:00:00Z`)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def login(user: Any) -> str | None:
    """The login of a user object of an answer (None for a deleted user: `ghost` is null)."""
    if isinstance(user, dict) and isinstance(user.get("login"), str):
        return str(user["login"])
    return None


def _not_json(data: Any) -> str | None:
    """PyGithub hands an answer that is not JSON (an HTML error page of a proxy) back as
    {"data": text} (plus the "url" it adds to GET answers); the text's start, else None."""
    if isinstance(data, dict) and set(data) <= {"data", "url"} and isinstance(
        data.get("data"), str
    ):
        return " ".join(data["data"][:60].split())
    return None


def _describe(data: Any) -> str:
    if isinstance(data, dict):
        return f"an object with keys {sorted(data)[:8]}"
    return type(data).__name__ if data is not None else "an empty answer"


def _graphql_errors(data: Mapping[str, Any]) -> str:
    messages = [str(e.get("message", e)) for e in data.get("errors", []) if e]
    return "GraphQL: " + "; ".join(messages[:3]) if messages else "GraphQL error"
