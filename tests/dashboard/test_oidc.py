"""Single sign-on through OpenID Connect, end to end: the real web app (Flask's test
client) and a fake provider serving real HTTP on 127.0.0.1 (`tests/fakes/fake_oidc.py`).

The browser's part is played by `through_idp`: it follows the app's redirect to the
provider over HTTP and carries the provider's redirect back to the app, as a browser does.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import yaml
from fake_http import free_port
from fake_oidc import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider

from config.loader import ConfigError, parse_config
from config.schema import DspoConfig
from dashboard.auth.claims import Refused, claim_values, grant_for, username_of
from dspo.users import add
from dspo.web import create_web_app
from store.audit import audit_events
from store.db import Store
from store.people import find_user

ROOT = Path(__file__).resolve().parents[2]
ALICE = {"sub": "idp-0001", "preferred_username": "alice", "name": "Alice Martin",
         "email": "alice@example.com", "groups": ["data-po", "everyone"],
         "dspo_products": ["churn", "not-a-product"]}
ROLE_MAP = {"dspo-admins": "admin", "data-po": "po", "board": "stakeholder"}


def config_for(issuer: str, **oidc: Any) -> DspoConfig:
    settings = {"issuer": issuer, "client_id": CLIENT_ID, "client_secret": "${OIDC_SECRET}",
                "role_map": ROLE_MAP, "products_claim": "dspo_products", "label": "Acme SSO",
                **oidc}
    text = yaml.safe_dump({
        "dashboard": {"title": "dspo", "oidc": settings},
        "products": [{"key": "churn", "name": "Churn"}, {"key": "demand", "name": "Demand"}],
    })
    return parse_config(text, source="test", env={"OIDC_SECRET": CLIENT_SECRET})


@pytest.fixture
def idp() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider() as fake:
        fake.user = dict(ALICE)
        yield fake


@pytest.fixture
def app(store: Store, idp: FakeOidcProvider) -> Any:
    return create_web_app(config_for(idp.issuer), store).server


def through_idp(client: Any, idp: FakeOidcProvider, start: str = "/auth/oidc/login",
                *, tamper: Any = None) -> Any:
    """Start single sign-on in `client` and follow the redirects through the provider;
    the app's last answer (a redirect into the dashboard, or a page). `tamper` may change
    the callback's query on its way back, as an attacker in the browser could."""
    answer = client.get(start)
    while answer.status_code == 302 and answer.headers["Location"].startswith(idp.url):
        back = requests.get(answer.headers["Location"], allow_redirects=False, timeout=5)
        assert back.status_code == 302, back.text
        parts = urlsplit(back.headers["Location"])
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if tamper is not None:
            query = tamper(query)
        answer = client.get(f"{parts.path}?{urlencode(query)}")
    return answer


def signed_in_as(client: Any) -> str | None:
    """'alice (po)' as the navigation bar shows it, None when no session holds."""
    layout = client.get("/_dash-layout")
    if layout.status_code != 200:
        return None
    found = re.search(r"(\w+) \((admin|po|stakeholder)\)", layout.get_data(as_text=True))
    return found.group(0) if found else None


def text_of(answer: Any) -> str:
    """The answer's text as a reader sees it (entities such as &#39; unescaped)."""
    return html.unescape(answer.get_data(as_text=True))


# ------------------------------------------------------------ signing in


def test_the_sign_in_page_offers_single_sign_on(app: Any) -> None:
    page = text_of(app.test_client().get("/login?next=/sprint"))
    assert 'id="signin-oidc"' in page and "Sign in with Acme SSO" in page
    assert 'href="/auth/oidc/login?next=/sprint"' in page


def test_a_user_signs_in_with_the_mapped_role_and_products(
    app: Any, store: Store, idp: FakeOidcProvider
) -> None:
    client = app.test_client()
    answer = through_idp(client, idp, "/auth/oidc/login?next=/sprint%3Fproduct%3Dchurn")
    assert answer.status_code == 302, text_of(answer)
    assert answer.headers["Location"] == "/sprint?product=churn"
    assert signed_in_as(client) == "alice (po)"
    with store.session() as s:
        alice = find_user(s, "alice")
    assert alice is not None
    # data-po maps to po; "everyone" maps to nothing; of the products claim only the known
    # product churn is kept ("not-a-product" is not a product of this config)
    assert (alice.role, alice.products, alice.origin) == ("po", ("churn",), "oidc")
    assert alice.password_hash is None and alice.display_name == "Alice Martin"
    assert client.get("/sprint?product=churn").status_code == 200
    assert client.get("/sprint?product=demand").status_code == 403
    events = audit_events(store)
    assert events[["actor", "action"]].values.tolist() == [["alice", "sign-in (oidc)"]]
    assert events["detail"].iloc[0]["matched"] == ["data-po"]


