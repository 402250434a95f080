"""The engine and the outbox against the fake Jira Cloud on 127.0.0.1 (`fake_jira.py`):
an outage of several evaluations files exactly one issue once Jira is back, a lost store
finds that issue instead of filing another, and Won't Fix is never reopened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_world import MIN, NO_WAIT, T0, config, dau, rule, run, seed
from fake_jira import POINTS_FIELD, FakeJira

from alerts.delivery import deliver
from alerts.sinks.base import fingerprint_label
from alerts.sinks.jira import JiraIssueSink
from store import queries
from store.db import Store

USER, TOKEN = "po@example.com", "jira-token-for-tests"


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira(user=USER, token=TOKEN) as fake:
        yield fake


def _config(url: str):
    sink = {"name": "jira", "kind": "jira", "url": url, "user": USER, "token": TOKEN,
            "project": "CHURN", "points_field": POINTS_FIELD}
    return config(rule(sinks=["jira"], reopen_window="1d"), sinks=[sink])


@pytest.fixture
def sink(jira: FakeJira) -> Iterator[JiraIssueSink]:
    s = JiraIssueSink(_config(jira.url).sinks[0], timeout=2, cloud=True)  # type: ignore[arg-type]
    yield s
    s.close()


def _fire(store: Store, cfg, at, value=50.0):
    dau(store, at - MIN, value)
    return run(store, cfg, at)


def test_jira_down_for_three_evaluations_then_back_files_one_issue(store, jira, sink):
    cfg = _config(jira.url)
    seed(store, cfg)
    jira.fail_next(503, {"errorMessages": ["Service Unavailable"]}, times=3)
    [o] = _fire(store, cfg, T0 + MIN)
    for i in range(3):
        now = T0 + (i + 1) * MIN
        run(store, cfg, now)
        report = deliver(store, {"jira": sink}, now, rng=NO_WAIT)  # no backoff wait
        assert report.delivered == [] and "503" in report.failed[0], report
    assert queries.outbox(store)["attempts"].tolist() == [3]
    report = deliver(store, {"jira": sink}, T0 + 5 * MIN)
    assert [d.split()[0] for d in report.delivered] == ["create@jira"]
    [issue] = jira.issues.values()
    assert fingerprint_label(o.fingerprint) in issue["fields"]["labels"]
    assert issue["fields"]["summary"] == "DAU of churn down to 50"
    assert queries.outbox(store).empty
    creates = jira.sent("POST", r"/rest/api/(2|3)/issue")
    assert len(creates) == 1


def test_a_lost_store_finds_the_jira_issue(store, jira, sink, tmp_path: Path):
    cfg = _config(jira.url)
    seed(store, cfg)
    _fire(store, cfg, T0 + MIN)
    deliver(store, {"jira": sink}, T0 + MIN)
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.upgrade()
    seed(fresh, cfg)
    try:
        _fire(fresh, cfg, T0 + 2 * MIN)
        report = deliver(fresh, {"jira": sink}, T0 + 2 * MIN)
        assert len(jira.issues) == 1 and "commented on open" in report.delivered[0]
        assert queries.alert_tickets(fresh)["key"].tolist() == list(jira.issues)
    finally:
        fresh.dispose()


def test_wont_fix_in_jira_is_never_reopened(store, jira, sink):
    cfg = _config(jira.url)
    seed(store, cfg)
    _fire(store, cfg, T0 + MIN)
    deliver(store, {"jira": sink}, T0 + MIN)
    [key] = jira.issues
    jira.close_by_hand(key, "Won't Fix")
    _fire(store, cfg, T0 + 2 * MIN, value=150)
    deliver(store, {"jira": sink}, T0 + 2 * MIN)
    _fire(store, cfg, T0 + 3 * MIN)
    report = deliver(store, {"jira": sink}, T0 + 3 * MIN)
    assert f"not reopened: {key} was closed as Won't Fix" in report.delivered[0]
    assert list(jira.issues) == [key]
    assert jira.issues[key]["fields"]["status"]["name"] == "Done"
