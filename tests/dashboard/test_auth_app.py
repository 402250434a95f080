"""Sign-in and the guard through the real app (Flask's test client): sessions, roles, the
audit log, throttling, sign-out, and sessions ended by changes in the store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from config.loader import load_config
from dashboard.auth.access import ROUTER_OUTPUT
from dspo.users import add, change_role, reset_password
from dspo.web import create_web_app
from store.audit import audit_events
from store.db import Store

PASSWORD = "correct-horse-battery"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Any, Store]]:
    config = tmp_path / "dspo.yaml"
    config.write_text(f'store: {{url: "sqlite:///{tmp_path / "dspo.db"}"}}\n'
                      "products: [{key: churn, name: Churn}, {key: demand, name: Demand}]\n")
    cfg = load_config(config)
    store = Store(cfg.store.url)
    store.upgrade()
    for name, role, products in (("ada", "admin", []), ("ana", "po", ["churn"]),
                                 ("sam", "stakeholder", [])):
        add(store, name, role, products=products, password=PASSWORD)
    app = create_web_app(cfg, store)
    yield app.server, store
    store.dispose()


def sign_in(client: Any, username: str, password: str = PASSWORD, next_: str = "/") -> Any:
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"username": username, "password": password,
                                       "form_token": token, "next": next_})


def csrf(client: Any) -> dict[str, str]:
    """The double-submit header Dash's renderer sends: the `_csrf_token` cookie a page load
    set, echoed (none before the first page load)."""
    client.get("/")
    cookie = client.get_cookie("_csrf_token")
    return {"X-CSRFToken": cookie.value} if cookie is not None else {}


def router(client: Any, path: str, search: str = "") -> Any:
    """Dash's page router callback, as the browser sends it."""
    return client.post("/_dash-update-component", headers=csrf(client), json={
        "output": ROUTER_OUTPUT,
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"]})


def test_anonymous_requests_go_to_sign_in_or_get_401(world: tuple[Any, Store]) -> None:
    server, _ = world
    client = server.test_client()
    page = client.get("/sprint?product=churn")
    assert page.status_code == 302
    assert page.headers["Location"] == "/login?next=/sprint%3Fproduct%3Dchurn"
    assert client.get("/_dash-layout").status_code == 401
    assert router(client, "/").status_code == 401
    assert client.get("/login").status_code == 200


def test_a_po_sees_their_products_only(world: tuple[Any, Store]) -> None:
    client = world[0].test_client()
    answer = sign_in(client, "ana", next_="/sprint")
    assert answer.status_code == 302 and answer.headers["Location"] == "/sprint"
    assert client.get("/sprint?product=churn").status_code == 200
    assert client.get("/sprint?product=demand").status_code == 403
    answer = router(client, "/sprint", "?product=churn")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert router(client, "/sprint", "?product=demand").status_code == 403
    assert client.get("/admin").status_code == 403
    assert router(client, "/admin").status_code == 403
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert "ana (po)" in layout and "Demand" not in layout  # no other product offered


def test_an_admin_opens_the_audit_log(world: tuple[Any, Store]) -> None:
    client = world[0].test_client()
    sign_in(client, "ada")
    answer = router(client, "/admin")
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert "admin-audit" in body and "sign-in" in body and "user-add" in body


def test_a_stakeholder_gets_no_po_page_and_no_callback(world: tuple[Any, Store]) -> None:
    client = world[0].test_client()
    sign_in(client, "sam")
    assert client.get("/sprint").status_code == 302  # to the stakeholder home
    assert router(client, "/sprint", "?product=churn").status_code in (302, 403)
    unregistered = client.post("/_dash-update-component", headers=csrf(client), json={
        "output": "made-up.children", "inputs": [], "changedPropIds": []})
    assert unregistered.status_code == 403


def test_a_wrong_password_is_refused_and_audited_only_on_success(
    world: tuple[Any, Store]
) -> None:
    server, store = world
    client = server.test_client()
    assert sign_in(client, "ana", "wrong-password-123").status_code == 401
    assert client.get("/_dash-layout").status_code == 401
    assert sign_in(client, "ana").status_code == 302
    events = audit_events(store)
    assert events[["actor", "action"]].values.tolist()[0] == ["ana", "sign-in"]


def test_repeated_failures_are_slowed(world: tuple[Any, Store]) -> None:
    client = world[0].test_client()
    statuses = [sign_in(client, "ana", "wrong-password-123").status_code for _ in range(6)]
    # five attempts fail as wrong; the sixth must wait (2 s after the fifth failure)
    assert statuses == [401, 401, 401, 401, 401, 429]
    assert sign_in(client, "ana").status_code == 429  # even with the right password, now


def test_changes_in_the_store_end_sessions(world: tuple[Any, Store]) -> None:
    server, store = world
    client = server.test_client()
    sign_in(client, "ana")
    assert client.get("/_dash-layout").status_code == 200
    reset_password(store, "ana", PASSWORD + "!")
    assert client.get("/_dash-layout").status_code == 401  # the old session is over
    sign_in(client, "ana", PASSWORD + "!")
    change_role(store, "ana", "stakeholder")
    assert client.get("/_dash-layout").status_code == 401


def test_sign_out_needs_the_form_token_and_ends_the_session(world: tuple[Any, Store]) -> None:
    client = world[0].test_client()
    sign_in(client, "ana")
    assert client.post("/logout").status_code == 400  # a cross-site POST has no token
    assert client.get("/_dash-layout").status_code == 200
    layout = client.get("/_dash-layout").get_data(as_text=True)
    token = re.search(r'"name":"form_token","type":"hidden","value":"([^"]+)"', layout)
    token = token or re.search(r'"value":"([^"]+)"[^{}]*"name":"form_token"', layout)
    assert token is not None
    out = client.post("/logout", data={"form_token": token.group(1)})
    assert out.status_code == 302 and client.get("/_dash-layout").status_code == 401


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "javascript:x"])
def test_sign_in_never_sends_you_off_site(world: tuple[Any, Store], target: str) -> None:
    client = world[0].test_client()
    answer = sign_in(client, "ana", next_=target)
    assert answer.headers["Location"] == "/"


def test_times_are_aware(world: tuple[Any, Store]) -> None:
    """The audit log keeps aware UTC times, like every table."""
    server, store = world
    sign_in(server.test_client(), "ana")
    at = audit_events(store)["at"].iloc[0]
    assert at.tzinfo is not None and at <= datetime.now(UTC)
