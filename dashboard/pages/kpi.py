"""A stakeholder KPI page (`/kpi/<slug>`): the objectives and usage KPIs a PO published,
with their targets, status and trend over the page's period, and the PO's commentary.

Read-only and printable: no filters, no backlog internals unless the config shows them,
and a print stylesheet (`assets/print.css`) that drops the navigation and the panels
below. Opened through a share link, the page says who shared it and until when. POs and
admins also get the share panel (`dashboard/pages/kpi_share.py`). `?end=YYYY-MM-DD` shows
the page as it stood at the end of that day, like every other page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import html

from config.stakeholders import StakeholderPage
from dashboard.auth.principal import Principal
from dashboard.auth.principal import current as current_principal
from dashboard.components import format as fmt
from dashboard.components.graphs import graph
from dashboard.components.panels import card, status_badge
from dashboard.components.stats import stat
from dashboard.context import current, page_view
from dashboard.figures.kpi import objective_trend
from dashboard.figures.overview import velocity_chart
from dashboard.figures.usage import usage_chart
from dashboard.pages.kpi_share import share_panel
from dashboard.services.kpi_page import Delivery, KpiPageView, KpiSection, build_kpi_page
from dashboard.services.overview import HealthRow
from dashboard.services.usage import UsageRow
from dashboard.stakeholders import may_open, may_share

PATH_TEMPLATE = "/kpi/<slug>"


def layout(slug: str | None = None, end: str | None = None, **_query: str) -> html.Div:
    context = current()
    principal = current_principal()
    page = context.config.stakeholder_page(slug or "")
    if page is None or not may_open(principal, page):
        # a PO may reach any KPI path (the guard does not know a page's products)
        return _notice("No KPI page here for you.", "kpi-not-found")
    as_of = page_view(None, None, end).as_of
    products = [context.config.product(key) for key in page.products]
    view = build_kpi_page(context.store, page, products, as_of=as_of)
    return html.Div([
        _shared_by(principal),
        _header(view),
        *(_section(section, view, i) for i, section in enumerate(view.sections)),
        _missing(view),
        _exports(page, end),
        share_panel(page) if may_share(principal, page) else None,
    ], id="kpi-page", className="kpi-page")


def _notice(text: str, testid: str) -> html.Div:
    return html.Div(html.P(text, className="text-muted"), id="kpi-page",
                    **{"data-testid": testid})


def _shared_by(principal: Principal) -> html.Div | None:
    if principal.kind != "share" or principal.share_until is None:
        return None
    return html.Div(f"Shared by {principal.shared_by}; this link works until "
                    f"{principal.share_until:%d %b %Y %H:%M} UTC.",
                    className="alert alert-light py-2 kpi-shared",
                    **{"data-testid": "kpi-shared-by"})


def _header(view: KpiPageView) -> html.Div:
    """Title, the instant the numbers stand at, and the PO's commentary as plain text."""
    page = view.page
    caption = (f"As of {view.as_of:%d %b %Y %H:%M} UTC; trends over the last "
               f"{view.trend_days} days")
    commentary = html.P(page.commentary, className="kpi-commentary mt-2 mb-0",
                        **{"data-testid": "kpi-commentary"}) if page.commentary else None
    return html.Div([
        html.H3(page.title, className="mb-1", **{"data-testid": "kpi-title"}),
        html.Div(caption, className="kpi-caption", **{"data-testid": "kpi-as-of"}),
        commentary,
    ], className="mb-3")


def _section(section: KpiSection, view: KpiPageView, index: int) -> html.Div:
    key = section.product.key
    cards = [_objective_card(row, key, i) for i, row in enumerate(section.objectives)]
    cards += [_usage_card(row, key) for row in section.usage]
    body: list[Any] = [
        html.H4([section.product.name, " ", status_badge(
            section.status, f"kpi-status-{key}")], className="mb-1"),
        html.Div(section.product.description, className="text-muted small mb-2"),
        dbc.Row([dbc.Col(c, lg=6, className="mb-3 kpi-card") for c in cards]),
    ]
    if section.delivery is not None:
        body.append(_delivery(section.delivery, key))
    return html.Div(body, className="kpi-section", id=f"kpi-section-{index}")


