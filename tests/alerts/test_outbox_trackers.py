"""Dead letters and Retry-After against the fake trackers on 127.0.0.1 (Jira, GitHub, a
Slack webhook), through their real client libraries: a fatal answer kills the action at
its first attempt with the tracker's own words, other alerts go on, a PO's retry sends it;
a rate limit's Retry-After is waited out to the second. SQLite and PostgreSQL (`store`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from alert_world import MIN, NO_WAIT, T0, config, dau, rule, run, seed
from fake_github import FakeGithub
from fake_http import FakeServer
from fake_jira import FakeJira
from fake_webhook import FakeSlackWebhook, text_reply

from alerts import deadletters
from alerts.delivery import deliver, retry_policies
from alerts.sinks.base import Sink
from alerts.sinks.github import GithubIssueSink
from alerts.sinks.jira import JiraIssueSink
from alerts.sinks.webhook import WebhookSink
from store import queries
from store.db import Store

SEC = timedelta(seconds=1)
USER, TOKEN = "po@example.com", "tracker-token-for-tests"


@dataclass
class Tracker:
    fake: FakeServer
    sink: Sink
    settings: dict[str, Any]

    def fail_next(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        """The tracker's own error shape for `text`."""
        if isinstance(self.fake, FakeJira):
            self.fake.fail_next(status, {"errorMessages": [text], "errors": {}}, headers=headers)
        elif isinstance(self.fake, FakeGithub):
            self.fake.fail_next(status, {"message": text, "documentation_url": "https://x"},
                                headers=headers)
        else:
            reply = text_reply(status, text, **(headers or {}))
            self.fake.fail_next(reply.status, reply.body, headers=reply.headers)


def _tracker(kind: str, stack: ExitStack) -> Tracker:
    if kind == "jira":
        jira = stack.enter_context(FakeJira(user=USER, token=TOKEN))
        settings = {"name": "t", "kind": "jira", "url": jira.url, "user": USER,
                    "token": TOKEN, "project": "CHURN"}
        sink: Sink = JiraIssueSink(config(sinks=[settings]).sinks[0], timeout=2, cloud=True)  # type: ignore[arg-type]
        return Tracker(jira, sink, settings)
    if kind == "github":
        github = stack.enter_context(FakeGithub(token=TOKEN))
        settings = {"name": "t", "kind": "github_issues", "repo": "acme/churn",
                    "token": TOKEN, "api_url": github.api_url}
        sink = GithubIssueSink(config(sinks=[settings]).sinks[0], timeout=2,  # type: ignore[arg-type]
                               pace_writes=False)
        return Tracker(github, sink, settings)
    slack = stack.enter_context(FakeSlackWebhook())
    settings = {"name": "t", "kind": "webhook", "url": slack.webhook_url}
    return Tracker(slack, WebhookSink(config(sinks=[settings]).sinks[0]), settings)  # type: ignore[arg-type]


@pytest.fixture(params=["jira", "github", "webhook"])
def tracker(request: pytest.FixtureRequest) -> Iterator[Tracker]:
    with ExitStack() as stack:
        t = _tracker(request.param, stack)
        stack.callback(t.sink.close)  # type: ignore[attr-defined]
        yield t


def _two_rules(tracker: Tracker):  # type: ignore[no-untyped-def]
    return config(rule(sinks=["t"]),
                  rule("wau-low", sinks=["t"],
                       condition={"kind": "usage", "kpi": "wau", "op": "<", "threshold": 100}),
                  sinks=[tracker.settings])


FATAL = {"jira": (403, "You do not have permission to create issues in this project."),
         "github": (404, "Not Found"), "webhook": (400, "invalid_payload")}


def test_a_fatal_answer_is_a_dead_letter_at_once(store: Store, tracker: Tracker,
                                                 request: pytest.FixtureRequest) -> None:
    kind = request.node.callspec.params["tracker"]
    status, text = FATAL[kind]
    cfg = _two_rules(tracker)
    seed(store, cfg)
    dau(store, T0 - MIN, 50)
    dau(store, T0 - MIN, 50, kpi="wau")
    run(store, cfg, T0)  # two alerts fire: two creations for sink t
    tracker.fail_next(status, text)  # the first request of the first creation is refused
    sinks = {"t": tracker.sink}
    policies = retry_policies(cfg)  # max_attempts 30: a fatal answer does not wait for it
    report = deliver(store, sinks, T0, policies=policies, rng=NO_WAIT)
    rows = queries.outbox(store, pending_only=False)
    first = rows.iloc[0]
    assert (first["state"], first["attempts"]) == ("dead", 1)
    assert f"HTTP {status}: {text}" in first["last_error"]  # the tracker's own answer
    assert report.dead == [f"#{first['id']} create@t: {first['last_error']}"]
    # A fatal answer is about that action: the other alert's creation went through.
    assert [d.split()[0] for d in report.delivered] == ["create@t"]
    assert rows["state"].tolist() == ["dead", "delivered"]
    asked = len(tracker.fake.requests)
    later = deliver(store, sinks, T0 + timedelta(days=1), policies=policies, rng=NO_WAIT)
    assert later.delivered == [] and len(tracker.fake.requests) == asked  # never retried
    deadletters.retry(store, [int(first["id"])], "ana", T0 + timedelta(days=1))
    done = deliver(store, sinks, T0 + timedelta(days=1), policies=policies, rng=NO_WAIT)
    assert [d.split()[0] for d in done.delivered] == ["create@t"]
    assert queries.outbox(store).empty


def test_retry_after_is_honoured_to_the_second(store: Store, tracker: Tracker) -> None:
    """429 with Retry-After: 120 at T0: not sent at T0+119s, sent at T0+120s, whatever the
    backoff would have drawn (jitter 0 would have made it due at once)."""
    cfg = config(rule(sinks=["t"]), sinks=[tracker.settings])
    seed(store, cfg)
    dau(store, T0 - MIN, 50)
    run(store, cfg, T0)
    tracker.fail_next(429, "Too many requests", {"Retry-After": "120"})
    sinks = {"t": tracker.sink}
    report = deliver(store, sinks, T0, rng=NO_WAIT)
    assert "HTTP 429" in report.failed[0]
    [row] = queries.outbox(store).to_dict("records")
    assert (row["state"], row["next_attempt_at"]) == ("pending", T0 + 120 * SEC)
    asked = len(tracker.fake.requests)
    assert deliver(store, sinks, T0 + 119 * SEC, rng=NO_WAIT).delivered == []
    assert len(tracker.fake.requests) == asked
    sent = deliver(store, sinks, T0 + 120 * SEC, rng=NO_WAIT)
    assert [d.split()[0] for d in sent.delivered] == ["create@t"]
