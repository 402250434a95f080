"""Sign-in, sign-out and share links: plain Flask routes (they work before any JavaScript).

Sign-in checks the password (argon2), slows repeated failures per username and per
address (`throttle`), records every attempt and every success in the audit log, and starts
a fresh session. A share link (`/share/<token>`) is an itsdangerous signature over the
link's id: a forged or altered token fails the signature, an expired or revoked link fails
the store check, and both answer the same refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import flask
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup, escape

from dashboard.auth.passwords import hash_password, needs_rehash, verify_password
from dashboard.auth.principal import (
    current,
    start_share_session,
    start_user_session,
)
from dashboard.auth.throttle import WINDOW, wait_needed
from store import audit
from store.db import Store
from store.people import find_user, recent_failures, record_attempt, set_password, share_link

SHARE_SALT = "dspo.share-link"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def share_serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SHARE_SALT)


def share_token(secret: str, link_id: str) -> str:
    """The token of a share link's URL: its id, signed."""
    return str(share_serializer(secret).dumps(link_id))


def register_routes(server: flask.Flask, store: Store, *, title: str,
                    csrf_field: Callable[[], Markup], csrf_ok: Callable[[], bool],
                    clock: Callable[[], datetime] = _utcnow, sso_label: str | None = None
                    ) -> None:
    """`sso_label`: single sign-on is configured, the sign-in page offers it."""
    def address() -> str:
        return flask.request.remote_addr or "unknown"

    @server.get("/login")
    def login_form() -> flask.Response:
        return sign_in_page(title, csrf_field(), flask.request.args.get("next", "/"),
                            sso_label=sso_label)

    @server.post("/login")
    def login() -> flask.Response:
        form = flask.request.form
        username = form.get("username", "").strip()
        target = local_target(form.get("next", "/"))
        if not csrf_ok():
            return sign_in_page(title, csrf_field(), target, "The form expired; try again.",
                                400, sso_label=sso_label)
        now = clock()
        wait = _wait(store, username, address(), now)
        if wait:
            return sign_in_page(title, csrf_field(), target,
                                f"Too many failed sign-ins; try again in {wait} s.", 429,
                                sso_label=sso_label)
        with store.session() as s:
            user = find_user(s, username)
            ok = user is not None and not user.disabled and verify_password(
                user.password_hash, form.get("password", ""))
            record_attempt(s, username=username, address=address(), at=now, ok=ok)
            if ok and user is not None:
                if user.password_hash and needs_rehash(user.password_hash):
                    set_password(s, username, hash_password(form.get("password", "")))
                    user = find_user(s, username)
                audit.record(s, actor=username, action="sign-in", at=now, address=address())
        if not ok or user is None:
            return sign_in_page(title, csrf_field(), target, "Unknown user or wrong password.",
                                401, sso_label=sso_label)
        start_user_session(user.id, user.session_version, now)
        return flask.redirect(target)  # type: ignore[return-value]

    @server.post("/logout")
    def logout() -> flask.Response:
        if not csrf_ok():
            return flask.make_response("The form expired; reload and sign out again.", 400)
        who = current()
        if who.signed_in:
            with store.session() as s:
                audit.record(s, actor=who.actor, action="sign-out", at=clock(),
                             address=address())
        flask.session.clear()
        return flask.redirect("/login")  # type: ignore[return-value]

    @server.get("/share/<token>")
    def open_share(token: str) -> flask.Response:
        try:
            link_id = share_serializer(server.secret_key or "").loads(token)
        except BadSignature:
            link_id = None
        now = clock()
        with store.session() as s:
            link = share_link(s, str(link_id)) if isinstance(link_id, str) else None
            valid = link is not None and link.revoked_at is None and link.expires_at > now
            if valid and link is not None:
                audit.record(s, actor=f"share link {link.link_id}", action="share-open",
                             target=link.page, at=now, address=address())
        if not valid or link is None:
            flask.session.clear()
            return flask.make_response(
                "<!doctype html><title>dspo</title><p>This share link is not valid: it was "
                "revoked, it expired, or it is not a link dspo made.</p>", 403)
        start_share_session(link.link_id)
        return flask.redirect(f"/kpi/{link.page}")  # type: ignore[return-value]


def _wait(store: Store, username: str, address: str, now: datetime) -> int:
    """Seconds to wait before another attempt, the longer of the user's and the address's."""
    with store.session() as s:
        by_user = recent_failures(s, since=now - WINDOW, username=username)
        by_address = recent_failures(s, since=now - WINDOW, address=address)
    wait = max(wait_needed(by_user, now), wait_needed(by_address, now))
    return int(wait.total_seconds() + 0.999)


def local_target(target: str) -> str:
    """Only a path on this site: a `next` that points elsewhere goes home (open redirect)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def sign_in_page(title: str, csrf: Markup, target: str, error: str = "", status: int = 200,
                 *, sso_label: str | None = None) -> flask.Response:
    """The sign-in form, with `error` above it and, when single sign-on is configured, a
    'Sign in with <label>' link that starts it (a link, not a form: it changes nothing)."""
    target = local_target(target)
    sso = "" if sso_label is None else (
        '<a class="btn btn-outline-primary mt-3 w-100" id="signin-oidc" '
        f'href="/auth/oidc/login?next={escape(quote(target, safe="/"))}">'
        f"Sign in with {escape(sso_label)}</a>")
    message = f'<div class="alert alert-danger py-2" role="alert">{escape(error)}</div>' \
        if error else ""
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · {escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/vendor/bootstrap.min.css">
<link rel="stylesheet" href="/assets/dspo.css"></head>
<body class="bg-light"><main class="container signin">
<h1 class="h4 my-4">{escape(title)}</h1>
<form method="post" action="/login" class="card card-body">
{message}
<label class="form-label" for="username">User</label>
<input class="form-control mb-3" id="username" name="username" autocomplete="username"
 required autofocus>
<label class="form-label" for="password">Password</label>
<input class="form-control mb-3" id="password" name="password" type="password"
 autocomplete="current-password" required>
<input type="hidden" name="next" value="{escape(target)}">
{csrf}
<button class="btn btn-primary" type="submit" id="signin">Sign in</button>
</form>{sso}</main></body></html>"""
    return flask.make_response(html, status)
