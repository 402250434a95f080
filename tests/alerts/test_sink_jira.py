"""JiraIssueSink against a fake Jira Cloud on 127.0.0.1: what dspo sends, what it makes of
the answers, and how every failure becomes a SinkError that says whether to retry."""

from __future__ import annotations

import base64
import time
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from fake_http import free_port
from fake_jira import POINTS_FIELD, FakeJira

from alerts.sinks.base import SinkError, TicketSpec, fingerprint_label
from alerts.sinks.jira import JiraIssueSink
from alerts.sinks.registry import build_sink
from config.alerting import JiraSink

USER = "po@example.com"
TOKEN = "jira-api-token-5e1f0c"
FP = "a1b2c3d4e5f6a7b8c9d0e1f2"
SPEC = TicketSpec(
    fingerprint=FP, rule="auc_below", product="churn", title="AUC of churn-model below 0.75",
    description="auc = 0.71 (threshold < 0.75) for 1h", points=3, labels=("ml health",),
    links=(("MLflow run", "http://mlflow.local/#/runs/42"),),
)


def settings(url: str, **overrides: Any) -> JiraSink:
    values: dict[str, Any] = {"name": "team-jira", "kind": "jira", "url": url, "user": USER,
                              "token": TOKEN, "project": "CHURN", "points_field": POINTS_FIELD}
    return JiraSink(**(values | overrides))


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira(user=USER, token=TOKEN) as fake:
        yield fake


@pytest.fixture
def sink(jira: FakeJira) -> Iterator[JiraIssueSink]:
    s = JiraIssueSink(settings(jira.url), timeout=2)
    yield s
    s.close()


def spec(fingerprint: str, title: str = "Drift on churn") -> TicketSpec:
    return TicketSpec(fingerprint=fingerprint, rule="drift", product="churn", title=title,
                      description="drifted share 0.6")


def error_text(e: BaseException) -> str:
    """Everything a log or a traceback could show of an exception and its causes."""
    return "".join(traceback.format_exception(e)) + repr(e)


# ------------------------------------------------------------ create and find


def test_create_sends_project_type_labels_points_and_description(
        jira: FakeJira, sink: JiraIssueSink) -> None:
    ref = sink.create(SPEC)

    assert (ref.key, ref.url, ref.closed) == ("CHURN-1", f"{jira.url}/browse/CHURN-1", False)
    [post] = jira.sent("POST", "/rest/api/2/issue")
    fields = post.body["fields"]
    assert fields["project"] == {"key": "CHURN"}
    assert fields["issuetype"] == {"name": "Bug"}
    assert fields["summary"] == SPEC.title
    assert fields["labels"] == ["dspo", "ml_health", fingerprint_label(FP)]
    assert fields[POINTS_FIELD] == 3
    assert "auc = 0.71 (threshold < 0.75)" in fields["description"]
    assert "[MLflow run|http://mlflow.local/#/runs/42]" in fields["description"]
    expected = base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
    assert post.headers["authorization"] == f"Basic {expected}"


def test_find_looks_up_the_fingerprint_label_with_jql(jira: FakeJira, sink: JiraIssueSink) -> None:
    created = sink.create(SPEC)
    sink.create(spec("ffff0000ffff0000ffff"))

    found = sink.find(FP)

    assert found is not None and found.key == created.key and not found.closed
    [search] = jira.sent("GET", "/rest/api/2/search/jql")
    assert search.query["jql"] == [
        f'project = "CHURN" AND labels = "{fingerprint_label(FP)}" ORDER BY created DESC'
    ]
    assert sink.find("0123456789abcdef0123") is None


def test_find_prefers_an_open_issue_then_the_newest(jira: FakeJira, sink: JiraIssueSink) -> None:
    older = sink.create(spec(FP, "first"))
    newer = sink.create(spec(FP, "second"))
    jira.close_by_hand(newer.key, "Done")

    found = sink.find(FP)
    assert found is not None and found.key == older.key

    jira.close_by_hand(older.key, "Done")
    found = sink.find(FP)
    assert found is not None and found.key == newer.key and found.closed
    assert found.resolution == "Done" and found.closed_at is not None
    assert found.closed_at.utcoffset() is not None


