"""Shared by the push API tests: sources, a Flask app serving the API, the docs' examples."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask

from collectors.push.api import mount
from config.sources.push import PushSource
from store.db import Store

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "push-api.md"
TOKEN = "jenkins-token-0123456789abcdef"
OTHER_TOKEN = "scripts-token-fedcba9876543210"
JENKINS = PushSource(name="jenkins", kind="push", product="churn", token=TOKEN)
SCRIPTS = PushSource(name="scripts", kind="push", product="churn", token=OTHER_TOKEN,
                     accepts=["metrics"], system="luigi")
NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def app_for(store: Store, *sources: PushSource, clock: Callable[[], datetime] = lambda: NOW
            ) -> flask.Flask:
    app = flask.Flask("push-test")
    mount(app, list(sources or (JENKINS, SCRIPTS)), store, clock=clock)
    return app


CURL_BLOCK = re.compile(r"```sh\n(curl .*?)\n```", re.S)
HEREDOC = re.compile(r"<<'JSON'\n(.*?)\nJSON", re.S)


def guide_curls() -> list[str]:
    """The curl commands of docs/push-api.md, in order."""
    return CURL_BLOCK.findall(GUIDE.read_text())


def curl_path(command: str) -> str:
    found = re.search(r"/api/v1/sources/[a-z0-9_.-]+/([a-z-]+)", command)
    assert found, command
    return found.group(1)


def curl_body(command: str) -> Any:
    import json

    found = HEREDOC.search(command)
    assert found, command
    return json.loads(found.group(1))
