"""WebhookSink against a fake Slack incoming webhook on 127.0.0.1: the messages it posts,
and how every failure becomes a SinkError that never shows the secret URL."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from fake_http import free_port
from fake_webhook import SECRET_PATH, FakeSlackWebhook

from alerts.sinks.base import SinkError, TicketRef, TicketSpec
from alerts.sinks.registry import build_sink
from alerts.sinks.webhook import WebhookSink
from config.alerting import WebhookSink as WebhookSettings

FP = "a1b2c3d4e5f6a7b8c9d0e1f2"
SECRET = SECRET_PATH.rsplit("/", 1)[1]
SPEC = TicketSpec(
    fingerprint=FP, rule="auc_below", product="churn", title="AUC of churn-model below 0.75",
    description="auc = 0.71 (threshold < 0.75) for 1h", severity="critical",
    links=(("MLflow run", "http://mlflow.local/#/runs/42"),),
)


def settings(url: str, **overrides: Any) -> WebhookSettings:
    values: dict[str, Any] = {"name": "po-channel", "kind": "webhook", "url": url,
                              "timeout_seconds": 2}
    return WebhookSettings(**(values | overrides))


@pytest.fixture
def slack() -> Iterator[FakeSlackWebhook]:
    with FakeSlackWebhook() as fake:
        yield fake


@pytest.fixture
def sink(slack: FakeSlackWebhook) -> Iterator[WebhookSink]:
    s = WebhookSink(settings(slack.webhook_url))
    yield s
    s.close()


def error_text(e: BaseException) -> str:
    return "".join(traceback.format_exception(e)) + repr(e)


def test_create_posts_a_firing_message_with_rule_value_and_threshold(
        slack: FakeSlackWebhook, sink: WebhookSink) -> None:
    ref = sink.create(SPEC)

    assert ref.key == FP and ref.sink == "po-channel" and not ref.closed
    [request] = slack.sent("POST", SECRET_PATH)
    assert request.headers["content-type"] == "application/json"
    [message] = slack.messages
    text = message["text"]
    assert text.startswith("FIRING [critical] AUC of churn-model below 0.75")
    assert "auc_below" in text and "0.71" in text and "threshold &lt; 0.75" in text
    types = [block["type"] for block in message["blocks"]]
    assert types == ["header", "section", "section", "context"]
    assert message["blocks"][0]["text"] == {
        "type": "plain_text", "text": "FIRING: AUC of churn-model below 0.75"}
    assert message["blocks"][2]["text"]["text"] == "<http://mlflow.local/#/runs/42|MLflow run>"
    assert FP in message["blocks"][3]["elements"][0]["text"]


def test_find_asks_nothing_and_finds_nothing(slack: FakeSlackWebhook, sink: WebhookSink) -> None:
    assert sink.find(FP) is None
    assert slack.requests == []


def test_comment_resolve_and_reopen_post_one_message_each(slack: FakeSlackWebhook,
                                                           sink: WebhookSink) -> None:
    ref = sink.create(SPEC)
    sink.comment(ref, "Still firing: auc = 0.69")
    resolved = sink.resolve(ref, "Recovered: auc = 0.80")
    reopened = sink.reopen(resolved, "Firing again: auc = 0.70")

    assert resolved.closed and not reopened.closed
    heads = [m["blocks"][0]["text"]["text"] for m in slack.messages[1:]]
    title = SPEC.title
    assert heads == [f"UPDATE: {title}", f"RESOLVED: {title}", f"FIRING again: {title}"]
    assert "auc = 0.80" in slack.messages[2]["text"] and "auc_below" in slack.messages[2]["text"]


def test_a_ref_without_extra_still_names_the_fingerprint(slack: FakeSlackWebhook,
                                                         sink: WebhookSink) -> None:
    sink.resolve(TicketRef(sink="po-channel", key=FP), "Recovered")
    assert slack.messages[0]["text"].startswith(f"RESOLVED: alert {FP}")


def test_text_from_sources_cannot_ping_or_link(slack: FakeSlackWebhook, sink: WebhookSink) -> None:
    sink.create(TicketSpec(fingerprint=FP, rule="r", product="p",
                           title="run <!channel> & <http://evil|x>", description="<@U123>"))
    message = slack.messages[0]
    assert "<!channel>" not in message["text"] and "&lt;!channel&gt; &amp;" in message["text"]
    assert message["blocks"][1]["text"]["text"] == "&lt;@U123&gt;"


@pytest.mark.parametrize(
    ("status", "body", "retriable"),
    [(400, "invalid_payload", False), (403, "invalid_token", False), (404, "no_service", False),
     (410, "channel_is_archived", False), (429, "rate_limited", True),
     (500, "rollup_error", True), (503, "service_unavailable", True)],
)
def test_http_errors_map_to_retriable_or_fatal(slack: FakeSlackWebhook, sink: WebhookSink,
                                               status: int, body: str, retriable: bool) -> None:
    slack.fail_next(status, body, headers={"Retry-After": "30"} if status == 429 else None)
    with pytest.raises(SinkError) as caught:
        sink.create(SPEC)
    assert caught.value.retriable is retriable
    assert f"HTTP {status}: {body}" in str(caught.value) and "po-channel" in str(caught.value)
    assert slack.url in str(caught.value) and SECRET not in error_text(caught.value)


def test_a_wrong_hook_path_is_fatal(slack: FakeSlackWebhook) -> None:
    sink = WebhookSink(settings(slack.url + "/services/T0/B0/revoked"))
    with pytest.raises(SinkError, match="HTTP 404: no_service") as caught:
        sink.create(SPEC)
    assert not caught.value.retriable and "revoked" not in str(caught.value)


def test_a_server_that_is_down_fails_fast_and_retriable() -> None:
    url = f"http://127.0.0.1:{free_port()}{SECRET_PATH}"
    sink = WebhookSink(settings(url))
    started = time.monotonic()
    with pytest.raises(SinkError) as caught:
        sink.create(SPEC)
    assert time.monotonic() - started < 3
    assert caught.value.retriable and "ConnectError" in str(caught.value)
    assert SECRET not in error_text(caught.value)


def test_a_hung_server_times_out_retriable(slack: FakeSlackWebhook) -> None:
    sink = WebhookSink(settings(slack.webhook_url, timeout_seconds=0.5))
    slack.stall(3)
    started = time.monotonic()
    with pytest.raises(SinkError, match="Timeout") as caught:
        sink.create(SPEC)
    assert time.monotonic() - started < 2.5
    assert caught.value.retriable


def test_httpx_request_logs_hide_the_url(slack: FakeSlackWebhook, sink: WebhookSink,
                                         caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="httpx"):
        sink.create(SPEC)
    lines = [record.getMessage() for record in caplog.records if record.name == "httpx"]
    assert lines and all(SECRET not in line for line in lines)
    assert any("HTTP Request: POST" in line for line in lines)


def test_build_sink_and_repr_hide_the_url(slack: FakeSlackWebhook) -> None:
    sink = build_sink(settings(slack.webhook_url))
    assert isinstance(sink, WebhookSink)
    assert SECRET not in repr(sink) and slack.url in repr(sink)
    assert slack.requests == []
