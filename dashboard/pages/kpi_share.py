"""The Share panel of a KPI page: a PO makes a signed, expiring link that opens this one
page without an account, sees the page's links with their state, and revokes one.

Not a page of its own: the KPI page (`kpi.py`) shows the panel to POs of its products and
admins. The callback is an action (`access.callback(..., action=True)`): the guard refuses
it to stakeholders and share links, and it checks again that the signed-in user may share
the page named in its `url.pathname`, since a PO may post any path. Who made or revoked
each link is the signed-in user, in the audit log (`dashboard.services.share`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash_bootstrap_components as dbc
import flask
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from config.stakeholders import StakeholderPage
from dashboard.auth.access import callback
from dashboard.auth.guard import KPI_PREFIX
from dashboard.auth.principal import current as current_principal
from dashboard.auth.routes import share_token
from dashboard.components import format as fmt
from dashboard.components.panels import card
from dashboard.components.tables import Cell, Column, Row, data_table
from dashboard.context import current
from dashboard.services.share import (
    SHARE_DAYS,
    LinkState,
    ShareError,
    create_link,
    page_links,
    revoke_link,
)
from dashboard.stakeholders import may_share

DEFAULT_DAYS = 7
LINK_COLUMNS = [Column("Link"), Column("Made by"), Column("Made", className="nowrap"),
                Column("Expires", className="nowrap"), Column("State"), Column("")]
STATE_COLOURS = {"active": "success", "expired": "secondary", "revoked": "dark"}


def share_panel(page: StakeholderPage) -> html.Div:
    options = [{"label": f"{d} day{'s' if d > 1 else ''}", "value": d} for d in SHARE_DAYS]
    return html.Div(card("Share this page", [
        html.P("A share link opens this page, and only this page, without an account, "
               "until it expires or is revoked.", className="small text-muted mb-2"),
        html.Div([
            html.Span("Valid for", className="me-2 small"),
            dcc.Dropdown(id="kpi-share-days", options=options, value=DEFAULT_DAYS,
                         clearable=False, searchable=False, style={"width": "9rem"}),
            dbc.Button("Create link", id="kpi-share-create", size="sm", className="ms-2"),
        ], className="d-flex align-items-center mb-2"),
        html.Div(_body(page.slug), id="kpi-share-body"),
    ], "kpi-share"), className="kpi-share d-print-none mb-3")


def _body(slug: str, feedback: Any = None) -> list[Any]:
    context = current()
    links = page_links(context.store, slug, datetime.now(UTC))
    return [
        feedback if feedback is not None else html.Div(id="kpi-share-feedback"),
        _table(links, context.config.dashboard.timezone) if links else
        html.P("No share link yet.", className="small text-muted mb-0"),
    ]


def _table(links: list[LinkState], tz: str) -> Any:
    rows = []
    for item in links:
        link = item.link
        revoke = dbc.Button("Revoke", id={"type": "kpi-share-revoke", "link": link.link_id},
                            size="sm", color="outline-danger") if item.state == "active" else ""
        rows.append(Row([
            Cell(link.link_id, className="font-monospace small"), link.created_by,
            fmt.local_time(link.created_at, tz), fmt.local_time(link.expires_at, tz),
            Cell(dbc.Badge(item.state, color=STATE_COLOURS[item.state]),
                 testid=f"kpi-share-state-{link.link_id}"),
            revoke,
        ], testid="kpi-share-link"))
    return data_table(LINK_COLUMNS, rows, testid="kpi-share-links")


def _feedback(text: str, url: str | None = None, color: str = "info") -> dbc.Alert:
    body: list[Any] = [html.Div(text)]
    if url:
        body.append(dcc.Input(value=url, readOnly=True, id="kpi-share-url",
                              className="form-control form-control-sm mt-1"))
    return dbc.Alert(body, color=color, className="py-2", id="kpi-share-feedback")


def _slug(pathname: object) -> str:
    if not isinstance(pathname, str) or not pathname.startswith(KPI_PREFIX):
        return ""
    return pathname[len(KPI_PREFIX):].strip("/")


def _link_url(token: str) -> str:
    """The link as a reader opens it: on the configured public URL, else this host."""
    base = current().config.dashboard.base_url or flask.request.host_url
    return f"{base.rstrip('/')}/share/{token}"


@callback(
    Output("kpi-share-body", "children"),
    Input("kpi-share-create", "n_clicks"),
    Input({"type": "kpi-share-revoke", "link": ALL}, "n_clicks"),
    State("kpi-share-days", "value"),
    State("url", "pathname"),
    prevent_initial_call=True,
    access="stakeholder",
    page="/kpi/<slug>",
    action=True,
)
def act(_create: int | None, _revoke: list[int | None], days: object,
        pathname: object) -> list[Any]:
    """Make or revoke a link as the signed-in user, then list the page's links again."""
    trigger = ctx.triggered_id
    if trigger is None or not any(t["value"] for t in ctx.triggered):
        return no_update  # type: ignore[no-any-return]
    context, principal = current(), current_principal()
    page = context.config.stakeholder_page(_slug(pathname))
    if page is None or not may_share(principal, page):
        return [_feedback("You cannot share this page.", color="danger")]
    now, who = datetime.now(UTC), principal.actor
    address = flask.request.remote_addr
    if trigger == "kpi-share-create":
        try:
            link = create_link(context.store, page.slug, days=days, by=who, now=now,
                               address=address)
        except ShareError as e:
            return _body(page.slug, _feedback(str(e), color="warning"))
        url = _link_url(share_token(flask.current_app.secret_key or "", link.link_id))
        until = fmt.local_time(link.expires_at, context.config.dashboard.timezone)
        return _body(page.slug, _feedback(f"Link made; it opens this page until {until}:", url))
    link_id = str(trigger["link"])
    done = revoke_link(context.store, page.slug, link_id, by=who, now=now, address=address)
    text = f"Link {link_id} revoked: it no longer opens the page." if done else \
        f"Link {link_id} was not active."
    return _body(page.slug, _feedback(text))