def test_the_request_carries_state_nonce_and_an_s256_challenge(
    app: Any, idp: FakeOidcProvider
) -> None:
    through_idp(app.test_client(), idp)
    (authorize,) = idp.sent("GET", "/authorize")
    asked = {k: v[0] for k, v in authorize.query.items()}
    assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
    assert asked["scope"].split() == ["openid", "profile", "email"]
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["state"]) >= 20 and len(asked["nonce"]) >= 20
    assert asked["redirect_uri"] == "http://localhost/auth/oidc/callback"
    (token,) = idp.sent("POST", "/token")
    assert token.headers["authorization"].startswith("Basic ")
    assert "code_verifier=" in token.body and "client_secret" not in token.body


def test_a_new_group_changes_the_role_and_ends_the_old_sessions(
    app: Any, store: Store, idp: FakeOidcProvider
) -> None:
    idp.user = {**ALICE, "groups": ["board", "data-po"]}
    laptop = app.test_client()
    through_idp(laptop, idp)
    assert signed_in_as(laptop) == "alice (po)"  # po outranks stakeholder
    idp.user = {**ALICE, "groups": ["dspo-admins", "data-po"]}
    phone = app.test_client()
    through_idp(phone, idp)
    assert signed_in_as(phone) == "alice (admin)"
    assert signed_in_as(laptop) is None  # signed in as po: that session is over
    assert laptop.get("/sprint").status_code == 302  # to the sign-in page
    with store.session() as s:
        alice = find_user(s, "alice")
    assert alice is not None and alice.role == "admin" and alice.session_version == 2
    tablet = app.test_client()
    through_idp(tablet, idp)  # same role, same products: nobody is signed out
    assert signed_in_as(phone) == "alice (admin)" and signed_in_as(tablet) == "alice (admin)"


def test_a_stakeholder_lands_on_the_kpi_pages(app: Any, idp: FakeOidcProvider) -> None:
    idp.user = {**ALICE, "groups": "board"}  # a single string, not a list
    client = app.test_client()
    through_idp(client, idp)
    assert signed_in_as(client) == "alice (stakeholder)"
    assert client.get("/sprint").headers["Location"] == "/kpi/"


# ------------------------------------------------------------ refusals


def test_an_unmapped_user_is_refused_and_nothing_is_stored(
    app: Any, store: Store, idp: FakeOidcProvider
) -> None:
    idp.user = {**ALICE, "groups": ["marketing"]}
    client = app.test_client()
    answer = through_idp(client, idp)
    assert answer.status_code == 403
    assert "no groups value that dspo maps to a role" in text_of(answer)
    assert signed_in_as(client) is None
    with store.session() as s:
        assert find_user(s, "alice") is None
    assert audit_events(store).empty


def test_a_po_without_known_products_is_refused(
    app: Any, store: Store, idp: FakeOidcProvider
) -> None:
    idp.user = {**ALICE, "dspo_products": ["not-a-product"]}
    answer = through_idp(app.test_client(), idp)
    assert answer.status_code == 403 and "names no product of this dspo" in text_of(answer)
    with store.session() as s:
        assert find_user(s, "alice") is None


def test_a_user_who_lost_their_group_is_signed_out_everywhere(
    app: Any, store: Store, idp: FakeOidcProvider
) -> None:
    laptop = app.test_client()
    through_idp(laptop, idp)
    idp.user = {**ALICE, "groups": []}
    assert through_idp(app.test_client(), idp).status_code == 403
    assert signed_in_as(laptop) is None
    actions = audit_events(store)["action"].tolist()
    assert actions == ["sign-in refused (oidc)", "sign-in (oidc)"]  # newest first


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "another-client"}, "invalid_claim: Invalid claim: 'aud'"),
        # an azp naming dspo does not make up for an audience without it
        ({"aud": ["another-client"], "azp": CLIENT_ID}, "Invalid claim: 'aud'"),
        ({"iss": "http://127.0.0.1:1/evil"}, "Invalid claim: 'iss'"),
        # expired an hour ago, well beyond the 60 s allowed for clock skew
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired_token"),
        ({"nonce": "a-nonce-this-browser-never-sent"}, "Invalid claim: 'nonce'"),
    ],
    ids=["wrong-audience", "azp-without-audience", "wrong-issuer", "expired", "wrong-nonce"],
)
def test_an_id_token_that_fails_validation_is_refused(
    app: Any, store: Store, idp: FakeOidcProvider, changes: dict[str, Any], reason: str
) -> None:
    idp.id_token_changes = changes
    client = app.test_client()
    answer = through_idp(client, idp)
    assert answer.status_code == 403
    assert reason in text_of(answer) and "nobody was signed in" in text_of(answer)
    assert signed_in_as(client) is None
    with store.session() as s:
        assert find_user(s, "alice") is None


