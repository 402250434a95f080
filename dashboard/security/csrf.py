"""Cross-site request forgery: no page of another site makes a browser change anything here.

Two layers on every state-changing request (POST, PUT, PATCH, DELETE), except under the
exempt prefixes (the push API: bearer tokens, no cookies, so nothing a browser would send
on its own):

1. Where the request was started. Browsers say it (`Sec-Fetch-Site`, else `Origin`); a
   request started by another site, or by a sandboxed report (opaque origin), is refused.
   It is the check of Go's `http.CrossOriginProtection`; it needs nothing from the page, so
   it also covers plain HTML forms such as sign-in.
2. A token only dspo's own pages can read (double submit): a random cookie `_csrf_token`,
   set on page loads (SameSite=Strict; not HttpOnly, because the page's script copies it),
   must come back in the `X-CSRFToken` header. Dash's renderer does exactly that on every
   request it makes (dash-renderer `getCSRFHeader`, with Dash's default names), so the token
   is required on Dash callback requests. The plain HTML forms (sign-in, sign-out) carry
   the session's own synchronizer token instead (`dashboard.auth.form_token`).
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Collection, Sequence
from urllib.parse import urlsplit

import flask

from dashboard.security.answers import answer

COOKIE_NAME = "_csrf_token"  # Dash's default csrf_token_name
HEADER_NAME = "X-CSRFToken"  # Dash's default csrf_header_name
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
_NEW = "dspo_csrf_new"
_CURRENT = "dspo_csrf_token"
RELOAD = "Reload the page and try again."


def _valid(token: str | None) -> str | None:
    return token if token is not None and _TOKEN.fullmatch(token) else None


def csrf_token() -> str:
    """This browser's token; a new one is set as the cookie on this response when the
    browser has none."""
    g = flask.g
    token = g.get(_CURRENT) or _valid(flask.request.cookies.get(COOKIE_NAME))
    if token is None:
        token = secrets.token_urlsafe(32)
        setattr(g, _NEW, True)
    setattr(g, _CURRENT, token)
    return token


def token_refusal(sent: str | None) -> str | None:
    """Why `sent` is not this browser's token, or None when it is."""
    cookie = _valid(flask.request.cookies.get(COOKIE_NAME))
    if cookie is None:
        return f"the request carried no CSRF cookie ({COOKIE_NAME}). {RELOAD}"
    if not sent:
        return f"the request carried no CSRF token ({HEADER_NAME} header). {RELOAD}"
    if not hmac.compare_digest(sent.encode(), cookie.encode()):
        return f"the request's CSRF token does not match its cookie. {RELOAD}"
    return None


def _netloc(url: str) -> str | None:
    """host[:port] of an origin, without the scheme's default port."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return re.sub(r":(80|443)$", "", parts.netloc.lower())


def origin_refusal() -> str | None:
    """Why the request looks started by another site, or None."""
    headers = flask.request.headers
    site = headers.get("Sec-Fetch-Site")
    if site is not None:
        if site in ("same-origin", "none"):
            return None
        return f"the request was started by another site (Sec-Fetch-Site: {site})"
    origin = headers.get("Origin")
    if origin is None:
        return None  # not a browser, or one too old to say: the token still guards Dash
    if _netloc(origin) == re.sub(r":(80|443)$", "", flask.request.host.lower()):
        return None
    return f"the request was started by another site (Origin: {origin[:200]})"


def install_csrf(server: flask.Flask, *, secure: bool, token_paths: Collection[str],
                 exempt_prefixes: Sequence[str] = ()) -> None:
    """Check every state-changing request; set the token cookie on page loads."""
    exempt = tuple(exempt_prefixes)

    def _refuse_forgeries() -> flask.Response | None:
        request = flask.request
        if request.method not in UNSAFE_METHODS or request.path.startswith(exempt):
            return None
        reason = origin_refusal()
        if reason is None and request.path in token_paths:
            reason = token_refusal(request.headers.get(HEADER_NAME))
        return None if reason is None else answer(403, f"Refused: {reason}")

    # Before the app's own hooks (the sign-in guard): a forged request is refused as such,
    # whoever it claims to be, and reaches no other code.
    server.before_request_funcs.setdefault(None, []).insert(0, _refuse_forgeries)

    @server.after_request
    def _set_token(response: flask.Response) -> flask.Response:
        request = flask.request
        page_load = request.method == "GET" and response.mimetype == "text/html"
        has_cookie = _valid(request.cookies.get(COOKIE_NAME)) is not None
        if (page_load and not has_cookie) or flask.g.get(_NEW):
            response.set_cookie(COOKIE_NAME, csrf_token(), secure=secure, httponly=False,
                                samesite="Strict", path="/")
        return response