def test_server_info_is_asked_once_and_data_center_gets_the_classic_search() -> None:
    with FakeJira(user=USER, token=TOKEN, deployment="Server") as fake:
        sink = JiraIssueSink(settings(fake.url), timeout=2)
        sink.create(SPEC)
        assert sink.find(FP) is not None
        assert sink.find(FP) is not None
        assert len(fake.sent("GET", "/rest/api/2/serverInfo")) == 1
        assert len(fake.sent("GET", "/rest/api/2/search")) == 2
        assert fake.sent("GET", "/rest/api/2/search/jql") == []


def test_the_removed_search_fails_on_cloud_as_jira_cloud_answers(jira: FakeJira) -> None:
    """Guards the fake as much as the sink: Cloud answers the old endpoint with 410."""
    sink = JiraIssueSink(settings(jira.url), timeout=2, cloud=False)
    with pytest.raises(SinkError, match=r"410.*removed") as caught:
        sink.find(FP)
    assert not caught.value.retriable


# ------------------------------------------------------------ comment, resolve, reopen


def test_comment_posts_the_text(jira: FakeJira, sink: JiraIssueSink) -> None:
    ref = sink.create(SPEC)
    sink.comment(ref, "Still firing: auc = 0.69")
    [post] = jira.sent("POST", "/rest/api/2/issue/CHURN-1/comment")
    assert post.body == {"body": "Still firing: auc = 0.69"}


def test_resolve_comments_then_applies_the_transition_found_by_name(
        jira: FakeJira, sink: JiraIssueSink) -> None:
    ref = sink.create(SPEC)

    resolved = sink.resolve(ref, "Recovered: auc = 0.80")

    assert resolved.closed and resolved.resolution == "Done" and resolved.closed_at is not None
    assert jira.comments["CHURN-1"] == ["Recovered: auc = 0.80"]
    assert len(jira.sent("GET", "/rest/api/2/issue/CHURN-1/transitions")) == 1
    [post] = jira.sent("POST", "/rest/api/2/issue/CHURN-1/transitions")
    assert str(post.body["transition"]["id"]) == "31"  # "Done" in the fake's workflow
    order = [r.path for r in jira.requests if r.method == "POST"]
    assert order[-2:] == ["/rest/api/2/issue/CHURN-1/comment",
                          "/rest/api/2/issue/CHURN-1/transitions"]


def test_resolve_without_a_transition_only_comments(jira: FakeJira) -> None:
    sink = JiraIssueSink(settings(jira.url, resolve_transition=None), timeout=2)
    ref = sink.create(SPEC)
    assert not sink.resolve(ref, "Recovered").closed
    assert jira.sent("GET", r".*/transitions") == [] and jira.comments["CHURN-1"] == ["Recovered"]


def test_reopen_comments_and_moves_back_to_to_do(jira: FakeJira, sink: JiraIssueSink) -> None:
    ref = sink.resolve(sink.create(SPEC), "Recovered")

    reopened = sink.reopen(ref, "Firing again: auc = 0.70")

    assert not reopened.closed and reopened.resolution is None
    posts = jira.sent("POST", "/rest/api/2/issue/CHURN-1/transitions")
    assert [str(p.body["transition"]["id"]) for p in posts] == ["31", "11"]
    assert jira.issues["CHURN-1"]["fields"]["status"]["name"] == "To Do"


def test_resolve_leaves_an_issue_closed_by_hand_as_it_is(
        jira: FakeJira, sink: JiraIssueSink) -> None:
    ref = sink.create(SPEC)
    jira.close_by_hand(ref.key, "Won't Fix")

    resolved = sink.resolve(ref, "Recovered")

    assert resolved.closed and resolved.resolution == "Won't Fix"
    assert jira.sent("POST", r".*/transitions") == []


