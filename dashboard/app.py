"""The Dash app factory: shell, shared filters, navigation and pages; assets served locally."""

from __future__ import annotations

import functools
import pkgutil
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Dash, dcc, html

from config.schema import DspoConfig
from dashboard import pages
from dashboard.auth import form_token, install_auth
from dashboard.auth.access import attach_callbacks
from dashboard.auth.principal import current
from dashboard.context import DashboardContext, install
from dashboard.export import register_exports
from dashboard.health import register_health
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
    for page in dash.page_registry.values():
        if callable(page.get("layout")):
            page["layout"] = one_value_each(page["layout"])
    attach_callbacks(app)
    install(app.server, DashboardContext(config, store))
    install_auth(app.server, config, store)
    register_reports(app.server, config)
    register_exports(app.server)
    register_health(app.server, store)

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


def one_value_each(layout: Callable[..., Any]) -> Callable[..., Any]:
    """A page's layout reads one string per query parameter, but Dash passes a repeated one
    (`?end=a&end=b`) as a list, which a page fails on (a 500): keep the first, as
    `filters.split_search` does. Idempotent (the page registry outlives an app)."""
    if getattr(layout, "one_value_each", False):
        return layout

    @functools.wraps(layout)
    def read(**query: Any) -> Any:
        return layout(**{k: v[0] if isinstance(v, list) and v else v
                         for k, v in query.items()})

    read.one_value_each = True  # type: ignore[attr-defined]
    return read
