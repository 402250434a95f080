"""GitHub issues as the tracker of alert backlog items, through PyGithub.

The fingerprint travels as a label (GitHub creates a label that does not exist yet when an
issue is filed with it), and `find` lists the repository's issues with that label before
the engine creates anything, so a reset dspo store never files a second issue.

The client is lazy (building it makes no request, so a config loads while GitHub is down),
does not retry by itself (the engine's outbox retries, with its own backoff; PyGithub's
default retry can sleep for minutes on a rate limit), and times out in seconds. Writes are
paced one second apart as GitHub asks, except when a test turns pacing off.

Endpoints (https://docs.github.com/en/rest/issues):
- GET /repos/{owner}/{repo}/issues?labels=…&state=all&sort=created&direction=desc
  (https://docs.github.com/en/rest/issues/issues#list-repository-issues)
- POST /repos/{owner}/{repo}/issues
  (https://docs.github.com/en/rest/issues/issues#create-an-issue)
- POST /repos/{owner}/{repo}/issues/{number}/comments
  (https://docs.github.com/en/rest/issues/comments#create-an-issue-comment)
- PATCH /repos/{owner}/{repo}/issues/{number}
  (https://docs.github.com/en/rest/issues/issues#update-an-issue)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC
from itertools import islice
from typing import TypeVar

import requests
from github import Auth, Github, GithubException, RateLimitExceededException
from github.Issue import Issue

from alerts.sinks.base import Sink, SinkError, TicketRef, TicketSpec, fingerprint_label
from alerts.sinks.registry import redact, retriable_status, retry_after
from config.alerting import GithubSink

T = TypeVar("T")

TIMEOUT_SECONDS = 10
"""Timeout of each request: an outage fails a delivery in seconds."""

SEARCH_LIMIT = 30  # issues read per lookup: one page
TITLE_LIMIT = 256  # GitHub rejects longer titles
PACED_WRITE_SECONDS = 1.0
"""https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api
#pause-between-mutative-requests"""


