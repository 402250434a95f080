"""Admin: who may sign in, with which role, and the audit log of every state-changing
action (who, what, when). Users are managed with `dspo users ...`; this page shows them."""

from __future__ import annotations

import json
from typing import Any

import dash
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components.panels import card, page_header
from dashboard.components.tables import Column, data_table
from dashboard.context import current
from dashboard.services.admin import AUDIT_PAGE, build_admin

USER_COLUMNS = [Column("User", className="fw-semibold"), Column("Name"), Column("Role"),
                Column("Products"), Column("Signs in with"), Column("Since", className="nowrap")]
AUDIT_COLUMNS = [Column("When", className="nowrap"), Column("Who"), Column("Action"),
                 Column("On"), Column("Detail", className="small"), Column("From")]


def layout(offset: str | None = None, **_query: str) -> html.Div:
    ctx = current()
    tz = ctx.config.dashboard.timezone
    try:
        start = max(0, int(offset or 0))
    except ValueError:
        start = 0
    view = build_admin(ctx.store, offset=start)
    users = data_table(USER_COLUMNS, [[
        u.username, u.display_name, u.role + (" (disabled)" if u.disabled else ""),
        ", ".join(u.products) or ("all" if u.role != "stakeholder" else "–"), u.origin,
        fmt.local_time(u.created_at, tz),
    ] for u in view.users], testid="admin-users")
    events = data_table(AUDIT_COLUMNS, [[
        fmt.local_time(e["at"], tz), e["actor"], e["action"], e["target"],
        _detail(e["detail"]), e["address"] or "",
    ] for _, e in view.events.iterrows()], testid="admin-audit")
    pager: list[Any] = []
    if view.offset:
        pager.append(dcc.Link("Newer", href=f"/admin?offset={max(0, view.offset - AUDIT_PAGE)}",
                              className="me-3"))
    if view.has_more:
        pager.append(dcc.Link("Older", href=f"/admin?offset={view.offset + AUDIT_PAGE}"))
    return html.Div([
        page_header("Admin", "Users are added, removed and given roles with `dspo users`; "
                    "every change, sign-in and action lands in the audit log."),
        card("Users", [users], "admin-users-card"),
        html.Div(className="mb-3"),
        card("Audit log (newest first)", [events, html.Div(pager, className="mt-2")],
             "admin-audit-card"),
    ])


def _detail(detail: object) -> str:
    if not detail:
        return ""
    return json.dumps(detail, ensure_ascii=False, sort_keys=True)[:300]


dash.register_page(__name__, path="/admin", name="Admin", title="dspo · Admin", order=99,
                   layout=layout, access="admin")
