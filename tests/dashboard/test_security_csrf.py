"""CSRF: Dash callback requests need the double-submit token and must come from this site;
every state-changing request from another site is refused; the push API is exempt."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from secured_app import Secured, build, csrf, router_body

RENDERER = Path(__import__("dash").__file__).parent / "dash-renderer" / "build"
OVERVIEW = router_body("/", "?end=2026-03-15")


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    world = build(tmp_path_factory.mktemp("csrf"))
    yield world
    world.store.dispose()


def post(client: object, headers: dict[str, str]) -> object:
    return client.post("/_dash-update-component", json=OVERVIEW,  # type: ignore[attr-defined]
                       headers=headers)


def test_dash_renderer_sends_the_cookie_back_as_the_header() -> None:
    # The check relies on the renderer copying cookie _csrf_token into header X-CSRFToken
    # (Dash's defaults, dash-renderer getCSRFHeader): fail here if a Dash release renames them.
    bundle = (RENDERER / "dash_renderer.min.js").read_text()
    assert re.search(r'csrf_token_name\|\|"_csrf_token"', bundle)
    assert re.search(r'csrf_header_name\|\|"X-CSRFToken"', bundle)


def test_a_callback_with_the_token_is_answered(secured: Secured) -> None:
    client = secured.client()
    answer = post(client, {"X-CSRFToken": csrf(client)})
    assert answer.status_code == 200  # type: ignore[attr-defined]


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "no CSRF token"),
    ({"X-CSRFToken": "A" * 43}, "does not match"),
    ({"X-CSRFToken": ""}, "no CSRF token"),
])
def test_a_callback_without_the_right_token_is_refused(
        secured: Secured, headers: dict[str, str], reason: str) -> None:
    answer = post(secured.client(), headers)
    assert answer.status_code == 403  # type: ignore[attr-defined]
    assert reason in answer.get_json()["error"]  # type: ignore[attr-defined]


def test_a_callback_without_the_cookie_is_refused(secured: Secured) -> None:
    client = secured.client()
    token = csrf(client)
    client.delete_cookie("_csrf_token")
    answer = post(client, {"X-CSRFToken": token})
    assert answer.status_code == 403  # type: ignore[attr-defined]
    assert "no CSRF cookie" in answer.get_json()["error"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("headers", "allowed"), [
    ({"Origin": "http://localhost"}, True),
    ({"Origin": "http://localhost:80"}, True),
    ({"Origin": "https://evil.example"}, False),
    ({"Origin": "http://localhost:9999"}, False),  # another app on the same machine
    ({"Origin": "null"}, False),  # a sandboxed report: an opaque origin
    ({"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}, True),
    ({"Sec-Fetch-Site": "same-site"}, False),
    ({"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"}, False),
])
def test_where_a_callback_came_from(secured: Secured, headers: dict[str, str],
                                    allowed: bool) -> None:
    client = secured.client()
    answer = post(client, {"X-CSRFToken": csrf(client), **headers})
    assert (answer.status_code == 200) is allowed  # type: ignore[attr-defined]
    if not allowed:
        assert "started by another site" in answer.get_json()["error"]  # type: ignore[attr-defined]


def test_a_cross_site_form_post_is_refused_on_any_route(secured: Secured) -> None:
    client = secured.server.test_client()
    for url in ["/login", "/logout", "/sprint", "/reports/evidently/x.json"]:
        answer = client.post(url, data={"username": "ada"},
                             headers={"Origin": "https://evil.example"})
        assert answer.status_code == 403, url
        assert answer.mimetype == "text/plain"
        assert answer.get_data(as_text=True).startswith("Refused: the request was started")


def test_the_push_api_is_exempt(secured: Secured) -> None:
    # bearer tokens, no cookies: its own answer (no such source), not a CSRF refusal
    answer = secured.server.test_client().post(
        "/api/v1/sources/nope/metrics", json=[], headers={"Origin": "https://evil.example"})
    assert answer.status_code in (401, 403, 404)
    assert "started by another site" not in answer.get_data(as_text=True)


def test_the_token_cookie(secured: Secured) -> None:
    client = secured.server.test_client()
    first = client.get("/login")
    [cookie] = [c for c in first.headers.getlist("Set-Cookie") if c.startswith("_csrf_token=")]
    assert "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "HttpOnly" not in cookie  # the renderer's script must read it
    assert re.fullmatch(r"_csrf_token=[A-Za-z0-9_-]{43}", cookie.split(";")[0])
    # set once: the next page load keeps it, so every open tab sends the same token
    again = client.get("/login")
    assert not any(c.startswith("_csrf_token=") for c in again.headers.getlist("Set-Cookie"))
    # a malformed cookie is replaced on the next page load
    client.set_cookie("_csrf_token", "short")
    replaced = client.get("/login").headers.getlist("Set-Cookie")
    assert any(c.startswith("_csrf_token=") for c in replaced)

