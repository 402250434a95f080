"""`dspo sources`: what each configured source's last run did, failures with their error."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dspo import collecting
from dspo.cli import app


def test_sources_lists_each_last_run_and_exits_2_on_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collecting.console, "width", 200)  # a wide terminal: no ellipses
    items = tmp_path / "items.csv"
    items.write_text("key,title,type,status,status_category,points,created\n"
                     "A-1,First,Story,Done,done,3,2026-02-01T10:00:00Z\n"
                     "A-2,Second,Bug,To Do,todo,1,2026-02-02T10:00:00Z\n")
    config = tmp_path / "dspo.yaml"
    config.write_text(f"""
store: {{url: "sqlite:///{tmp_path / 'dspo.db'}"}}
products: [{{key: p, name: P}}]
sources:
  - {{name: backlog, kind: files, product: p, items: {items}}}
  - {{name: gone, kind: files, product: p, items: {tmp_path / 'missing.csv'}}}
  - {{name: later, kind: files, product: p, items: {items}, enabled: false}}
""")
    runner = CliRunner()
    collected = runner.invoke(app, ["collect", "-c", str(config)])
    assert collected.exit_code == 2, collected.output
    again = runner.invoke(app, ["collect", "-c", str(config), "-s", "backlog"])
    assert again.exit_code == 0, again.output
    assert "0" in again.output  # rows written by a run with nothing new

    shown = runner.invoke(app, ["sources", "-c", str(config)])
    assert shown.exit_code == 2, shown.output
    lines = {line.split()[0]: line.split() for line in shown.output.splitlines() if line.strip()}
    # name, kind, product, last run (date and time), status, seconds, rows written, read
    assert lines["backlog"][5] == "ok" and lines["backlog"][7] == "0"
    assert lines["backlog"][8] == "2"  # records read: both items
    assert lines["gone"][5] == "failed"
    assert lines["later"][3:5] == ["–", "disabled"]
    assert "gone:" in shown.output and "missing.csv" in shown.output
