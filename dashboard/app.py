"""The Dash app factory: shell, shared filters, navigation and pages; assets served locally."""

from __future__ import annotations

import pkgutil
from importlib import import_module
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Dash, dcc, html

from config.schema import DspoConfig
from dashboard import pages
from dashboard.auth import form_token, install_auth
from dashboard.auth.principal import current
from dashboard.context import DashboardContext, install
from dashboard.reports import register_reports
from dashboard.shell import navbar
from store.db import Store

HERE = Path(__file__).resolve().parent


def create_app(config: DspoConfig, store: Store) -> Dash:
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",  # pages are imported explicitly below, as ordinary modules
        assets_folder=str(HERE / "assets"),
        title=config.dashboard.title,
        update_title=None,
        serve_locally=True,
        suppress_callback_exceptions=True,
    )
    for module in pkgutil.iter_modules(pages.__path__):
        import_module(f"{pages.__name__}.{module.name}")
    install(app.server, DashboardContext(config, store))
    install_auth(app.server, config, store)
    register_reports(app.server, config)

    def layout() -> html.Div:
        """Per request: the navigation shows what this principal may open."""
        principal = current()
        token = form_token() if principal.kind == "user" else None
        return html.Div([
            dcc.Location(id="url", refresh="callback-nav"),
            navbar(config, list(dash.page_registry.values()), principal, token),
            dbc.Container(dash.page_container, fluid=True, className="pb-4"),
        ])

    app.layout = layout
    return app
