"""`dspo alerts ...` end to end on a SQLite store: evaluate, test, silence, ack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from alert_world import dau, rule
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
