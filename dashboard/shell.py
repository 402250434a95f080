"""The navigation bar: page links, the product selector and the date range, all in the URL.

One callback keeps the URL and the controls in step: a control change writes the URL
(pages re-render from it), a navigation fills the controls from the URL, and every page
link carries the current filters along.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from config.schema import DspoConfig
from dashboard.filters import date_range, search, split_search


def navbar(config: DspoConfig, pages: list[dict[str, Any]]) -> dbc.Navbar:
    ordered = sorted(pages, key=lambda p: (p.get("order") or 0, p["name"]))
    links = [
        dbc.NavItem(dbc.NavLink(p["name"], href=p["relative_path"], active="exact",
                                id={"type": "nav-link", "path": p["relative_path"]}))
        for p in ordered
    ]
    options = [{"label": p.name, "value": p.key} for p in config.products]
    return dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand(config.dashboard.title, href="/", className="fw-semibold"),
            dbc.Nav(links, navbar=True, className="me-auto flex-wrap"),
            html.Div([
                dcc.Dropdown(id="filter-product", options=options, clearable=False,
                             value=config.products[0].key, className="product-select"),
                dcc.DatePickerRange(id="filter-dates", display_format="YYYY-MM-DD",
                                    clearable=True, className="ms-2"),
            ], className="d-flex align-items-center"),
        ], fluid=True),
        color="dark", dark=True, className="mb-3 py-1",
    )


@callback(
    Output("url", "search"),
    Output("filter-product", "value"),
    Output("filter-dates", "start_date"),
    Output("filter-dates", "end_date"),
    Input("url", "search"),
    Input("filter-product", "value"),
    Input("filter-dates", "start_date"),
    Input("filter-dates", "end_date"),
    State("filter-product", "options"),
)
def sync_filters(url_search: str | None, product: str | None, start: str | None,
                 end: str | None, options: list[dict[str, str]]) -> tuple[Any, ...]:
    shared, own = split_search(url_search)
    if ctx.triggered_id == "url" or ctx.triggered_id is None:
        keys = [o["value"] for o in options]
        chosen = shared.get("product")
        selected = chosen if chosen in keys else keys[0]
        shown = date_range(shared.get("start"), shared.get("end"), now=datetime.now(UTC))
        start_text = shared.get("start") and shown.start.date().isoformat()
        return no_update, selected, start_text, shared.get("end")
    if ctx.triggered_id == "filter-product" and product != shared.get("product", product):
        own = {}  # a dataset or sprint belongs to the product it was chosen for
    return search(product, start, end, own), no_update, no_update, no_update


@callback(
    Output({"type": "nav-link", "path": ALL}, "href"),
    Input("url", "search"),
    State({"type": "nav-link", "path": ALL}, "id"),
)
def carry_filters(url_search: str | None, ids: list[dict[str, str]]) -> list[str]:
    """Page links keep the shared filters, not another page's own parameters."""
    shared, _ = split_search(url_search)
    query = search(shared.get("product"), shared.get("start"), shared.get("end"))
    return [f"{i['path']}{query}" for i in ids]

