"""Overview: a product's health next to its team's delivery, and how fresh the data is."""

from __future__ import annotations

from datetime import UTC, datetime

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components.panels import (
    GRAPH_CONFIG,
    card,
    health_table,
    sources_table,
    status_badge,
)
from dashboard.context import current
from dashboard.figures.overview import backlog_chart, velocity_chart
from dashboard.services.overview import Overview, build_overview


def layout(product: str | None = None, **_query: str) -> html.Div:
    ctx = current()
    selected = ctx.product(product)
    names = [s.name for s in ctx.config.sources if s.product == selected.key]
    overview = build_overview(ctx.store, selected, names, as_of=datetime.now(UTC))
    return html.Div([
        _header(overview),
        dbc.Row([
            dbc.Col(card("Product health", [health_table(overview.health)], "overview-health"),
                    xl=5, lg=12, className="mb-3"),
            dbc.Col(card("Sprint velocity", _velocity(overview), "overview-velocity"),
                    xl=4, lg=6, className="mb-3"),
            dbc.Col(card("Backlog progress", _backlog(overview), "overview-backlog"),
                    xl=3, lg=6, className="mb-3"),
        ]),
        _alerts(overview),
        card("Sources", [
            sources_table(overview.sources, names, overview.as_of,
                          ctx.config.dashboard.timezone),
            dcc.Link("Runs, freshness and errors of every source",
                     href=f"/sources?product={selected.key}", className="small"),
        ], "overview-sources"),
    ])


def _header(overview: Overview) -> dbc.Row:
    product = overview.product
    return dbc.Row([
        dbc.Col([
            html.H4([product.name, " ", status_badge(overview.status, "product-status")],
                    className="mb-0"),
            html.Div(f"{product.description}  ·  PO: {product.owner}".strip(" ·"),
                     className="text-muted small"),
        ]),
    ], className="mb-3 align-items-center")


def _alerts(overview: Overview) -> html.Div:
    """Firing alerts and the backlog items they filed: the first thing to look at."""
    firing = overview.firing
    if firing.empty:
        return html.Div()
    key = overview.product.key
    rows = [html.Li([
        dbc.Badge(a["severity"], color="danger" if a["severity"] == "critical" else "warning",
                  className="me-2"),
        html.Span(a["summary"] or a["rule"], className="fw-semibold"),
        html.Span(f"  since {fmt.ago(a['fired_at'], overview.as_of)}",
                  className="text-muted small"),
        html.Span(["  → ", dcc.Link(a["backlog_key"], href=f"/flow?product={key}")]
                  if a["backlog_key"] else "", **{"data-testid": f"firing-item-{a['rule']}"}),
        html.Span("  silenced" if a["silenced"] else "", className="text-muted small"),
    ], className="mb-1") for _, a in firing.iterrows()]
    return html.Div(card(f"Firing alerts ({len(firing)})", [
        html.Ul(rows, className="list-unstyled mb-1", **{"data-testid": "firing-alerts"}),
        dcc.Link("All alerts", href=f"/alerts?product={key}", className="small"),
    ], "overview-alerts"), className="mb-3")


def _velocity(overview: Overview) -> list:  # type: ignore[type-arg]
    if overview.velocity.empty:
        return [html.P("No sprints yet: add a files, Jira or GitHub source with sprints.",
                       className="text-muted")]
    return [
        html.Div([
            html.Span(fmt.points(overview.average_velocity), className="kpi-figure",
                      **{"data-testid": "average-velocity"}),
            html.Span(" points per sprint, mean of the last 3 closed", className="kpi-caption"),
        ]),
        dcc.Graph(figure=velocity_chart(overview.velocity, overview.average_velocity),
                  config=GRAPH_CONFIG, style={"height": "290px"}),
    ]


def _backlog(overview: Overview) -> list:  # type: ignore[type-arg]
    summary = overview.backlog_summary
    if not summary.get("items"):
        return [html.P("No backlog items yet: add a files, Jira or GitHub source.",
                       className="text-muted")]
    share = summary.get("share_done_points")
    return [
        html.Div([
            html.Span("–" if share is None else f"{share:.0%}", className="kpi-figure",
                      **{"data-testid": "share-done-points"}),
            html.Span(" of points done", className="kpi-caption"),
        ]),
        html.Div(f"{summary['done_items']} of {summary['items']} items done",
                 className="kpi-caption", **{"data-testid": "done-items"}),
        dcc.Graph(figure=backlog_chart(overview.backlog), config=GRAPH_CONFIG,
                  style={"height": "290px"}),
    ]


dash.register_page(__name__, path="/", name="Overview", title="dspo · Overview", order=0,
                   layout=layout)
