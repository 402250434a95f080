"""The `jira` collector when Jira misbehaves: errors, rate limits, drips, broken answers.

Through the real `jira` client and `run_sources`, against the fake Jira of
tests/fakes/fake_jira_agile.py (Cloud unless said otherwise).
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from fake_jira_agile import T0, FakeJiraAgile, seed_team
from jira import JIRAError

from collectors.retry import failure_of
from collectors.runner import run_sources
from config.sources.jira import JiraSource
from store import queries
from store.db import Store

TOKEN = "secret-token-123"
WHEN = T0 + timedelta(days=2)


def source(fake: FakeJiraAgile, **settings: Any) -> JiraSource:
    auth: dict[str, Any] = {"email": fake.email} if fake.cloud else {}
    return JiraSource(**{
        "name": "jira", "kind": "jira", "product": "ds", "url": fake.url,
        "deployment": "cloud" if fake.cloud else "datacenter", "token": TOKEN,
        "project": "DS", **auth, **settings})


@pytest.fixture
def jira() -> Iterator[FakeJiraAgile]:
    with FakeJiraAgile(token=TOKEN) as fake:
        seed_team(fake)
        yield fake


def test_a_500_then_success(store: Store, jira: FakeJiraAgile) -> None:
    jira.fail_next(500, {"errorMessages": ["Internal server error"]})
    [result] = run_sources(store, [source(jira)], clock=lambda: WHEN)
    assert result.ok, result.error
    assert len(jira.sent("GET", r"/rest/api/2/field")) == 2  # the 500, then the retry
    assert len(queries.backlog_items(store, "ds")) == 7


def test_a_429_waits_as_long_as_retry_after_says(store: Store, jira: FakeJiraAgile) -> None:
    jira.fail_next(429, {"errorMessages": ["Rate limit exceeded."]},
                   headers={"Retry-After": "2"})
    [result] = run_sources(store, [source(jira)], clock=lambda: WHEN)
    assert result.ok, result.error
    waited = jira.times[1] - jira.times[0]
    assert 2.0 <= waited < 3.5, waited  # Retry-After (+0.1 s), not the 1-2 s backoff


def test_a_dripping_jira_is_cut_by_the_deadline(store: Store, jira: FakeJiraAgile) -> None:
    jira.drip(0.2)  # every answer one byte per 0.2 s: the first would take minutes
    with FakeJiraAgile(token=TOKEN) as healthy:
        seed_team(healthy)
        slow = source(jira, deadline="3s", read_timeout="2s")
        ok = source(healthy, name="jira-ok", product="other")
        started = time.monotonic()
        results = run_sources(store, [slow, ok], clock=lambda: WHEN)
        elapsed = time.monotonic() - started
    assert [r.ok for r in results] == [False, True]
    assert "deadline of 3s exceeded" in (results[0].error or "")
    assert elapsed < 6.0, elapsed  # about the deadline, not the minutes the drip needs
    assert len(queries.backlog_items(store, "other")) == 7
    assert queries.backlog_items(store, "ds").empty


@pytest.mark.parametrize("path", [r"/rest/api/2/search/jql", r"/rest/agile/1\.0/board"])
def test_malformed_json_fails_clearly_without_retrying(store: Store, jira: FakeJiraAgile,
                                                       path: str) -> None:
    jira.garbled = path
    [result] = run_sources(store, [source(jira)], clock=lambda: WHEN)
    assert not result.ok
    error = result.error or ""
    assert "source 'jira'" in error and jira.url in error
    assert "answered with a body that is not JSON" in error
    assert len(jira.sent("GET", path)) == 1  # a broken answer is not worth a retry
    assert queries.backlog_items(store, "ds").empty  # the run wrote nothing


@pytest.mark.parametrize("deployment", ["Cloud", "DataCenter"])
def test_a_401_names_source_url_and_what_to_check_never_the_token(
        store: Store, caplog: pytest.LogCaptureFixture, deployment: str) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-token-4567"
    with FakeJiraAgile(deployment=deployment, token=TOKEN) as fake:
        seed_team(fake)
        [result] = run_sources(store, [source(fake, token=wrong)], clock=lambda: WHEN)
        assert len(fake.requests) == 1  # a 401 is not retried
    error = result.error or ""
    assert not result.ok
    assert "source 'jira'" in error and fake.url in error
    assert "HTTP 401" in error and "check the source's credentials" in error
    encoded = base64.b64encode(f"{fake.email}:{wrong}".encode()).decode()
    for secret in (wrong, encoded):
        assert secret not in error
        assert secret not in caplog.text
    assert "wrong-token" not in caplog.text


def test_failure_of_reads_retry_after_from_a_jira_error() -> None:
    """`JIRAError.headers` are the *request's* headers; the wait is in the response's."""
    response = requests.Response()
    response.status_code = 429
    response.reason = "Too Many Requests"
    response.headers.update({"Retry-After": "7", "Content-Type": "application/json"})
    error = JIRAError("Rate limit exceeded.", status_code=429, url="https://x/rest/api/2/field",
                      response=response, headers={"Accept": "application/json"})
    failure = failure_of(error)
    assert failure is not None and failure.retriable
    assert failure.retry_after == 7.0
    assert failure.reason == "HTTP 429 Too Many Requests"


def test_a_refused_jql_says_what_jira_said(store: Store, jira: FakeJiraAgile) -> None:
    [result] = run_sources(store, [source(jira, jql="assignee ~~ me")], clock=lambda: WHEN)
    error = result.error or ""
    assert not result.ok
    assert "HTTP 400" in error and "check the query settings (JQL" in error
    assert "Jira says: Error in the JQL Query: cannot parse 'assignee ~~ me'." in error
