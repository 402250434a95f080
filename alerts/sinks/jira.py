"""Jira issues as the tracker of alert backlog items, through the `jira` client library.

Every issue dspo files carries the fingerprint label, and `find` looks it up with JQL
before the engine creates anything, so a reset dspo store or a retried delivery finds the
issue it already filed (as Grafana's Jira contact point and jiralert do).

The client is built to fail fast and to do nothing on its own: no server-info or login
request when it is built (so a config loads while Jira is down), no retries inside the
library (the engine's outbox owns retrying, with its own backoff), and a timeout of seconds.
Every library or network failure leaves this module as a `SinkError` that names the sink
and its URL and says whether waiting may help; the token never appears in it.

Endpoints (Jira Cloud REST API v2, also served by Data Center, except enhanced search):
- search: GET /rest/api/2/search/jql on Cloud, GET /rest/api/2/search elsewhere; Cloud
  removed the latter in 2025 (https://developer.atlassian.com/changelog/#CHANGE-2046), so
  the deployment is told by the host (*.atlassian.net) or asked once (GET serverInfo);
- GET /rest/api/2/field, once per client: the library maps JQL field names to ids;
- POST /rest/api/2/issue, POST /rest/api/2/issue/{key}/comment, GET /rest/api/2/issue/{key},
  GET and POST /rest/api/2/issue/{key}/transitions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlparse

import requests
from jira import JIRA, JIRAError

from alerts.sinks.base import Sink, SinkError, TicketRef, TicketSpec, fingerprint_label
from alerts.sinks.registry import redact, retriable_status, retry_after
from config.alerting import JiraSink

T = TypeVar("T")

TIMEOUT_SECONDS = 10.0
"""Connect and read timeout of each request: an outage fails a delivery in seconds."""

SEARCH_LIMIT = 20
"""Issues read per lookup; more than a few per fingerprint means someone copied labels."""

SUMMARY_LIMIT = 255  # Jira rejects longer summaries
ISSUE_FIELDS = ("summary", "status", "resolution", "resolutiondate", "labels")
CLOUD_HOST_SUFFIXES = (".atlassian.net", ".jira.com")
DONE_CATEGORY = "done"


class JiraIssueSink(Sink):
    """Files, comments on, resolves and reopens Jira issues for alerts.

    `timeout` and `cloud` exist for tests and unusual deployments; `cloud=None` decides by
    the host name and, for other hosts, by asking the server once.
    """

    kind = "jira"

    def __init__(
        self, settings: JiraSink, *, timeout: float = TIMEOUT_SECONDS, cloud: bool | None = None
    ) -> None:
        self.name = settings.name
        self.settings = settings
        self.base_url = str(settings.url).rstrip("/")
        self._token = settings.token.get_secret_value()
        host = urlparse(self.base_url).hostname or ""
        self._cloud = cloud if cloud is not None else (host.endswith(CLOUD_HOST_SUFFIXES) or None)
        self._client = JIRA(
            server=self.base_url,
            basic_auth=(settings.user, self._token),
            get_server_info=False,
            validate=False,
            max_retries=0,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"JiraIssueSink(name={self.name!r}, url={self.base_url!r})"

    def close(self) -> None:
        """Close the HTTP session (the library keeps connections open otherwise)."""
        self._client.close()

    # ------------------------------------------------------------ the contract

    def find(self, fingerprint: str) -> TicketRef | None:
        label = fingerprint_label(fingerprint)
        jql = (
            f"project = {_jql_string(self.settings.project)} AND labels = {_jql_string(label)}"
            " ORDER BY created DESC"
        )
        issues = self._call("find", lambda: self._search(jql))
        refs = [self._ref(issue.raw) for issue in issues]
        return _newest_open_first(refs)

    def create(self, spec: TicketSpec) -> TicketRef:
        fields: dict[str, Any] = {
            "project": {"key": self.settings.project},
            "issuetype": {"name": self.settings.issue_type},
            "summary": spec.title[:SUMMARY_LIMIT],
            "description": self._description(spec),
            "labels": _labels(
                [*self.settings.labels, *spec.labels, fingerprint_label(spec.fingerprint)]
            ),
        }
        if self.settings.points_field and spec.points is not None:
            fields[self.settings.points_field] = spec.points
        # prefetch=False: the POST answers with the key; a fresh issue is open by definition.
        issue = self._call("create", lambda: self._client.create_issue(fields, prefetch=False))
        key = str(issue.raw["key"])
        return TicketRef(
            sink=self.name, key=key, url=self._browse(key), extra={"id": str(issue.raw["id"])}
        )

    def comment(self, ref: TicketRef, text: str) -> None:
        self._call("comment", lambda: self._client.add_comment(ref.key, text))

    def resolve(self, ref: TicketRef, text: str) -> TicketRef:
        self.comment(ref, text)
        if not self.settings.resolve_transition:
            return ref
        return self._move(ref.key, self.settings.resolve_transition, closed=True)

    def reopen(self, ref: TicketRef, text: str) -> TicketRef:
        self.comment(ref, text)
        return self._move(ref.key, self.settings.reopen_transition, closed=False)

    def is_ignored(self, ref: TicketRef) -> bool:
        if not ref.closed or ref.resolution is None:
            return False
        ignored = {_fold(name) for name in self.settings.ignored_resolutions}
        return _fold(ref.resolution) in ignored

    # ------------------------------------------------------------ helpers

    def _search(self, jql: str) -> Iterable[Any]:
        if self._cloud is None:
            info = self._client.server_info()
            self._cloud = info.get("deploymentType") == "Cloud"
        # The library picks Cloud's enhanced search by this attribute, which it would only
        # set from a server-info request at start; we know the answer without one.
        self._client.deploymentType = "Cloud" if self._cloud else "Server"
        result = self._client.search_issues(
            jql, maxResults=SEARCH_LIMIT, fields=list(ISSUE_FIELDS)
        )
        if result is None:  # the library's cloud check refused; cannot happen after the above
            raise JIRAError("search returned nothing")
        assert not isinstance(result, dict)
        return result

    def _move(self, key: str, transition: str, *, closed: bool) -> TicketRef:
        """Apply `transition` unless the issue already is where it would take it.

        Checking first keeps a hand-closed "Won't Fix" from being turned into "Done" by a
        global transition, and makes a retried delivery a no-op instead of an error.
        """
        current = self._fetch(key)
        if current.closed == closed:
            return current
        transitions = self._call("transitions", lambda: self._client.transitions(key))
        wanted = _fold(transition)
        match = next((t for t in transitions if _fold(t.get("name", "")) == wanted), None)
        if match is None:  # a transition is often named after the status it leads to
            match = next(
                (t for t in transitions if _fold((t.get("to") or {}).get("name", "")) == wanted),
                None,
            )
        if match is None:
            names = ", ".join(sorted(str(t.get("name")) for t in transitions)) or "none"
            raise SinkError(
                self.name, self.base_url,
                f"no transition {transition!r} on {key} (available: {names})", retriable=False,
            )
        self._call("transition", lambda: self._client.transition_issue(key, str(match["id"])))
        return self._fetch(key)

    def _fetch(self, key: str) -> TicketRef:
        fields = ",".join(ISSUE_FIELDS)
        issue = self._call("read", lambda: self._client.issue(key, fields=fields))
        return self._ref(issue.raw)

    def _ref(self, raw: dict[str, Any]) -> TicketRef:
        key = str(raw["key"])
        fields = raw.get("fields") or {}
        status = fields.get("status") or {}
        category = (status.get("statusCategory") or {}).get("key")
        closed = category == DONE_CATEGORY
        resolution = (fields.get("resolution") or {}).get("name")
        extra = {"id": str(raw.get("id", "")), "status": str(status.get("name", ""))}
        return TicketRef(
            sink=self.name,
            key=key,
            url=self._browse(key),
            closed=closed,
            resolution=resolution,
            closed_at=_jira_time(fields.get("resolutiondate")) if closed else None,
            extra=extra,
        )

    def _browse(self, key: str) -> str:
        return f"{self.base_url}/browse/{key}"

    def _description(self, spec: TicketSpec) -> str:
        """The spec's text, its links in Jira wiki markup, and where the issue came from."""
        parts = [spec.description.strip()] if spec.description.strip() else []
        if spec.links:
            parts.append("\n".join(f"* [{_wiki(text)}|{url}]" for text, url in spec.links))
        parts.append(
            f"_Filed by dspo: rule {spec.rule}, product {spec.product}, severity "
            f"{spec.severity}, fingerprint {spec.fingerprint}._"
        )
        return "\n\n".join(parts)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one client call; turn whatever it raises into a SinkError."""
        try:
            return fn()
        except JIRAError as e:
            detail = redact(" ".join((e.text or "").split()) or "no detail", self._token)
            status = e.status_code
            headers = getattr(e.response, "headers", None)
            raise SinkError(
                self.name, self.base_url, f"{what}: HTTP {status}: {detail}",
                retriable=retriable_status(status), status=status,
                retry_after=retry_after(headers),
            ) from e
        except requests.RequestException as e:  # refused, reset, DNS, timeout, TLS
            raise SinkError(
                self.name, self.base_url,
                f"{what}: {type(e).__name__}: {redact(str(e), self._token)}", retriable=True,
            ) from e


def _jql_string(value: str) -> str:
    """A JQL string literal: quoted, with quotes and backslashes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _labels(labels: Iterable[str]) -> list[str]:
    """Unique labels in order; Jira labels cannot hold spaces, so they become underscores."""
    out: list[str] = []
    for label in labels:
        clean = "_".join(label.split())
        if clean and clean not in out:
            out.append(clean)
    return out


def _wiki(text: str) -> str:
    """Link text safe inside Jira's [text|url] markup."""
    return text.replace("|", "/").replace("[", "(").replace("]", ")")


def _fold(name: str) -> str:
    """Case- and apostrophe-insensitive: a typographic apostrophe (U+2019) is a plain one."""
    return name.replace("\u2019", "'").casefold().strip()


def _jira_time(value: Any) -> datetime | None:
    """Jira's '2024-05-01T10:20:30.000+0000' as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, pattern).astimezone(UTC)
        except ValueError:
            continue
    return None


def _newest_open_first(refs: list[TicketRef]) -> TicketRef | None:
    """The first open ticket of a newest-first list, else the newest closed one."""
    return next((ref for ref in refs if not ref.closed), refs[0] if refs else None)
