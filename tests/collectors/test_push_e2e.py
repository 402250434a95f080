"""End to end: `dspo serve` on 127.0.0.1, and the guide's curl commands run as written.

The commands are taken from docs/push-api.md and run by bash with real curl against the
real server (the dashboard's Flask server with the push API mounted), on both store
backends; what they wrote is then read back through store/queries.py. On a machine
without curl the same requests (URL, header, body from each command) go through httpx.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from push_helpers import HEREDOC, TOKEN, curl_path, guide_curls

from dspo.devserver import serving
from store import queries
from store.db import Store

pytestmark = pytest.mark.slow
CURL = shutil.which("curl")


def _config(tmp_path: Path, store: Store) -> Path:
    config = {
        "store": {"url": store.url},
        "products": [{"key": "churn", "name": "Churn"}],
        "sources": [{"name": "jenkins", "kind": "push", "product": "churn",
                     "token": "${JENKINS_PUSH_TOKEN}", "system": "jenkins"}],
    }
    path = tmp_path / "dspo.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _run(command: str, url: str) -> dict[str, Any]:
    env = {"DSPO_URL": url.rstrip("/"), "JENKINS_PUSH_TOKEN": TOKEN}
    if CURL is None:
        return _as_httpx(command, env)
    out = subprocess.run(["bash", "-c", command], env={**os.environ, **env},
                         capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _as_httpx(command: str, env: dict[str, str]) -> dict[str, Any]:
    """The request a guide's curl command makes, made with httpx."""
    for name, value in env.items():
        command = command.replace(f"${name}", value)
    target = re.search(r"(http://\S+?)[\"\s]", command + " ")
    token = re.search(r"Authorization: Bearer ([^\"]+)", command)
    body = HEREDOC.search(command)
    assert target, command
    if body is None:
        answer = httpx.get(target.group(1), timeout=60)
    else:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token.group(1)}"
        answer = httpx.post(target.group(1), content=body.group(1), headers=headers,
                            timeout=60)
    return answer.json()  # type: ignore[no-any-return]


def test_the_guides_curl_commands_against_dspo_serve(store: Store, tmp_path: Path) -> None:
    config = _config(tmp_path, store)
    env = {"JENKINS_PUSH_TOKEN": TOKEN}
    with serving(config, env, tmp_path / "serve.log") as url:
        for command in guide_curls():
            first = _run(command, url)
            assert first["rows_written"] > 0, (curl_path(command), first)
            assert _run(command, url) == {"rows_written": 0, "records": first["records"]}
        wrong = command.replace("$JENKINS_PUSH_TOKEN", "not-the-token-at-all")
        assert _run(wrong, url)["error"].startswith("wrong token for push source 'jenkins'")
        document = _run(f"curl -sS {url}api/v1/openapi.json", url)
        assert document["openapi"] == "3.1.0"
    log = (tmp_path / "serve.log").read_text()
    assert TOKEN not in log

    assert queries.pipeline_runs(store, "churn")["run_id"].tolist() == ["churn-scoring#4711"]
    assert queries.resolve_version(store, "churn", "churn-clf", alias="production") == "7"
    assert len(queries.model_metric_points(store, "churn", "churn-clf", "7", "auc")) == 2
    assert queries.drift_reports(store, "churn")["drifted_count"].tolist() == [1]
    assert queries.backlog_items(store, "churn")["key"].tolist() == ["ML-142"]
    status = queries.collector_status(store).set_index("source").loc["jenkins"]
    assert (status["kind"], status["status"], status["rows_written"]) == ("push", "ok", 0)
