"""Sign-in, sessions and roles: who may see which page and call which callback.

`install_auth(server, config, store)` wires it into the dashboard's Flask server: the
sign-in and sign-out routes, share links, and one guard in front of every request
(`guard.py`) that decides with the rules of `access.py` for the principal of the request
(`principal.py`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import flask
from markupsafe import Markup

from config.schema import DspoConfig
from dashboard.auth import guard
from dashboard.auth.principal import load_principal
from dashboard.auth.routes import register_routes
from store.db import Store
from store.people import app_secret

SESSION_KEY = "session-signing-key"
FORM_TOKEN = "form_token"
DEFAULT_LIFETIME = timedelta(hours=12)


def install_auth(server: flask.Flask, config: DspoConfig, store: Store) -> None:
    """Sessions signed with dspo's own key, the sign-in routes, and the guard."""
    with store.session() as s:
        server.secret_key = app_secret(s, SESSION_KEY, datetime.now(UTC))
    lifetime = getattr(config.dashboard, "session_lifetime", DEFAULT_LIFETIME)
    server.config.update(
        SESSION_COOKIE_NAME="dspo_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(getattr(config.dashboard, "https", False)),
        PERMANENT_SESSION_LIFETIME=lifetime,
    )
    products_of_sources = {src.name: src.product for src in config.sources}

    def audience(slug: str) -> Iterable[str] | None:
        for page in getattr(config, "stakeholder_pages", ()):
            if page.slug == slug:
                return list(page.audience)
        return None

    def report_product(path: str) -> str | None:
        parts = path.split("/")  # "", "reports", <source>, ...
        return products_of_sources.get(parts[2]) if len(parts) > 2 else None

    @server.before_request
    def _guard() -> flask.Response | None:
        principal = load_principal(store, lifetime)
        flask.g.principal = principal
        return guard.check(principal, audience, report_product)

    oidc = config.dashboard.oidc
    register_routes(server, store, title=config.dashboard.title, csrf_field=form_token_field,
                    csrf_ok=form_token_ok, sso_label=oidc.label if oidc else None)
    if oidc is not None:  # authlib is imported only by dashboards that sign in through it
        from dashboard.auth.oidc import register_oidc

        register_oidc(server, store, oidc, title=config.dashboard.title,
                      csrf_field=form_token_field, products=[p.key for p in config.products],
                      base_url=config.dashboard.base_url)


def form_token() -> str:
    """This session's form token (synchronizer token: a form posted from another site
    cannot know it), made on first use."""
    token = flask.session.get(FORM_TOKEN)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        flask.session[FORM_TOKEN] = token
    return token


def form_token_field() -> Markup:
    """The hidden field carrying `form_token()` in a plain HTML form."""
    return Markup('<input type="hidden" name="form_token" value="{}">').format(form_token())


def form_token_ok() -> bool:
    sent = flask.request.form.get(FORM_TOKEN, "")
    kept = flask.session.get(FORM_TOKEN)
    return isinstance(kept, str) and bool(sent) and secrets.compare_digest(sent, kept)