def test_a_transition_the_workflow_lacks_is_a_fatal_error(jira: FakeJira) -> None:
    sink = JiraIssueSink(settings(jira.url, resolve_transition="Close Issue"), timeout=2)
    ref = sink.create(SPEC)
    with pytest.raises(SinkError, match=r"no transition 'Close Issue'.*Done") as caught:
        sink.resolve(ref, "Recovered")
    assert not caught.value.retriable


@pytest.mark.parametrize(
    ("resolution", "ignored"),
    [("Won't Fix", True), ("won\u2019t fix", True), ("Duplicate", True), ("Done", False),
     (None, False)],
    ids=["wont-fix", "typographic-apostrophe", "duplicate", "done", "open"],
)
def test_is_ignored_by_resolution(jira: FakeJira, sink: JiraIssueSink, resolution: str | None,
                                  ignored: bool) -> None:
    ref = sink.create(SPEC)
    if resolution is not None:
        jira.close_by_hand(ref.key, resolution)
    found = sink.find(FP)
    assert found is not None and sink.is_ignored(found) is ignored


# ------------------------------------------------------------ failures


@pytest.mark.parametrize(
    ("status", "retriable"),
    [(429, True), (500, True), (502, True), (503, True), (400, False), (401, False),
     (403, False), (404, False)],
)
def test_http_errors_map_to_retriable_or_fatal(jira: FakeJira, sink: JiraIssueSink, status: int,
                                               retriable: bool) -> None:
    jira.fail_next(status, {"errorMessages": [f"injected {status}"], "errors": {}})
    with pytest.raises(SinkError) as caught:
        sink.create(SPEC)
    assert caught.value.retriable is retriable
    assert f"HTTP {status}" in str(caught.value) and "team-jira" in str(caught.value)
    assert jira.url in str(caught.value)
    assert len(jira.sent("POST", "/rest/api/2/issue")) == 1  # the library did not retry


def test_a_wrong_token_is_fatal_and_never_shown(jira: FakeJira) -> None:
    wrong = "wrong-token-77aa"
    sink = JiraIssueSink(settings(jira.url, token=wrong), timeout=2)
    with pytest.raises(SinkError, match="HTTP 401") as caught:
        sink.create(SPEC)
    assert not caught.value.retriable
    assert wrong not in error_text(caught.value) and TOKEN not in error_text(caught.value)
    assert wrong not in repr(sink)


def test_a_validation_error_names_the_field(jira: FakeJira) -> None:
    sink = JiraIssueSink(settings(jira.url, issue_type="Incident"), timeout=2)
    with pytest.raises(SinkError, match=r"HTTP 400.*valid issue type") as caught:
        sink.create(SPEC)
    assert not caught.value.retriable


def test_a_server_that_is_down_fails_fast_and_retriable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    sink = JiraIssueSink(settings(url), timeout=2)
    started = time.monotonic()
    with pytest.raises(SinkError) as caught:
        sink.find(FP)
    assert time.monotonic() - started < 3
    assert caught.value.retriable and url in str(caught.value)
    assert TOKEN not in error_text(caught.value)


def test_a_hung_server_times_out_retriable(jira: FakeJira) -> None:
    sink = JiraIssueSink(settings(jira.url), timeout=0.5, cloud=True)
    jira.stall(3)
    started = time.monotonic()
    with pytest.raises(SinkError, match="Timeout") as caught:
        sink.create(SPEC)
    assert time.monotonic() - started < 2.5
    assert caught.value.retriable


def test_build_sink_makes_a_jira_sink_without_a_request(jira: FakeJira) -> None:
    sink = build_sink(settings(jira.url))
    assert isinstance(sink, JiraIssueSink) and sink.name == "team-jira"
    assert jira.requests == []
    assert TOKEN not in repr(sink)