class GithubIssueSink(Sink):
    """Files, comments on, closes and reopens GitHub issues for alerts."""

    kind = "github_issues"

    def __init__(
        self, settings: GithubSink, *, timeout: float = TIMEOUT_SECONDS, pace_writes: bool = True
    ) -> None:
        self.name = settings.name
        self.settings = settings
        self.api_url = str(settings.api_url).rstrip("/")
        self.where = f"{self.api_url}/repos/{settings.repo}"
        self._token = settings.token.get_secret_value()
        self._github = Github(
            auth=Auth.Token(self._token),
            base_url=self.api_url,
            timeout=math.ceil(timeout),
            retry=None,
            lazy=True,
            per_page=SEARCH_LIMIT,
            seconds_between_requests=None,
            seconds_between_writes=PACED_WRITE_SECONDS if pace_writes else None,
        )
        self._repo = self._github.get_repo(settings.repo)  # lazy: no request

    def __repr__(self) -> str:
        return f"GithubIssueSink(name={self.name!r}, repo={self.settings.repo!r})"

    def close(self) -> None:
        """Close the HTTP connections PyGithub keeps open."""
        self._github.close()

    # ------------------------------------------------------------ the contract

    def find(self, fingerprint: str) -> TicketRef | None:
        label = fingerprint_label(fingerprint)

        def newest() -> list[TicketRef]:
            issues = self._repo.get_issues(
                state="all", labels=[label], sort="created", direction="desc"
            )
            # The issues endpoint lists pull requests too; their page is /pull/, not /issues/.
            return [
                self._ref(issue) for issue in islice(issues, SEARCH_LIMIT)
                if "/pull/" not in issue.html_url
            ]

        refs = self._call("find", newest)
        return _newest_open_first(refs)

    def create(self, spec: TicketSpec) -> TicketRef:
        labels = _unique([*self.settings.labels, *spec.labels, fingerprint_label(spec.fingerprint)])
        issue = self._call(
            "create",
            lambda: self._repo.create_issue(
                title=spec.title[:TITLE_LIMIT], body=_body(spec), labels=labels
            ),
        )
        return self._ref(issue)

    def comment(self, ref: TicketRef, text: str) -> None:
        self._call("comment", lambda: self._issue(ref).create_comment(text))

    def resolve(self, ref: TicketRef, text: str) -> TicketRef:
        self.comment(ref, text)
        return self._edit(ref, state="closed", state_reason="completed")

    def reopen(self, ref: TicketRef, text: str) -> TicketRef:
        self.comment(ref, text)
        return self._edit(ref, state="open", state_reason="reopened")

    def is_ignored(self, ref: TicketRef) -> bool:
        return ref.closed and ref.resolution in self.settings.ignored_reasons

    # ------------------------------------------------------------ helpers

    def _issue(self, ref: TicketRef) -> Issue:
        """The issue behind a ref, without a request (the client is lazy)."""
        if not ref.key.isdigit():
            raise SinkError(self.name, self.where, f"not an issue number: {ref.key!r}",
                            retriable=False)
        return self._repo.get_issue(int(ref.key))

    def _edit(self, ref: TicketRef, *, state: str, state_reason: str) -> TicketRef:
        issue = self._issue(ref)
        self._call(state, lambda: issue.edit(state=state, state_reason=state_reason))
        return self._ref(issue)  # edit() loaded the issue from the PATCH's answer

    def _ref(self, issue: Issue) -> TicketRef:
        closed = issue.state == "closed"
        closed_at = issue.closed_at
        if closed_at is not None and closed_at.tzinfo is None:
            closed_at = closed_at.replace(tzinfo=UTC)
        return TicketRef(
            sink=self.name,
            key=str(issue.number),
            url=issue.html_url,
            closed=closed,
            resolution=issue.state_reason if closed else None,
            closed_at=closed_at if closed else None,
            extra={"id": str(issue.id)},
        )

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one client call; turn whatever it raises into a SinkError."""
        try:
            return fn()
        except RateLimitExceededException as e:  # a 403 or 429 that passes with time
            raise SinkError(self.name, self.where, f"{what}: rate limited (HTTP {e.status})",
                            retriable=True, status=e.status,
                            retry_after=retry_after(e.headers)) from e
        except GithubException as e:
            message = e.data.get("message") if isinstance(e.data, dict) else e.message
            detail = redact(" ".join(str(message or "no detail").split()), self._token)
            raise SinkError(self.name, self.where, f"{what}: HTTP {e.status}: {detail}",
                            retriable=retriable_status(e.status), status=e.status,
                            retry_after=retry_after(e.headers)) from e
        except requests.RequestException as e:  # refused, reset, DNS, timeout, TLS
            raise SinkError(self.name, self.where,
                            f"{what}: {type(e).__name__}: {redact(str(e), self._token)}",
                            retriable=True) from e


def _body(spec: TicketSpec) -> str:
    """Markdown: the spec's text, the estimate (GitHub has no points field), links, origin."""
    parts = [spec.description.strip()] if spec.description.strip() else []
    if spec.points is not None:
        parts.append(f"**Estimate:** {spec.points:g} points")
    if spec.links:
        parts.append("\n".join(f"- [{_md(text)}]({url})" for text, url in spec.links))
    parts.append(
        f"<sub>Filed by dspo: rule `{spec.rule}`, product `{spec.product}`, severity "
        f"{spec.severity}, type {spec.type}, fingerprint `{spec.fingerprint}`.</sub>"
    )
    return "\n\n".join(parts)


def _md(text: str) -> str:
    """Link text that cannot close the Markdown link early."""
    return text.replace("[", "(").replace("]", ")")


def _unique(labels: Iterable[str]) -> list[str]:
    out: list[str] = []
    for label in labels:
        if label and label not in out:
            out.append(label)
    return out



def _newest_open_first(refs: list[TicketRef]) -> TicketRef | None:
    """The first open ticket of a newest-first list, else the newest closed one."""
    return next((ref for ref in refs if not ref.closed), refs[0] if refs else None)
