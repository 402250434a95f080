"""The navigation bar: page links, the product selector and the date range, all in the URL.

One callback keeps the URL and the controls in step: a control change writes the URL
(pages re-render from it), a navigation fills the controls from the URL, and every page
link carries the current filters along.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from config.schema import DspoConfig
from dashboard.auth.access import ACTION_ROLES, Need, allows, callback, page_access
from dashboard.auth.guard import landing
from dashboard.auth.principal import Principal
from dashboard.filters import date_range, search, split_search


def navbar(config: DspoConfig, pages: list[dict[str, Any]], principal: Principal,
           form_token: str | None = None) -> dbc.Navbar:
    """Links to the pages the principal may open (hiding the others is for clarity only:
    the guard refuses them anyway), the filters for those who see products, who is
    signed in and a sign-out button."""
    shown = [p for p in pages if _listed(p, principal)]
    ordered = sorted(shown, key=lambda p: (p.get("order") or 0, p["name"]))
    links = [
        dbc.NavItem(dbc.NavLink(p["name"], href=p["relative_path"], active="exact",
                                id={"type": "nav-link", "path": p["relative_path"]}))
        for p in ordered
    ]
    # Stakeholders and share links open KPI pages only, which choose their own products.
    products = [p for p in config.products if principal.sees_product(p.key)] \
        if principal.role in ACTION_ROLES else []
    options = [{"label": p.name, "value": p.key} for p in products]
    filters = html.Div([
        dcc.Dropdown(id="filter-product", options=options, clearable=False,
                     value=options[0]["value"] if options else None,
                     className="product-select"),
        dcc.DatePickerRange(id="filter-dates", display_format="YYYY-MM-DD",
                            clearable=True, className="ms-2"),
    ], className="d-flex align-items-center", hidden=not options)
    return dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand(config.dashboard.title, href=landing(principal),
                            className="fw-semibold"),
            dbc.Nav(links, navbar=True, className="me-auto flex-wrap"),
            filters,
            _who(principal, form_token),
        ], fluid=True),
        color="dark", dark=True, className="mb-3 py-1",
    )


def _listed(page: dict[str, Any], principal: Principal) -> bool:
    access = page_access(page)
    if access in ("po", "admin"):
        return allows(principal, Need(access, page["path"]))
    if access == "shell":  # a page every principal may open lists itself (the KPI home)
        return principal.kind == "user" and bool(page.get("listed", False))
    return access == "stakeholder" and principal.kind == "user" and page.get("listed", True)


def _who(principal: Principal, form_token: str | None) -> html.Div | html.Form:
    """Who is signed in, with a sign-out form (a POST with the session's form token)."""
    if principal.kind == "share":
        until = f"{principal.share_until:%d %b %Y %H:%M} UTC" if principal.share_until else ""
        return html.Div(f"Shared by {principal.shared_by}, open until {until}",
                        className="text-light small ms-3", id="shell-shared-by")
    if not principal.signed_in:
        return html.Div()
    return html.Form([
        html.Span(f"{principal.username} ({principal.role})", className="text-light small me-2",
                  id="shell-user"),
        dcc.Input(type="hidden", name="form_token", value=form_token or ""),
        html.Button("Sign out", type="submit", className="btn btn-sm btn-outline-light",
                    id="shell-sign-out"),
    ], method="post", action="/logout", className="d-flex align-items-center ms-3 mb-0")


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
    access="shell",
)
def sync_filters(url_search: str | None, product: str | None, start: str | None,
                 end: str | None, options: list[dict[str, str]]) -> tuple[Any, ...]:
    shared, own = split_search(url_search)
    if ctx.triggered_id == "url" or ctx.triggered_id is None:
        keys = [o["value"] for o in options or []]
        chosen = shared.get("product")
        selected = chosen if chosen in keys else (keys[0] if keys else None)
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
    access="shell",
)
def carry_filters(url_search: str | None, ids: list[dict[str, str]]) -> list[str]:
    """Page links keep the shared filters, not another page's own parameters."""
    shared, _ = split_search(url_search)
    query = search(shared.get("product"), shared.get("start"), shared.get("end"))
    return [f"{i.get('path', '/')}{query}" for i in ids]  # an id without a path: home

