"""The hostile world (tests/world/hostile.py) served in-process by `create_web_app`, the
whole app as `dspo serve` builds it (dashboard, push API, security), and the requests a
browser would send to it: signed in through the sign-in form, callbacks with the CSRF
cookie echoed in its header, so a refusal is always the guard's, never CSRF's, and the
body of any callback built from its spec in `/_dash-dependencies`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dash import Dash
from secured_app import router_body
from world import hostile

from config.loader import load_config
from config.schema import DspoConfig
from dashboard.auth.access import ROUTER_OUTPUT
from dspo.web import create_web_app
from store.db import Store

CALLBACK = "/_dash-update-component"


@dataclass(frozen=True)
class HostileApp:
    app: Dash
    config: DspoConfig
    store: Store
    world: hostile.HostileWorld

    @property
    def server(self) -> Any:
        return self.app.server

    def client(self, username: str | None = None) -> Any:
        """A test client holding the CSRF cookie; signed in as `username` unless None."""
        client = self.server.test_client()
        form = client.get("/login")
        assert client.get_cookie("_csrf_token") is not None
        if username is not None:
            token = re.search(r'name="form_token" value="([^"]+)"', form.get_data(as_text=True))
            assert token is not None
            answer = client.post("/login", data={
                "username": username, "password": hostile.PASSWORD,
                "form_token": token.group(1), "next": "/"})
            assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
        return client


def build(folder: Path) -> Iterator[HostileApp]:
    world = hostile.build(folder)
    config = load_config(world.config_path, env=hostile.ENV)
    store = Store(config.store.url)
    try:
        yield HostileApp(create_web_app(config, store), config, store, world)
    finally:
        store.dispose()


def post(client: Any, body: Any, path: str = CALLBACK) -> Any:
    """POST a callback body as Dash's renderer does: JSON, CSRF cookie echoed in header."""
    cookie = client.get_cookie("_csrf_token")
    headers = {"X-CSRFToken": cookie.value} if cookie is not None else {}
    return client.post(path, data=json.dumps(body), headers=headers,
                       content_type="application/json")


def router(client: Any, pathname: str, search: str = "") -> Any:
    return post(client, router_body(pathname, search))


# ---------------------------------------------------------------- any callback


def _ident(text: str) -> str | dict[str, Any]:
    return json.loads(text) if text.startswith("{") else text


def _wildcard(ident: str | dict[str, Any]) -> bool:
    """A pattern-matching id (ALL, ALLSMALLER, MATCH): Dash sends a list of matches."""
    return isinstance(ident, dict) and any(isinstance(v, list) for v in ident.values())


def output_key(output: str) -> str:
    """A callback's output without the `@hash` Dash appends to a duplicate output."""
    return re.sub(r"@[0-9a-f]{64}", "", output)


def callback_body(dep: dict[str, Any], values: dict[tuple[str, str], Any] | None = None
                  ) -> dict[str, Any]:
    """The body the renderer would send for `dep`, every value None unless in `values`
    ((id, property) -> value); a pattern-matching dependency matches no component."""
    values = values or {}

    def entry(item: dict[str, str]) -> Any:
        ident = _ident(item["id"])
        if _wildcard(ident):
            return []
        return {"id": ident, "property": item["property"],
                "value": values.get((item["id"], item["property"]))}

    spec = output_key(dep["output"])
    multi = spec.startswith("..") and spec.endswith("..")
    outputs = []
    for part in spec[2:-2].split("...") if multi else [spec]:
        ident, prop = part.rsplit(".", 1)
        outputs.append([] if _wildcard(_ident(ident)) else {"id": _ident(ident),
                                                             "property": prop})
    inputs = [entry(i) for i in dep["inputs"]]
    changed = [f"{i['id']}.{i['property']}" for i in dep["inputs"]
               if not _wildcard(_ident(i["id"]))][:1]
    return {"output": dep["output"], "outputs": outputs if multi else outputs[0],
            "inputs": inputs, "state": [entry(s) for s in dep["state"]],
            "changedPropIds": changed}


def server_callbacks(dependencies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every callback that runs on the server (clientside ones never reach it)."""
    return [d for d in dependencies if not d.get("clientside_function")]


def guarded(dependencies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The server callbacks with a rule of their own (all but Dash's page router)."""
    return [d for d in server_callbacks(dependencies) if d["output"] != ROUTER_OUTPUT]
