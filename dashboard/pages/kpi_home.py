"""The stakeholders' home (`/kpi/`): the KPI pages the principal may open.

A stakeholder lands here after signing in and sees the listed pages whose audience names
them; a share link sees only its own page; a PO or admin sees every page of their
products (unlisted ones marked), with whom each is published for. Open to every signed-in
principal ("shell"): what it lists is decided per page (`dashboard.stakeholders`).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from config.stakeholders import EVERY_STAKEHOLDER, StakeholderPage
from dashboard.auth.principal import current as current_principal
from dashboard.components.panels import page_header
from dashboard.components.tables import Cell, Column, Row, data_table
from dashboard.context import current
from dashboard.stakeholders import listed_pages

COLUMNS = [Column("Page"), Column("Products"), Column("For")]


def layout(**_query: str) -> html.Div:
    principal = current_principal()
    config = current().config
    pages = listed_pages(principal, config)
    header = page_header("KPI pages", "Published by the product owners: objectives and usage "
                         "against their targets.")
    if not pages:
        return html.Div([header, html.P(
            "No KPI page is published for you yet; ask your product owner.",
            className="text-muted", **{"data-testid": "kpi-home-empty"})], id="kpi-home")
    names = {p.key: p.name for p in config.products}
    staff = principal.kind == "user" and principal.role in ("po", "admin")
    columns = COLUMNS if staff else COLUMNS[:2]
    rows = [_row(page, names, staff) for page in pages]
    return html.Div([header, data_table(columns, rows, testid="kpi-home-pages")],
                    id="kpi-home")


def _row(page: StakeholderPage, names: dict[str, str], staff: bool) -> Row:
    link = dcc.Link(page.title, href=f"/kpi/{page.slug}", id=f"kpi-home-link-{page.slug}")
    cells: list[Any] = [Cell(link), ", ".join(names[k] for k in page.products)]
    if staff:
        cells.append(_audience(page))
    return Row(cells, testid=f"kpi-home-page-{page.slug}")


def _audience(page: StakeholderPage) -> str:
    people = "every stakeholder" if EVERY_STAKEHOLDER in page.audience else \
        (", ".join(page.audience) or "share links only")
    return people if page.listed else f"{people} (unlisted)"


dash.register_page(__name__, path="/kpi", name="KPI pages", title="dspo · KPI pages",
                   order=90, access="shell", listed=True, layout=layout)
