"""The whole web app as `dspo serve` builds it (dashboard, push API, security) on the small
world, in-process, with one admin who signs in through the sign-in form.

Used by the tests of dashboard/security and the reports route through Flask's test client.
The world's config gets an evidently source whose reports_dir holds a few report files
(and dspo's import ledger, which must never be served), and any `dashboard:` settings a
test asks for.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from dash import Dash
from world import small

from config.loader import load_config
from config.schema import DspoConfig
from dspo.users import add
from dspo.web import create_web_app
from store.db import Store

ADMIN = "ada"
PASSWORD = "correct-horse-battery"
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
REPORT_SOURCE = "evidently"


@dataclass(frozen=True)
class Secured:
    app: Dash
    config: DspoConfig
    store: Store
    reports: Path

    @property
    def server(self) -> Any:
        return self.app.server

    def client(self, *, signed_in: bool = True) -> Any:
        """A test client; signed in as the admin through the sign-in form, unless told."""
        client = self.server.test_client()
        if signed_in:
            form = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="form_token" value="([^"]+)"', form)
            assert token is not None, form[:300]
            answer = client.post("/login", data={"username": ADMIN, "password": PASSWORD,
                                                 "form_token": token.group(1), "next": "/"})
            assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
            assert client.get("/").status_code == 200  # a page load sets the CSRF cookie
        return client


def csrf(client: Any) -> str:
    cookie = client.get_cookie("_csrf_token")
    assert cookie is not None
    return str(cookie.value)


def router_body(pathname: str, search: str | None) -> dict[str, Any]:
    """The request Dash's renderer sends to render the page at `pathname` + `search`."""
    return {
        "output": ROUTER_OUTPUT,
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }


def post_callback(client: Any, body: Any, **headers: str) -> Any:
    """POST a callback body as the renderer does (JSON, the CSRF header from the cookie)."""
    sent = {"X-CSRFToken": csrf(client), **headers}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/_dash-update-component", data=data, headers=sent,
                       content_type="application/json")


def write_reports(folder: Path) -> None:
    """A rendered report, a JSON report, dspo's import ledger and a temporary file."""
    reports = folder / "shop" / "shop-features"
    (reports / "imported").mkdir(parents=True)
    (reports / "2026-03-15.html").write_text("<!doctype html><title>r</title><p>report</p>")
    (reports / "2026-03-15.json").write_text('{"metrics": []}')
    (reports / "imported" / "snap-1.json").write_text('{"metadata": {}}')
    (reports / "2026-03-08.json.tmp").write_text("half written")
    (folder / ".dspo").mkdir()
    (folder / ".dspo" / "imports-evidently.json").write_text('{"secret": "ledger"}')


def build(folder: Path, **dashboard: Any) -> Secured:
    """The small world served by `create_web_app`, with `dashboard:` settings overridden."""
    world = small.build(folder / "world")
    raw = yaml.safe_load(world.config_path.read_text())
    raw["dashboard"] = {**raw.get("dashboard", {}), **dashboard}
    reports = folder / "reports"
    write_reports(reports)
    raw["sources"] = [*raw.get("sources", []), {
        "name": REPORT_SOURCE, "kind": "evidently", "product": small.PRODUCT,
        "reports_dir": str(reports)}]
    path = folder / "secured.yaml"
    path.write_text(yaml.safe_dump(raw))
    config = load_config(path)
    store = Store(config.store.url)
    add(store, ADMIN, "admin", password=PASSWORD)
    return Secured(create_web_app(config, store), config, store, reports)
