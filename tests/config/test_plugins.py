"""Source kinds from third-party packages, through the `dspo.collectors` entry point group.

The plugin is the worked example of docs/plugins.md (docs/examples/plugin), made visible
to a `dspo` child process the way pip would: its package and a `.dist-info` folder with its
entry points on the path. Nothing is installed into the test environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from config.sources import ENTRY_POINT_GROUP, source_models
from store import queries
from store.db import Store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "plugin"


def install(site: Path, entry_points: dict[str, str]) -> None:
    """What `pip install` leaves behind that importlib.metadata reads."""
    shutil.copytree(EXAMPLE / "dspo_jsonl_runs", site / "dspo_jsonl_runs")
    info = site / "dspo_jsonl_runs-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dspo-jsonl-runs\nVersion: 0.1.0\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")


def example_entry_points() -> dict[str, str]:
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    return dict(project["project"]["entry-points"][ENTRY_POINT_GROUP])


def dspo(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "MLFLOW_DISABLE_TELEMETRY": "true",
           "DO_NOT_TRACK": "1"}
    return subprocess.run([sys.executable, "-m", "dspo.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def config(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "dspo.yaml"
    path.write_text(f"""
store: {{url: "sqlite:///{tmp_path / 'dspo.db'}"}}
products: [{{key: p, name: P}}]
sources:
  - {source}
""")
    return path


def test_builtin_kinds_register_through_the_same_entry_points() -> None:
    kinds = source_models()
    for kind in ("mlflow", "mlflow_pipelines", "evidently", "sql_kpis", "files"):
        assert kinds[kind].__module__.startswith("config.sources.")


def test_a_plugin_kind_is_validated_and_collected(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install(site, example_entry_points())
    log = tmp_path / "runs.jsonl"
    log.write_text(
        '{"pipeline": "nightly-export", "run_id": "41", "state": "success", '
        '"start": "2026-03-01T02:00:00+00:00", "end": "2026-03-01T02:07:30+00:00"}\n'
        '{"pipeline": "nightly-export", "run_id": "42", "state": "failed", '
        '"start": "2026-03-02T02:00:00+00:00", "end": "2026-03-02T02:01:00+00:00"}\n')
    path = config(tmp_path, f"{{name: cron, kind: jsonl_runs, product: p, path: {log}}}")
    checked = dspo(site, "config", "check", str(path))
    assert checked.returncode == 0, checked.stderr
    collected = dspo(site, "collect", "-c", str(path))
    assert collected.returncode == 0, collected.stderr
    store = Store(f"sqlite:///{tmp_path / 'dspo.db'}")
    runs = queries.pipeline_runs(store, "p")
    store.dispose()
    assert runs[["run_id", "state"]].values.tolist() == [["41", "success"], ["42", "failed"]]
    assert runs["system"].unique().tolist() == ["cron"]


def test_a_plugin_kinds_errors_carry_their_yaml_path(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install(site, example_entry_points())
    path = config(tmp_path, "{name: cron, kind: jsonl_runs, product: p, paht: x.jsonl}")
    checked = dspo(site, "config", "check", str(path))
    assert checked.returncode == 1
    assert "sources[0].path: field required" in checked.stderr
    assert "sources[0].paht: unknown key" in checked.stderr


def test_without_the_plugin_its_kind_is_unknown(tmp_path: Path) -> None:
    path = config(tmp_path, "{name: cron, kind: jsonl_runs, product: p, path: x.jsonl}")
    checked = dspo(tmp_path, "config", "check", str(path))
    assert checked.returncode == 1
    assert "jsonl_runs" in checked.stderr and "does not match any of the expected" in checked.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("dspo_missing.settings:Nope", "cannot be imported"),
        ("dspo_jsonl_runs.collector:JsonlRunsCollector", "is not a subclass of"),
    ],
    ids=["missing-module", "not-a-settings-model"],
)
def test_a_broken_plugin_is_named(tmp_path: Path, value: str, message: str) -> None:
    site = tmp_path / "site"
    install(site, {"broken_kind": value})
    path = config(tmp_path, "{name: b, kind: files, product: p, items: x.csv}")
    checked = dspo(site, "config", "check", str(path))
    assert checked.returncode == 1
    assert f"{ENTRY_POINT_GROUP}:broken_kind = {value}" in checked.stderr
    assert "dspo-jsonl-runs" in checked.stderr and message in checked.stderr
