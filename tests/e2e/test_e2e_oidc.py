"""Single sign-on in Chromium: the real sign-in page of `dspo serve`, its "Sign in with"
button, the fake provider (`tests/fakes/fake_oidc.py`, served from this process on
127.0.0.1) and back, signed in with the role the provider's groups map to; and a user
whose groups map to nothing sees why on the sign-in page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fake_oidc import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider

from dspo.devserver import serving

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider() as fake:
        yield fake


@pytest.fixture(scope="module")
def dashboard(idp: FakeOidcProvider, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("oidc")
    config = folder / "dspo.yaml"
    config.write_text(yaml.safe_dump({
        "store": {"url": f"sqlite:///{folder / 'dspo.db'}"},
        "dashboard": {"title": "dspo", "oidc": {
            "issuer": idp.issuer, "client_id": CLIENT_ID, "client_secret": "${OIDC_SECRET}",
            "role_map": {"data-po": "po", "board": "stakeholder"}, "label": "Acme SSO"}},
        "products": [{"key": "churn", "name": "Churn classifier"}],
    }))
    with serving(config, {"OIDC_SECRET": CLIENT_SECRET}, folder / "serve.log") as url:
        yield url.rstrip("/")


def test_signing_in_through_the_identity_provider(
    browser: Any, idp: FakeOidcProvider, dashboard: str
) -> None:
    idp.user = {"sub": "idp-7", "preferred_username": "alice", "groups": ["data-po"]}
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(dashboard + "/usage?product=churn")  # sent to sign in first
    button = page.locator("#signin-oidc")
    assert button.inner_text() == "Sign in with Acme SSO"
    button.click()
    page.wait_for_url(dashboard + "/usage?product=churn", timeout=30_000)
    page.wait_for_selector("text=alice (po)", timeout=30_000)
    assert [r.path for r in idp.requests if r.path in ("/authorize", "/token")] == \
        ["/authorize", "/token"]
    assert errors == []
    context.close()


def test_an_unmapped_user_sees_why_on_the_sign_in_page(
    browser: Any, idp: FakeOidcProvider, dashboard: str
) -> None:
    idp.user = {"sub": "idp-8", "preferred_username": "mallory", "groups": ["marketing"]}
    context = browser.new_context()
    page = context.new_page()
    page.goto(dashboard + "/login")
    page.click("#signin-oidc")
    page.wait_for_selector(".alert-danger", timeout=30_000)
    assert "no groups value that dspo maps to a role" in page.inner_text(".alert-danger")
    assert page.locator("#username").is_visible()  # password sign-in still offered
    page.goto(dashboard + "/")
    assert "/login" in page.url  # not signed in
    context.close()