def test_a_forged_signature_is_refused(app: Any, store: Store, idp: FakeOidcProvider) -> None:
    idp.forge_signature = True  # the published kid, another key
    client = app.test_client()
    answer = through_idp(client, idp)
    assert answer.status_code == 403 and "bad_signature" in text_of(answer)
    assert signed_in_as(client) is None


def test_a_wrong_or_replayed_state_is_refused(app: Any, idp: FakeOidcProvider) -> None:
    client = app.test_client()
    answer = through_idp(client, idp, tamper=lambda q: {**q, "state": "made-up"})
    assert answer.status_code == 400 and "start it again" in text_of(answer)
    assert signed_in_as(client) is None
    assert idp.sent("POST", "/token") == []  # the code was never exchanged
    # a callback carried to another browser (login CSRF): its session never started it
    seen: list[dict[str, str]] = []
    through_idp(app.test_client(), idp, tamper=lambda q: seen.append(q) or q)
    victim = app.test_client()
    assert victim.get(f"/auth/oidc/callback?{urlencode(seen[0])}").status_code == 400
    assert signed_in_as(victim) is None


def test_a_local_user_is_not_taken_over(app: Any, store: Store, idp: FakeOidcProvider) -> None:
    add(store, "alice", "stakeholder", password="local-alice-password")
    client = app.test_client()
    answer = through_idp(client, idp)
    assert answer.status_code == 403
    assert "'alice' is a local user of dspo; single sign-on does not take it over" in \
        text_of(answer)
    assert signed_in_as(client) is None
    with store.session() as s:
        alice = find_user(s, "alice")
    assert alice is not None
    assert (alice.origin, alice.role, alice.session_version) == ("local", "stakeholder", 1)
    assert audit_events(store)["action"].iloc[0] == "sign-in refused (oidc)"


def test_an_oidc_user_has_no_password_to_guess(
    app: Any, idp: FakeOidcProvider
) -> None:
    through_idp(app.test_client(), idp)
    client = app.test_client()
    form = text_of(client.get("/login"))
    token = re.search(r'name="form_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    answer = client.post("/login", data={"username": "alice", "password": "",
                                         "form_token": token})
    assert answer.status_code == 401 and signed_in_as(client) is None


# ------------------------------------------------------------ a provider that fails


def test_a_provider_that_is_down_gets_a_clear_page(store: Store) -> None:
    issuer = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = create_web_app(config_for(issuer), store).server.test_client()
    answer = client.get("/auth/oidc/login")
    assert answer.status_code == 502
    assert f"Cannot reach the identity provider at {issuer}" in text_of(answer)
    assert 'id="username"' in text_of(answer)  # the password form is still there


def test_a_provider_that_answers_garbage_gets_a_clear_page(
    app: Any, idp: FakeOidcProvider
) -> None:
    client = app.test_client()
    idp.fail_next(200, "<html>maintenance</html>")
    answer = client.get("/auth/oidc/login")
    assert answer.status_code == 502
    assert (f"The identity provider at {idp.issuer} does not answer as an OpenID Connect "
            "provider: it answered something that is not JSON") in text_of(answer)
    idp.fail_next(503)
    answer = client.get("/auth/oidc/login")
    assert answer.status_code == 502 and "answered HTTP 503" in text_of(answer)
    idp.discovery_changes = {"issuer": "https://elsewhere.example"}
    answer = client.get("/auth/oidc/login")
    assert answer.status_code == 502 and "names its issuer 'https://elsewhere.example'" in \
        text_of(answer)
    idp.discovery_changes = {}
    assert client.get("/auth/oidc/login").status_code == 302  # up again: it works


def test_a_provider_that_hangs_times_out(store: Store, idp: FakeOidcProvider) -> None:
    config = config_for(idp.issuer, connect_timeout="1s", read_timeout="0.5s")
    client = create_web_app(config, store).server.test_client()
    idp.stall(3)
    started = time.monotonic()
    answer = client.get("/auth/oidc/login")
    took = time.monotonic() - started
    assert answer.status_code == 504 and "did not answer in time" in text_of(answer)
    assert took < 2.5  # the 0.5 s read timeout, not the provider's 3 s stall


