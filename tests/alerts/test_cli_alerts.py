"""`dspo alerts ...` end to end on a SQLite store: evaluate, test, silence (and its checks),
ack, and the outbox's list, retry and discard against a fake chat webhook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from alert_world import dau, rule
from fake_webhook import FakeSlackWebhook
from typer.testing import CliRunner

from dspo.cli import app
from store import queries
from store.db import Store


def _setup(tmp_path: Path) -> tuple[Path, Store]:
    url = f"sqlite:///{tmp_path / 'dspo.db'}"
    cfg = {"store": {"url": url}, "products": [{"key": "churn", "name": "Churn"}],
           "alerts": [rule()]}
    path = tmp_path / "dspo.yaml"
    path.write_text(yaml.safe_dump(cfg))
    store = Store(url)
    store.upgrade()
    dau(store, datetime.now(UTC) - timedelta(hours=1), 50)
    return path, store


def test_evaluate_test_silence_ack(tmp_path: Path) -> None:
    path, store = _setup(tmp_path)
    runner = CliRunner()
    out = runner.invoke(app, ["alerts", "test", "dau-low", "-c", str(path)])
    assert out.exit_code == 0, out.output
    assert "create@backlog" in out.output and queries.alerts(store).empty
    out = runner.invoke(app, ["alerts", "silence", "--rule", "dau-low", "--label", "kpi=dau",
                              "--for", "2h", "--reason", "planned", "-c", str(path)])
    assert out.exit_code == 0, out.output
    assert len(queries.silences(store, active_at=datetime.now(UTC))) == 1
    out = runner.invoke(app, ["alerts", "evaluate", "-c", str(path)])
    assert out.exit_code == 0, out.output
    assert "1 firing (silenced)" in out.output
    assert queries.backlog_items(store, "churn").empty  # silenced: nothing filed
    fp = queries.alerts(store)["fingerprint"].iloc[0]
    out = runner.invoke(app, ["alerts", "ack", fp, "--by", "ana", "-c", str(path)])
    assert out.exit_code == 0 and "acknowledged" in out.output
    assert queries.alerts(store)["acknowledged_by"].tolist() == ["ana"]
    out = runner.invoke(app, ["alerts", "silence", "--rule", "dau-low", "--for", "soon",
                              "--reason", "x", "-c", str(path)])
    assert out.exit_code != 0
    store.dispose()


@pytest.mark.parametrize(("args", "message"), [
    (["--for", "-2h"], "a silence cannot last a negative time ('-2h')"),
    (["--for", "0m"], "a silence must last longer than 0 ('0m')"),
    (["--for", "91d"], "a silence lasts at most 90 days, not 91d"),
    (["--for", "99999999999999999999w"], "a silence lasts at most 90 days"),
    (["--for", "soon"], "'soon' is not a duration: use a number and a unit"),
    (["--for", "2 hours"], "is not a duration"),
    (["--until", "tomorrow"], "'tomorrow' is not a time: give an ISO time"),
    (["--until", "2020-01-01T00:00"], "a silence must end after it starts"),
    (["--until", "2999-01-01"], "a silence lasts at most 90 days"),
    ([], "give either --until ISO-TIME or --for DURATION"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_silence_durations_are_checked_with_a_clear_message(tmp_path: Path, args, message):
    path, store = _setup(tmp_path)
    out = CliRunner().invoke(app, ["alerts", "silence", "--rule", "dau-low", *args,
                                   "--reason", "x", "-c", str(path)])
    assert out.exit_code == 1, out.output
    assert isinstance(out.exception, SystemExit)  # a message, not a traceback
    assert message in out.output
    assert queries.silences(store).empty
    store.dispose()


def _with_chat(tmp_path: Path, hook: str) -> tuple[Path, Store]:
    url = f"sqlite:///{tmp_path / 'dspo.db'}"
    cfg = {"store": {"url": url}, "products": [{"key": "churn", "name": "Churn"}],
           "alerts": [rule(sinks=["chat"])],
           "sinks": [{"name": "chat", "kind": "webhook", "url": hook}]}
    path = tmp_path / "dspo.yaml"
    path.write_text(yaml.safe_dump(cfg))
    store = Store(url)
    store.upgrade()
    return path, store


def test_outbox_list_retry_discard(tmp_path: Path) -> None:
    """The chat refuses the creation (403 invalid_token: fatal, so dead at the first
    attempt); `list` shows why; `retry` sends it once the hook answers. Then it refuses
    the resolution; `discard` gives that up, and `list --all` says who did."""
    runner = CliRunner()
    with FakeSlackWebhook() as chat:
        path, store = _with_chat(tmp_path, chat.webhook_url)
        dau(store, datetime.now(UTC) - timedelta(hours=1), 50)
        chat.fail_next(403, "invalid_token")
        out = runner.invoke(app, ["alerts", "evaluate", "-c", str(path)])
        assert out.exit_code == 0 and "dead letter" in out.output, out.output
        out = runner.invoke(app, ["alerts", "outbox", "list", "-c", str(path)])
        assert out.exit_code == 0, out.output
        assert "#1 dead create@chat rule dau-low (attempts 1)" in out.output
        assert "tracker's answer: sink 'chat'" in out.output
        assert "HTTP 403: invalid_token" in out.output
        assert "waiting behind it: 0; dspo alerts outbox retry 1 | discard 1" in out.output
        assert chat.messages == []
        out = runner.invoke(app, ["alerts", "outbox", "retry", "-c", str(path)])
        assert out.exit_code != 0 and "--all-dead" in out.output
        out = runner.invoke(app, ["alerts", "outbox", "retry", "1", "--by", "ana",
                                  "-c", str(path)])
        assert out.exit_code == 0 and "retried #1" in out.output, out.output
        assert len(chat.messages) == 1 and chat.messages[0]["text"].startswith("FIRING")

        dau(store, datetime.now(UTC) - timedelta(minutes=1), 150)
        chat.fail_next(403, "invalid_token")
        out = runner.invoke(app, ["alerts", "evaluate", "-c", str(path)])
        assert "dead letter #2 resolve@chat" in out.output, out.output
        out = runner.invoke(app, ["alerts", "outbox", "discard", "99", "-c", str(path)])
        assert out.exit_code == 1 and "no such dead row" in out.output
        out = runner.invoke(app, ["alerts", "outbox", "discard", "2", "--by", "ana",
                                  "-c", str(path)])
        assert out.exit_code == 0 and "discarded #2" in out.output, out.output
        out = runner.invoke(app, ["alerts", "outbox", "list", "-c", str(path)])
        assert "nothing to deliver" in out.output
        out = runner.invoke(app, ["alerts", "outbox", "list", "--all", "-c", str(path)])
        assert "#1 delivered create@chat" in out.output
        assert "#2 discarded resolve@chat" in out.output and "discarded by ana" in out.output
        assert len(chat.messages) == 1  # the resolution was given up, never posted
    store.dispose()
