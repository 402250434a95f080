"""A server that is safe to expose: headers, hosts, CSRF, callback bodies and errors.

`install_security(app, config)` puts all of it on the Dash app's Flask server, once, after
every page, callback and route is registered (`dspo/web.py`). What each part guards
against and how to deploy behind HTTPS: docs/security.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from dash import Dash

from config.schema import DspoConfig
from dashboard.security.callbacks import ENDPOINT, guard_callbacks
from dashboard.security.csrf import install_csrf
from dashboard.security.errors import install_errors
from dashboard.security.headers import install_headers, install_hosts

__all__ = ["install_security"]


def install_security(app: Dash, config: DspoConfig, *, csrf_exempt: Sequence[str] = ()
                     ) -> None:
    """Secure the app's server. `csrf_exempt`: path prefixes of routes that authenticate
    by a bearer token, never by a cookie (the push API), so no forged request can act.

    Takes the Dash app, not only its server: the CSP admits Dash's inline scripts by their
    hashes, and callback bodies are checked against the app's callbacks."""
    server = app.server
    dashboard = config.dashboard
    install_headers(server, dashboard, app.csp_hashes)
    # Each goes before the app's own request hooks: the host check first, then CSRF.
    install_csrf(server, secure=dashboard.https, exempt_prefixes=csrf_exempt,
                 token_paths={app.config.routes_pathname_prefix + ENDPOINT})
    install_hosts(server, dashboard)
    guard_callbacks(app)
    install_errors(server)
