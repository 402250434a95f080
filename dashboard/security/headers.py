"""Response headers, trusted hosts and proxies: what every answer of the server carries.

The headers come from flask-talisman, so their syntax and browser quirks are a well-kept
library's business; dspo only chooses the policy. The Content-Security-Policy is the
strictest under which every page renders with no console error in Chromium (checked by
every browser test in tests/e2e, which fails on any console error):

- scripts: only the dashboard's own files, plus Dash's two inline scripts (the renderer's
  start and the pages' title callback) admitted by their SHA-256 (`Dash.csp_hashes`), never
  'unsafe-inline' or 'unsafe-eval' (dspo draws no WebGL trace, the only Plotly code that
  needs eval);
- styles: 'unsafe-inline' stays, because React, Plotly and the date picker set style
  attributes and inject <style> elements; CSS cannot run script;
- images: the dashboard's own and data: URIs (Plotly's and AG Grid's icons); fonts: its
  own; requests (`fetch`) only to the dashboard itself; no plugins, no <base>, forms post
  only here, and no other site may frame a page (clickjacking).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import flask
from flask_talisman import Talisman
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from config.schema import DashboardConfig

REFERRER_POLICY = "same-origin"
HSTS_MAX_AGE = 365 * 24 * 3600

# A report's own policy (dashboard/reports.py): `sandbox` without allow-same-origin gives
# the document an opaque origin, so its scripts run (Evidently draws its charts with them)
# but cannot read dspo's cookies or storage, and nothing it requests is credentialed as
# dspo; connect-src 'none' also stops it from calling anything at all.
REPORT_POLICY: Mapping[str, str] = {
    "sandbox": "allow-scripts",
    "default-src": "'none'",
    "script-src": "'unsafe-inline' 'unsafe-eval'",
    "style-src": "'unsafe-inline'",
    "img-src": "data:",
    "font-src": "data:",
    "connect-src": "'none'",
    "form-action": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def page_policy(script_hashes: Sequence[str]) -> dict[str, str]:
    """The dashboard's Content-Security-Policy, admitting these inline scripts by hash."""
    return {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


View = TypeVar("View", bound=Callable[..., Any])


def own_policy(policy: Mapping[str, str]) -> Callable[[View], View]:
    """Give one view its own Content-Security-Policy instead of the pages' one (talisman
    reads `talisman_view_options` from the view function)."""

    def mark(view: View) -> View:
        view.talisman_view_options = {"content_security_policy": dict(policy)}  # type: ignore[attr-defined]
        return view

    return mark


def install_headers(server: flask.Flask, config: DashboardConfig,
                    script_hashes: Callable[[], Sequence[str]]) -> None:
    """Security headers on every answer; HSTS only when the dashboard is reached over HTTPS.

    `force_https` stays off: dspo is served over plain HTTP on 127.0.0.1 by `make run`, and
    behind a TLS proxy it is the proxy's job to redirect. `script_hashes` is asked on the
    first request, after Dash has registered the inline scripts of its pages (it does so
    on that request, before this hook runs)."""
    samesite = server.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    talisman = Talisman(
        server,
        force_https=False,
        frame_options="DENY",
        content_security_policy=page_policy(()),
        referrer_policy=REFERRER_POLICY,
        strict_transport_security=config.https,
        strict_transport_security_max_age=HSTS_MAX_AGE,
        session_cookie_secure=config.https,
        session_cookie_samesite=samesite,  # talisman would reset it; keep the app's choice
        x_content_type_options=True,
    )
    pending = [True]

    @server.before_request
    def _admit_inline_scripts() -> None:
        if pending:
            talisman.content_security_policy.update(page_policy(script_hashes()))
            pending.clear()


def trusted_hosts(config: DashboardConfig) -> list[str]:
    """The configured host names plus the host of `base_url`, lower-cased."""
    hosts = [h.lower() for h in config.trusted_hosts]
    public = urlsplit(config.base_url).hostname if config.base_url else None
    if public and public not in hosts:
        hosts.append(public)
    return hosts


def install_hosts(server: flask.Flask, config: DashboardConfig) -> None:
    """Refuse foreign Host headers (DNS rebinding) with Flask's own check (400); trust the
    X-Forwarded-* headers of `proxy_hops` proxies, so hosts, schemes and client addresses
    are those the browser used."""
    server.config["TRUSTED_HOSTS"] = trusted_hosts(config)
    # Flask finds the host untrusted while matching the URL but says so only when the view
    # would run: refuse before any other hook (the sign-in redirect) answers instead.
    server.before_request_funcs.setdefault(None, []).insert(0, _refuse_untrusted_host)
    if config.proxy_hops:
        n = config.proxy_hops
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)


def _refuse_untrusted_host() -> None:
    refused = flask.request.routing_exception
    if isinstance(refused, SecurityError):
        raise refused
