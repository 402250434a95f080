"""docker-compose.yml: valid against the compose specification, offline (no Docker here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_matches_the_compose_spec() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    out = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_compose_services_are_healthchecked_and_call_no_home() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "mlflow", "dashboard", "collector"} <= set(services)
    for name in ("postgres", "mlflow", "dashboard"):
        assert "healthcheck" in services[name], name
    for name in ("mlflow", "dashboard", "collector", "migrate"):
        env = services[name]["environment"]
        assert env["MLFLOW_DISABLE_TELEMETRY"] == "true" and env["DO_NOT_TRACK"] == "1", name
    assert "pgdata" in compose["volumes"]
    # secrets come from the env file, never from the compose file itself
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${")
