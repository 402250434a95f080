"""The Dash app factory: shell, navigation and pages, with every asset served locally."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Dash, dcc, html

from config.schema import DspoConfig
from dashboard.context import DashboardContext, install
from store.db import Store

HERE = Path(__file__).resolve().parent
PAGES = ("dashboard.pages.overview",)


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
    for module in PAGES:
        import_module(module)
    install(app.server, DashboardContext(config, store))
    app.layout = _shell(config)
    return app


def _shell(config: DspoConfig) -> html.Div:
    links = [
        dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact"))
        for page in dash.page_registry.values()
    ]
    navbar = dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand(config.dashboard.title, href="/", className="fw-semibold"),
            dbc.Nav(links, navbar=True, className="me-auto"),
        ], fluid=True),
        color="dark", dark=True, className="mb-3 py-1",
    )
    return html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        navbar,
        dbc.Container(dash.page_container, fluid=True, className="pb-4"),
    ])
