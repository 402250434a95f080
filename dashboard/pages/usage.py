"""Usage: is the product used as much as agreed? Each KPI against its target, week over
week, over the date range in the URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components.panels import GRAPH_CONFIG, card, empty_state, status_badge
from dashboard.context import current
from dashboard.figures.usage import usage_chart
from dashboard.filters import date_range
from dashboard.services.usage import UsageRow, build_usage


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           **_query: str) -> html.Div:
    ctx = current()
    selected = ctx.product(product)
    now = datetime.now(UTC)
    dates = date_range(start, end, now=now)
    as_of = min(now, dates.end - timedelta(microseconds=1))
    view = build_usage(ctx.store, selected, start=dates.start, as_of=as_of)
    header = html.Div([
        html.H4(f"{selected.name}: usage", className="mb-0"),
        html.Div(f"{dates.start:%d %b %Y} – {as_of:%d %b %Y %H:%M} UTC; week over week "
                 "compares the last 7 days with the 7 before", className="kpi-caption"),
    ], className="mb-3")
    if not view.rows:
        return html.Div([header, empty_state("No usage KPIs for this product yet.",
                                             "sources[].queries (kind: sql_kpis)")])
    return html.Div([header, dbc.Row([
        dbc.Col(_kpi_card(row), xl=6, className="mb-3") for row in view.rows
    ])])


def _kpi_card(row: UsageRow) -> dbc.Card:
    kpi = row.kpi
    name = kpi.name
    unit = f" {row.unit}" if row.unit else ""
    if kpi.target is not None and kpi.op is not None:
        target = f"target {kpi.op} {fmt.number(kpi.target)}{unit}"
    else:
        target = f"no target: add a usage objective with kpi: {name}"
    judged = html.Div([
        html.Span(fmt.number(kpi.judged), className="kpi-figure",
                  **{"data-testid": f"usage-judged-{name}"}),
        html.Span(unit, className="kpi-caption"), html.Span(" ", className="me-1"),
        status_badge(kpi.status, f"usage-status-{name}"),
        html.Div(kpi.judged_as, className="kpi-caption", title=kpi.judged_detail),
        html.Div(target, className="kpi-caption", **{"data-testid": f"usage-target-{name}"}),
    ], className="me-4") if kpi.target is not None else html.Div([
        # without a target there is nothing to judge: no badge rather than "no data"
        html.Div(target, className="kpi-caption", **{"data-testid": f"usage-target-{name}"}),
    ], className="me-4")
    figures = html.Div([
        judged,
        html.Div([
            html.Span(fmt.number(kpi.latest), className="kpi-figure",
                      **{"data-testid": f"usage-latest-{name}"}),
            html.Span(unit, className="kpi-caption"),
            html.Div(f"latest, {kpi.latest_ts:%a %d %b}" if kpi.latest_ts else "no value",
                     className="kpi-caption"),
        ], className="me-4"),
        html.Div([
            html.Span(fmt.change(kpi.week_over_week), className="kpi-figure",
                      **{"data-testid": f"usage-wow-{name}"}),
            html.Div("week over week", className="kpi-caption"),
        ], className="me-4"),
        html.Div([
            html.Span(fmt.number(kpi.mean_7d), className="kpi-figure",
                      **{"data-testid": f"usage-mean-{name}"}),
            html.Div("7-day mean", className="kpi-caption"),
        ]),
    ], className="d-flex flex-wrap align-items-start mb-2")
    if row.chart.empty:
        body = [figures, empty_state("No points in this date range.", "sources[].queries")]
    else:
        body = [figures, _graph(usage_chart(row.chart, unit=row.unit, target=kpi.target,
                               warning=kpi.warning, downsampled=row.downsampled))]
    return card(name, body, f"usage-kpi-{name}")


def _graph(figure: go.Figure) -> dcc.Graph:
    """A chart as tall as its figure says: a percentage height collapses inside cards."""
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG,
                     style={"height": f"{figure.layout.height or 260}px"})


dash.register_page(__name__, path="/usage", name="Usage", title="dspo · Usage", order=60,
                   layout=layout)