def test_a_token_endpoint_failure_gets_a_clear_page(
    app: Any, idp: FakeOidcProvider
) -> None:
    client = app.test_client()
    first = client.get("/auth/oidc/login")  # discovery done, browser at the provider
    back = requests.get(first.headers["Location"], allow_redirects=False, timeout=5)
    idp.fail_next(500)  # the token request
    parts = urlsplit(back.headers["Location"])
    answer = client.get(f"{parts.path}?{parts.query}")
    assert answer.status_code == 502 and "answered HTTP 500" in text_of(answer)
    assert signed_in_as(client) is None


def test_no_secret_reaches_a_page_the_log_or_the_session(
    app: Any, idp: FakeOidcProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    pages = [text_of(through_idp(client, idp)), text_of(client.get("/_dash-layout"))]
    idp.id_token_changes = {"aud": "another-client"}
    pages.append(text_of(through_idp(app.test_client(), idp)))
    idp.id_token_changes = {}
    fail_the_token_request = lambda q: (idp.fail_next(500), q)[1]  # noqa: E731
    pages.append(text_of(through_idp(app.test_client(), idp, tamper=fail_the_token_request)))
    secrets = [CLIENT_SECRET] + [t[k] for t in idp.issued for k in ("access_token", "id_token")]
    assert len(secrets) == 5  # the client secret; two tokens of each of two sign-ins
    with client.session_transaction() as session:
        kept = str(dict(session))
    for secret in secrets:
        assert secret not in caplog.text
        assert all(secret not in page for page in pages)
        assert secret not in kept
    assert "single sign-on through" in caplog.text  # the failures were logged, as text


# ------------------------------------------------------------ settings and claims


def test_the_example_config_block_validates() -> None:
    """config/example.yaml shows dashboard.oidc commented out (it needs a provider);
    uncommented, it must be a valid config."""
    lines = (ROOT / "config" / "example.yaml").read_text().splitlines()
    start = lines.index("  # oidc:")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  #   "))
    block = [line.replace("  # ", "  ", 1) for line in lines[start:end]]
    yaml_text = "\n".join(["dashboard:", *block, "products: [{key: churn, name: C}]"])
    config = parse_config(yaml_text, source="example", env={"DSPO_OIDC_CLIENT_SECRET": "x"})
    assert config.dashboard.oidc is not None
    assert config.dashboard.oidc.role_map  # every option shown, read as written


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"issuer": "http://idp.example.com"}, "must be an https URL"),
        ({"issuer": "https://idp.example.com/?x=1"}, "without query or fragment"),
        ({"scopes": ["profile"]}, "must include openid"),
        ({"role_map": {"x": "owner"}}, "role_map.x"),
        ({"role_map": {}}, "role_map"),
        ({"read_timeout": "0s"}, "read_timeout must be positive"),
    ],
    ids=["http-elsewhere", "query", "no-openid", "unknown-role", "empty-map", "zero-timeout"],
)
def test_bad_settings_are_refused(changes: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_for(**{"issuer": "https://idp.example.com", **changes})
    assert error in str(raised.value)


@pytest.mark.parametrize(
    ("claims", "name", "values"),
    [
        ({"groups": "po"}, "groups", ["po"]),
        ({"groups": ["a", 3, None, "b"]}, "groups", ["a", "b"]),
        ({"groups": {"a": 1}}, "groups", []),
        ({"realm_access": {"roles": ["x"]}}, "realm_access.roles", ["x"]),
        ({"realm_access.roles": ["flat"]}, "realm_access.roles", ["flat"]),
        ({}, "groups", []),
    ],
    ids=["string", "list-of-mixed", "object", "nested", "dotted-name", "missing"],
)
def test_claim_values(claims: dict[str, Any], name: str, values: list[str]) -> None:
    assert claim_values(claims, name) == values


def test_the_username_falls_back_to_email_then_sub() -> None:
    settings = config_for("https://idp.example.com").dashboard.oidc
    assert settings is not None
    assert username_of({"preferred_username": " al ", "sub": "s"}, settings) == "al"
    assert username_of({"email": "al@x.org", "sub": "s"}, settings) == "al@x.org"
    assert username_of({"preferred_username": "", "sub": "s-1"}, settings) == "s-1"
    with pytest.raises(Refused):
        username_of({"name": "Al"}, settings)


def test_the_highest_mapped_role_wins() -> None:
    settings = config_for("https://idp.example.com", products_claim=None).dashboard.oidc
    assert settings is not None
    claims = {"sub": "s", "groups": ["board", "dspo-admins", "data-po"]}
    grant = grant_for(claims, settings, ["churn"])
    assert (grant.role, grant.products) == ("admin", None)  # no products claim: keep stored
    assert grant.matched == ("board", "dspo-admins", "data-po")
