"""GithubIssueSink against a fake GitHub REST API on 127.0.0.1: what dspo sends, what it
makes of the answers, and how every failure becomes a SinkError that says whether to retry."""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from fake_github import FakeGithub
from fake_http import free_port

from alerts.sinks.base import SinkError, TicketSpec, fingerprint_label
from alerts.sinks.github import GithubIssueSink
from alerts.sinks.registry import build_sink
from config.alerting import GithubSink

TOKEN = "ghp_fakeToken0123456789abcdef"
FP = "a1b2c3d4e5f6a7b8c9d0e1f2"
ISSUES = "/api/v3/repos/acme/churn/issues"
SPEC = TicketSpec(
    fingerprint=FP, rule="auc_below", product="churn", title="AUC of churn-model below 0.75",
    description="auc = 0.71 (threshold < 0.75) for 1h", points=3, labels=("ml-health",),
    links=(("MLflow run", "http://mlflow.local/#/runs/42"),),
)


def settings(api_url: str, **overrides: Any) -> GithubSink:
    values: dict[str, Any] = {"name": "team-gh", "kind": "github_issues", "repo": "acme/churn",
                              "token": TOKEN, "api_url": api_url}
    return GithubSink(**(values | overrides))


@pytest.fixture
def github() -> Iterator[FakeGithub]:
    with FakeGithub(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def sink(github: FakeGithub) -> Iterator[GithubIssueSink]:
    s = GithubIssueSink(settings(github.api_url), timeout=2, pace_writes=False)
    yield s
    s.close()


def spec(fingerprint: str, title: str = "Drift on churn") -> TicketSpec:
    return TicketSpec(fingerprint=fingerprint, rule="drift", product="churn", title=title,
                      description="drifted share 0.6")


def error_text(e: BaseException) -> str:
    """Everything a log or a traceback could show of an exception and its causes."""
    return "".join(traceback.format_exception(e)) + repr(e)


# ------------------------------------------------------------ create and find


def test_create_sends_title_body_and_labels(github: FakeGithub, sink: GithubIssueSink) -> None:
    ref = sink.create(SPEC)

    assert ref.key == "1" and ref.url == "https://github.com/acme/churn/issues/1"
    assert not ref.closed
    [post] = github.sent("POST", ISSUES)
    assert post.body["title"] == SPEC.title
    assert post.body["labels"] == ["dspo", "ml-health", fingerprint_label(FP)]
    assert "auc = 0.71 (threshold < 0.75)" in post.body["body"]
    assert "[MLflow run](http://mlflow.local/#/runs/42)" in post.body["body"]
    assert "3 points" in post.body["body"]
    assert post.headers["authorization"] == f"token {TOKEN}"
    assert fingerprint_label(FP) in github.labels  # created on the fly, as GitHub does


def test_find_lists_issues_with_the_fingerprint_label(github: FakeGithub,
                                                      sink: GithubIssueSink) -> None:
    created = sink.create(SPEC)
    sink.create(spec("ffff0000ffff0000ffff"))
    github.add_pull_request(["dspo", fingerprint_label(FP)])  # newer, and not an issue

    found = sink.find(FP)

    assert found is not None and found.key == created.key
    [listing] = github.sent("GET", ISSUES)
    assert listing.query["labels"] == [fingerprint_label(FP)]
    assert listing.query["state"] == ["all"]
    assert (listing.query["sort"], listing.query["direction"]) == (["created"], ["desc"])
    assert sink.find("0123456789abcdef0123") is None


def test_find_prefers_an_open_issue_then_the_newest(github: FakeGithub,
                                                    sink: GithubIssueSink) -> None:
    older = sink.create(spec(FP, "first"))
    newer = sink.create(spec(FP, "second"))
    github.close_by_hand(int(newer.key), "completed")

    found = sink.find(FP)
    assert found is not None and found.key == older.key

    github.close_by_hand(int(older.key), "completed")
    found = sink.find(FP)
    assert found is not None and found.key == newer.key and found.closed
    assert found.closed_at is not None and found.closed_at.utcoffset() is not None


# ------------------------------------------------------------ comment, resolve, reopen


def test_comment_posts_the_text(github: FakeGithub, sink: GithubIssueSink) -> None:
    ref = sink.create(SPEC)
    sink.comment(ref, "Still firing: auc = 0.69")
    [post] = github.sent("POST", f"{ISSUES}/1/comments")
    assert post.body == {"body": "Still firing: auc = 0.69"}
    assert github.sent("GET", f"{ISSUES}/1") == []  # the lazy client asked nothing first


def test_resolve_comments_then_closes_as_completed(github: FakeGithub,
                                                   sink: GithubIssueSink) -> None:
    ref = sink.create(SPEC)

    resolved = sink.resolve(ref, "Recovered: auc = 0.80")

    assert resolved.closed and resolved.resolution == "completed"
    assert resolved.closed_at is not None
    assert github.comments[1] == ["Recovered: auc = 0.80"]
    [patch] = github.sent("PATCH", f"{ISSUES}/1")
    assert patch.body == {"state": "closed", "state_reason": "completed"}
    writes = [r.method for r in github.requests[1:]]
    assert writes == ["POST", "PATCH"]  # comment first, then close


def test_reopen_comments_and_opens(github: FakeGithub, sink: GithubIssueSink) -> None:
    ref = sink.resolve(sink.create(SPEC), "Recovered")

    reopened = sink.reopen(ref, "Firing again: auc = 0.70")

    assert not reopened.closed and reopened.resolution is None and reopened.closed_at is None
    assert github.sent("PATCH", f"{ISSUES}/1")[-1].body == {"state": "open",
                                                           "state_reason": "reopened"}
    assert github.issues[1]["state"] == "open"
    assert github.comments[1] == ["Recovered", "Firing again: auc = 0.70"]


@pytest.mark.parametrize(
    ("state_reason", "ignored"),
    [("not_planned", True), ("completed", False), (None, False)],
    ids=["not-planned", "completed", "open"],
)
def test_is_ignored_by_state_reason(github: FakeGithub, sink: GithubIssueSink,
                                    state_reason: str | None, ignored: bool) -> None:
    ref = sink.create(SPEC)
    if state_reason is not None:
        github.close_by_hand(int(ref.key), state_reason)
    found = sink.find(FP)
    assert found is not None and sink.is_ignored(found) is ignored


def test_writes_are_paced_a_second_apart_by_default(github: FakeGithub) -> None:
    sink = GithubIssueSink(settings(github.api_url), timeout=2)
    ref = sink.create(SPEC)
    started = time.monotonic()
    sink.resolve(ref, "Recovered")  # two writes: a comment, then the close
    assert time.monotonic() - started >= 0.9


# ------------------------------------------------------------ failures


@pytest.mark.parametrize(
    ("status", "body", "retriable"),
    [(429, "Too many requests", True), (500, "Server Error", True), (502, "Bad Gateway", True),
     (503, "Service Unavailable", True),
     (403, "API rate limit exceeded for installation ID 1.", True),
     (400, "Problems parsing JSON", False), (401, "Bad credentials", False),
     (403, "Resource not accessible by integration", False), (404, "Not Found", False),
     (422, "Validation Failed", False)],
    ids=["429", "500", "502", "503", "403-rate-limit", "400", "401", "403", "404", "422"],
)
def test_http_errors_map_to_retriable_or_fatal(github: FakeGithub, sink: GithubIssueSink,
                                               status: int, body: str, retriable: bool) -> None:
    github.fail_next(status, {"message": body, "documentation_url": "https://docs.github.com/rest"})
    with pytest.raises(SinkError) as caught:
        sink.create(SPEC)
    assert caught.value.retriable is retriable
    assert f"HTTP {status}" in str(caught.value) and "team-gh" in str(caught.value)
    assert f"{github.api_url}/repos/acme/churn" in str(caught.value)
    assert len(github.sent("POST", ISSUES)) == 1  # PyGithub did not retry


def test_a_wrong_token_is_fatal_and_never_shown(github: FakeGithub) -> None:
    wrong = "ghp_wrongToken99"
    sink = GithubIssueSink(settings(github.api_url, token=wrong), timeout=2, pace_writes=False)
    with pytest.raises(SinkError, match="HTTP 401: Bad credentials") as caught:
        sink.find(FP)
    assert not caught.value.retriable
    assert wrong not in error_text(caught.value) and TOKEN not in error_text(caught.value)
    assert wrong not in repr(sink)


def test_a_server_that_is_down_fails_fast_and_retriable() -> None:
    api_url = f"http://127.0.0.1:{free_port()}/api/v3"
    sink = GithubIssueSink(settings(api_url), timeout=2, pace_writes=False)
    started = time.monotonic()
    with pytest.raises(SinkError) as caught:
        sink.create(SPEC)
    assert time.monotonic() - started < 3
    assert caught.value.retriable and api_url in str(caught.value)
    assert TOKEN not in error_text(caught.value)


def test_a_hung_server_times_out_retriable(github: FakeGithub) -> None:
    sink = GithubIssueSink(settings(github.api_url), timeout=1, pace_writes=False)
    github.stall(4)
    started = time.monotonic()
    with pytest.raises(SinkError, match="Timeout") as caught:
        sink.find(FP)
    assert time.monotonic() - started < 3
    assert caught.value.retriable


def test_build_sink_makes_a_github_sink_without_a_request(github: FakeGithub) -> None:
    sink = build_sink(settings(github.api_url))
    assert isinstance(sink, GithubIssueSink) and sink.name == "team-gh"
    assert github.requests == []
    assert TOKEN not in repr(sink)
