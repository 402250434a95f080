"""docker-compose.yml: valid against the compose specification, offline (no Docker here), and
wired to what dspo, MLflow and PostgreSQL really need: the checks the schema cannot make."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from cli_parse import cli_accepts

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, Any] = COMPOSE["services"]
ONE_SHOT = {"migrate"}


def _interpolate(text: str) -> str:
    """What compose does before splitting a command: ${VAR:?message} becomes VAR's value."""
    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)[^}]*\}", lambda m: m.group(1).lower(), text)


def _argv(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return shlex.split(_interpolate(command)) if isinstance(command, str) else list(command)


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_compose_file_matches_the_compose_spec() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    out = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_service_restarts_and_every_long_running_one_is_healthchecked() -> None:
    assert {"postgres", "mlflow", "migrate", "dashboard", "scheduler"} <= set(SERVICES)
    for name, service in SERVICES.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name  # it runs once and must stay done
            continue
        assert service["restart"] in ("unless-stopped", "always"), name
        assert service["healthcheck"]["test"], name


def test_migrations_run_once_before_the_dashboard_and_the_scheduler() -> None:
    assert _argv("migrate") == ["dspo", "db", "upgrade"]
    for name in ("dashboard", "scheduler"):
        assert SERVICES[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}, name
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_dspo_commands_are_ones_the_cli_accepts() -> None:
    cli_accepts(_argv("migrate"))
    cli_accepts(_argv("scheduler"))
    assert _argv("scheduler")[:3] == ["dspo", "collect", "--loop"]
    health = SERVICES["scheduler"]["healthcheck"]["test"]
    assert health[0] == "CMD"
    cli_accepts(health[1:])


def test_the_dashboard_runs_four_workers_answering_on_an_open_path() -> None:
    argv = _argv("dashboard")
    assert re.search(r"--workers[ =]4\b", " ".join(argv)), argv
    if argv[0] == "dspo":
        assert argv[:2] == ["dspo", "serve"], argv
        cli_accepts(argv)
    else:
        assert argv[0] == "gunicorn" and "dspo.wsgi:server" in argv, argv
    assert "/readyz" in " ".join(SERVICES["dashboard"]["healthcheck"]["test"])


def test_mlflow_keeps_its_store_in_the_postgresql_database_the_init_script_makes() -> None:
    argv = _argv("mlflow")
    store = urlsplit(_option(argv, "--backend-store-uri"))
    assert store.scheme.startswith("postgresql") and store.hostname == "postgres"
    database = store.path.lstrip("/")
    init = "\n".join(p.read_text() for p in (ROOT / "deploy/compose/postgres-init").glob("*.sql"))
    assert re.search(rf"^CREATE DATABASE {database}\b", init, re.MULTILINE), init
    assert "./deploy/compose/postgres-init:/docker-entrypoint-initdb.d:ro" in \
        SERVICES["postgres"]["volumes"]
    assert SERVICES["mlflow"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_mlflow_admits_the_host_dspo_calls_it_by() -> None:
    """MLflow 3 answers 403 to a Host header outside --allowed-hosts (localhost and private
    IPs by default): the collectors call it by its service name."""
    allowed = _option(_argv("mlflow"), "--allowed-hosts").split(",")
    tracking = urlsplit(COMPOSE["x-dspo"]["environment"]["MLFLOW_TRACKING_URI"])
    assert tracking.netloc in allowed  # mlflow:5000
    assert "127.0.0.1:*" in allowed  # its own healthcheck and the published port


def test_secrets_come_from_the_env_file_only() -> None:
    for name in ("mlflow", "dashboard", "scheduler", "migrate"):
        env = SERVICES[name]["environment"]
        assert env["MLFLOW_DISABLE_TELEMETRY"] == "true" and env["DO_NOT_TRACK"] == "1", name
    for name in ("dashboard", "scheduler", "migrate"):
        assert SERVICES[name]["env_file"] == ".env", name
    # every variable compose interpolates is one .env.example documents, and is required
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", COMPOSE_TEXT))
    example = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
               if line and not line.startswith("#")}
    assert used and used <= example, used - example
    assert not re.search(r"\$\{[A-Z_]+(:?-)", COMPOSE_TEXT), "a secret with a default value"
    # the password appears only as an interpolation, never written out
    for match in re.finditer(r"dspo:([^@\s]+)@postgres", COMPOSE_TEXT):
        assert match.group(1).startswith("${POSTGRES_PASSWORD"), match.group(0)
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_named_volumes_are_declared(service: str) -> None:
    for volume in SERVICES[service].get("volumes", []):
        source = volume.split(":", 1)[0]
        if not source.startswith((".", "/")):
            assert source in COMPOSE["volumes"], (service, source)
        else:
            assert (ROOT / source).exists(), (service, source)
