"""The web app `dspo serve` and gunicorn run: the dashboard plus the push API.

The dashboard never imports collectors (docs/architecture.md); the push API writes through
the collectors' runner, so the two meet here, in the shell, on one Flask server.
"""

from __future__ import annotations

from dash import Dash

from collectors.push.api import API_PREFIX, mount
from config.schema import DspoConfig
from dashboard.app import create_app
from dashboard.security import install_security
from store.db import Store


def create_web_app(config: DspoConfig, store: Store) -> Dash:
    """The Dash app with the push API (`/api/v1/...`) mounted on its Flask server, secured
    as a whole (docs/security.md); the push API authenticates by bearer token, not cookie."""
    app = create_app(config, store)
    mount(app.server, config.sources, store)
    install_security(app, config, csrf_exempt=[API_PREFIX + "/"])
    return app
