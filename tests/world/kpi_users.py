"""The small world's dashboard in-process, with people who may or may not open its KPI
pages, and the requests a browser would send (sign-in form, Dash's router, a callback).

Used by the tests of stakeholder pages, share links and exports through Flask's test
client (`create_app`, the dashboard as `dspo serve` builds it, without the push API).

People: `ada` admin; `ana` PO of shop; `bo` PO of another product only; `sam`
stakeholder in `shop-review`'s audience; `lee` in `shop-board`'s (unlisted); `kim` in
no audience.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.loader import load_config
from dashboard.app import create_app
from dashboard.auth.access import ROUTER_OUTPUT
from dspo.users import add
from store.db import Store
from world import small

PASSWORD = "correct-horse-battery"
PEOPLE = (("ada", "admin", []), ("ana", "po", ["shop"]), ("bo", "po", ["elsewhere"]),
          ("sam", "stakeholder", []), ("lee", "stakeholder", []),
          ("kim", "stakeholder", []))
SEARCH = "?end=2026-03-15"  # the pages as of small.AS_OF


@dataclass(frozen=True)
class App:
    server: Any
    store: Store

    def client(self, username: str | None = None) -> Any:
        """A test client, signed in as `username` through the sign-in form."""
        client = self.server.test_client()
        if username is not None:
            form = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="form_token" value="([^"]+)"', form)
            assert token is not None
            answer = client.post("/login", data={"username": username, "password": PASSWORD,
                                                 "form_token": token.group(1), "next": "/"})
            assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
        return client


def build(folder: Path) -> Iterator[App]:
    world = small.build(folder)
    config = load_config(world.config_path)
    store = Store(config.store.url)
    for name, role, products in PEOPLE:
        add(store, name, role, products=products, password=PASSWORD)
    try:
        yield App(create_app(config, store).server, store)
    finally:
        store.dispose()


def router(client: Any, path: str, search: str = "") -> Any:
    """Dash's page router callback, as the browser sends it."""
    return client.post("/_dash-update-component", json={
        "output": ROUTER_OUTPUT,
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"]})


def share_callback(client: Any, path: str, *, create: bool = True, days: object = 7,
                   revoke: str | None = None) -> Any:
    """The KPI page's Share panel callback: make a link, or revoke `revoke`."""
    revoke_inputs = [{"id": {"type": "kpi-share-revoke", "link": revoke},
                      "property": "n_clicks", "value": 1}] if revoke else []
    pattern = {"type": "kpi-share-revoke", "link": revoke}
    changed = (json.dumps(pattern, sort_keys=True, separators=(",", ":")) + ".n_clicks"
               if revoke else "kpi-share-create.n_clicks")
    return client.post("/_dash-update-component", json={
        "output": "kpi-share-body.children",
        "outputs": {"id": "kpi-share-body", "property": "children"},
        "inputs": [{"id": "kpi-share-create", "property": "n_clicks",
                    "value": 1 if create and not revoke else None}, revoke_inputs],
        "state": [{"id": "kpi-share-days", "property": "value", "value": days},
                  {"id": "url", "property": "pathname", "value": path}],
        "changedPropIds": [changed]})


def share_url(answer: Any) -> str | None:
    """The new link's URL in the Share panel's answer, None when it made none."""
    found = re.search(r'"value":"([^"]+)"[^{}]*"id":"kpi-share-url"',
                      json.dumps(answer.get_json(), separators=(",", ":")))
    return found.group(1) if found else None


def texts(answer: Any) -> dict[str, str]:
    """Every component with a data-testid in a callback's answer -> its text."""
    found: dict[str, str] = {}

    def text(node: Any) -> str:
        if isinstance(node, str | int | float):
            return str(node)
        if isinstance(node, list):
            return "".join(text(n) for n in node)
        if isinstance(node, dict) and isinstance(node.get("props"), dict):
            return text(node["props"].get("children"))
        return ""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "data-testid" in node:  # a component's props
                found[str(node["data-testid"])] = text(node.get("children"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(answer.get_json())
    return found
