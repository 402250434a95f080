"""Security headers on every route of the web app, trusted hosts, and the HTTPS options.

Routes are discovered from Flask's url map, so a route added later is checked too.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from secured_app import Secured, build

from config.schema import DashboardConfig

PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    world = build(tmp_path_factory.mktemp("headers"),
                  base_url="https://dspo.example.com/dashboard", trusted_hosts=["localhost",
                                                                              ".corp.test"])
    yield world
    world.store.dispose()


def policy(answer: Any) -> dict[str, str]:
    """The Content-Security-Policy header as {directive: sources}."""
    parts = (p.strip().split(" ", 1) for p in answer.headers["Content-Security-Policy"].split(";"))
    return {p[0]: p[1] if len(p) > 1 else "" for p in parts}


def routes(server: Any) -> list[tuple[str, str]]:
    """(method, URL) of every rule in the url map, with a sample value for each variable."""
    found = []
    for rule in server.url_map.iter_rules():
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def test_every_route_answers_with_the_security_headers(secured: Secured) -> None:
    client = secured.client()
    checked = routes(secured.server)
    assert ("POST", "/_dash-update-component") in checked and ("GET", "/login") in checked
    for method, url in checked:
        answer = client.open(url, method=method)
        for name, value in PAGE_HEADERS.items():
            assert answer.headers.get(name) == value, (method, url, name)
        assert policy(answer)["frame-ancestors"] == "'none'", (method, url)
        assert "Strict-Transport-Security" not in answer.headers, (method, url)


def test_headers_are_sent_to_a_visitor_not_signed_in(secured: Secured) -> None:
    answer = secured.client(signed_in=False).get("/sprint")
    assert answer.status_code in (302, 401)
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "default-src" in policy(answer)


def _inline_scripts(html: str) -> list[str]:
    """The bodies of the page's <script> elements a browser runs (no src, a JS type)."""
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    return [body for attrs, body in scripts
            if "src=" not in attrs and "application/json" not in attrs and body.strip()]


def test_the_page_policy_admits_exactly_the_inline_scripts_dash_serves(
        secured: Secured) -> None:
    answer = secured.client().get("/")
    html = re.sub(r"<!--.*?-->", "", answer.get_data(as_text=True), flags=re.S)  # never run
    script_src = policy(answer)["script-src"].split()
    served = _inline_scripts(html)
    assert len(served) == 2  # the pages' title callback and the renderer's start
    for body in served:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src
    assert script_src[0] == "'self'" and len(script_src) == 1 + len(served)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src


def test_the_page_policy_directives(secured: Secured) -> None:
    shown = policy(secured.client().get("/"))
    assert shown["default-src"] == "'self'"
    assert shown["connect-src"] == "'self'"
    assert shown["object-src"] == "'none'" and shown["base-uri"] == "'none'"
    assert shown["form-action"] == "'self'"
    assert shown["img-src"] == "'self' data:" and shown["font-src"] == "'self'"


def test_a_report_keeps_its_sandbox_policy_under_the_page_headers(secured: Secured) -> None:
    answer = secured.client().get("/reports/evidently/shop/shop-features/2026-03-15.html")
    assert answer.status_code == 200
    shown = policy(answer)
    assert shown["sandbox"] == "allow-scripts" and shown["connect-src"] == "'none'"
    assert "'self'" not in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY"


# ---------------------------------------------------------------- hosts


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.nip.io", "dspo.example.com.evil",
                                  "corp.test.evil", "localhost.", "[::1]"])
def test_a_foreign_host_is_refused(secured: Secured, host: str) -> None:
    client = secured.server.test_client()
    for method, url in [("GET", "/"), ("GET", "/login"), ("POST", "/_dash-update-component"),
                        ("POST", "/api/v1/sources/x/metrics"), ("GET", "/assets/dspo.css")]:
        answer = client.open(url, method=method, headers={"Host": host})
        assert answer.status_code == 400, (host, url)
        text = answer.get_data(as_text=True)
        assert "dashboard.trusted_hosts" in text and "Traceback" not in text


@pytest.mark.parametrize("host", ["localhost", "localhost:8050", "dspo.example.com",
                                  "dspo.example.com:443", "a.corp.test", "x.y.corp.test"])
def test_trusted_hosts_and_the_base_url_host_are_served(secured: Secured, host: str) -> None:
    assert secured.server.test_client().get("/login", headers={"Host": host}).status_code == 200


def test_127_0_0_1_is_only_trusted_by_default(secured: Secured) -> None:
    # this app lists its own trusted_hosts, without 127.0.0.1
    client = secured.server.test_client()
    assert client.get("/login", headers={"Host": "127.0.0.1:8050"}).status_code == 400
    assert DashboardConfig().trusted_hosts == ["127.0.0.1", "localhost"]


@pytest.mark.parametrize("entry", ["http://dspo.example.com", "dspo.example.com:8050",
                                   "dspo.example.com/", "", "*", "-bad.example"])
def test_a_trusted_host_entry_must_be_a_bare_name(entry: str) -> None:
    with pytest.raises(ValidationError, match=r"trusted_hosts\[0\]: .* is not a host name"):
        DashboardConfig(trusted_hosts=[entry])


# ---------------------------------------------------------------- HTTPS behind a proxy


def test_behind_an_https_proxy(tmp_path: Path) -> None:
    secured = build(tmp_path, https=True, proxy_hops=1, trusted_hosts=["dspo.corp.test"])
    client = secured.server.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "dspo.corp.test",
                 "X-Forwarded-For": "10.0.0.7"}
    answer = client.get("/login", headers={"Host": "127.0.0.1:8050", **forwarded})
    assert answer.status_code == 200
    assert answer.headers["Strict-Transport-Security"] == \
        "max-age=31536000; includeSubDomains"
    # cookies only travel over HTTPS: the session's and the CSRF token's
    cookies = answer.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c for c in cookies)
    # the forwarded host is the one checked: a rebinding name is refused behind the proxy
    evil = {**forwarded, "X-Forwarded-Host": "evil.example"}
    assert client.get("/login", headers={"Host": "dspo.corp.test", **evil}).status_code == 400
    secured.store.dispose()


def test_without_https_no_hsts_and_forwarded_headers_are_ignored(secured: Secured) -> None:
    client = secured.client()
    answer = client.get("/", headers={"X-Forwarded-Proto": "https",
                                      "X-Forwarded-Host": "evil.example"})
    assert answer.status_code == 200  # proxy_hops 0: X-Forwarded-Host is not the host
    assert "Strict-Transport-Security" not in answer.headers
    fresh = secured.server.test_client().get("/login")
    assert all("Secure" not in c for c in fresh.headers.getlist("Set-Cookie"))