def _objective_card(row: HealthRow, product: str, i: int) -> dbc.Card:
    r = row.result
    metric = getattr(row.objective, "metric", None)
    ids = f"{product}-{i}"
    value = stat(fmt.objective_value(r.kind, r.value, metric), f"kpi-objective-value-{ids}",
                 html.Span(f"target {fmt.threshold_text(r.kind, r.op, r.threshold, metric)}",
                           **{"data-testid": f"kpi-objective-target-{ids}"}),
                 extra=status_badge(r.status, f"kpi-objective-status-{ids}",
                                    insufficient=r.insufficient))
    trend = objective_trend(row.trend, kind=r.kind, status=r.status, threshold=r.threshold,
                            warning=r.warning)
    return card(r.name, [value, html.Div(r.detail, className="kpi-caption mb-1"),
                         graph(trend)], f"kpi-objective-{ids}")


def _usage_card(row: UsageRow, product: str) -> dbc.Card:
    kpi = row.kpi
    ids = f"{product}-{kpi.name}"
    target = (f"target {kpi.op} {fmt.number(kpi.target)}" if kpi.target is not None
              else "no target agreed")
    figures = html.Div([
        stat(fmt.number(kpi.mean_7d), f"kpi-usage-mean-{ids}",
             ["7-day mean · ", html.Span(target, **{"data-testid": f"kpi-usage-target-{ids}"})],
             unit=row.unit, extra=status_badge(kpi.status, f"kpi-usage-status-{ids}")
             if kpi.target is not None else None),
        stat(fmt.change(kpi.week_over_week), f"kpi-usage-wow-{ids}", "week over week"),
    ], className="d-flex flex-wrap align-items-start column-gap-4 mb-2")
    chart = usage_chart(row.chart, unit=row.unit, target=kpi.target, warning=kpi.warning,
                        downsampled=row.downsampled)
    return card(f"{kpi.name} (usage)", [figures, graph(chart)], f"kpi-usage-{ids}")


def _delivery(delivery: Delivery, product: str) -> dbc.Row:
    summary = delivery.backlog
    done = html.Div(f"{summary.get('done_items', 0)} of {summary.get('items', 0)} items done",
                    className="kpi-caption", **{"data-testid": f"kpi-done-items-{product}"})
    velocity: list[Any] = [stat(fmt.points(delivery.average_velocity),
                                f"kpi-velocity-{product}",
                                unit="points per sprint, mean of the last 3 closed")]
    if not delivery.velocity.empty:
        velocity.append(graph(velocity_chart(delivery.velocity, delivery.average_velocity)))
    return dbc.Row([
        dbc.Col(card("Sprint velocity", velocity, f"kpi-velocity-card-{product}"), lg=8,
                className="mb-3 kpi-card"),
        dbc.Col(card("Backlog progress", [
            stat(fmt.percent(summary.get("share_done_points"), 0),
                 f"kpi-backlog-done-{product}", unit="of points done"), done,
        ], f"kpi-backlog-card-{product}"), lg=4, className="mb-3 kpi-card"),
    ])


def _missing(view: KpiPageView) -> html.Div | None:
    if not view.missing_kpis:
        return None
    return html.Div(f"No data yet for: {', '.join(view.missing_kpis)}.",
                    className="text-muted small mb-3", **{"data-testid": "kpi-missing-kpis"})


def _exports(page: StakeholderPage, end: str | None) -> html.Div:
    """PDF and PNG of this page for a sprint review, rendered on the server."""
    query = f"?{urlencode({'end': end})}" if end else ""
    base = f"/export/kpi/{page.slug}"
    return html.Div([
        html.Span("Download for a review: ", className="kpi-caption"),
        html.A("PDF", href=f"{base}.pdf{query}", id="kpi-export-pdf", className="me-2"),
        html.A("PNG", href=f"{base}.png{query}", id="kpi-export-png"),
    ], className="kpi-exports mb-3 d-print-none")


def _title(slug: str | None = None, **_: Any) -> str:
    page = current().config.stakeholder_page(slug or "") if slug else None
    if page is None or not may_open(current_principal(), page):
        return "dspo · KPI page"
    return f"dspo · {page.title}"


dash.register_page(__name__, path_template=PATH_TEMPLATE, name="KPI page", title=_title,
                   access="stakeholder", listed=False, layout=layout)
