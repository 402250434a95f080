"""Overview: a product's health next to its team's delivery, and how fresh the data is.

Objectives and velocity are judged as of the URL's range end (now by default), so a link
ending last Friday shows the overview as it stood then; the Sources card is always now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components.graphs import graph, sparkline
from dashboard.components.panels import card, status_badge
from dashboard.components.stats import stat
from dashboard.components.tables import Cell, Column, data_table
from dashboard.context import page_view
from dashboard.figures.overview import backlog_chart, velocity_chart
from dashboard.figures.overview import sparkline as sparkline_figure
from dashboard.services.overview import HealthRow, Overview, build_overview
from kpis.health import ObjectiveResult


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           **_query: str) -> html.Div:
    view = page_view(product, start, end)
    config = view.context.config
    names = [s.name for s in config.sources if s.product == view.product.key]
    overview = build_overview(view.context.store, view.product, names, as_of=view.as_of)
    return html.Div([
        _header(overview),
        dbc.Row([
            dbc.Col(card("Product health", [_health(overview.health)], "overview-health"),
                    xl=5, lg=12, className="mb-3"),
            dbc.Col(card("Sprint velocity", _velocity(overview), "overview-velocity"),
                    xl=4, lg=6, className="mb-3"),
            dbc.Col(card("Backlog progress", _backlog(overview), "overview-backlog"),
                    xl=3, lg=6, className="mb-3"),
        ]),
        _alerts(overview),
        card("Sources", [
            _sources(overview.sources, names, view.now, config.dashboard.timezone),
            dcc.Link("Runs, freshness and errors of every source",
                     href=f"/sources?product={view.product.key}", className="small"),
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


HEALTH_COLUMNS = [Column("Objective"), Column("Now", "end", "fw-semibold nowrap"),
                  Column("Target", className="text-muted nowrap"), Column("Status"),
                  Column("28 days")]


def _health(rows: list[HealthRow]) -> dbc.Table | html.Div | html.P:
    if not rows:
        return html.P("No objectives configured: add products[].objectives to the config.",
                      className="text-muted")
    return data_table(HEALTH_COLUMNS, [_health_row(i, row) for i, row in enumerate(rows)],
                      className="health-table")


def _health_row(i: int, row: HealthRow) -> list[Any]:
    r = row.result
    metric = getattr(row.objective, "metric", None)
    return [
        r.name,
        Cell(fmt.objective_value(r.kind, r.value, metric), testid=f"objective-value-{i}"),
        Cell(fmt.threshold_text(r.kind, r.op, r.threshold, metric),
             title=_band_text(r, metric)),
        Cell(status_badge(r.status, f"objective-status-{i}", insufficient=r.insufficient),
             title=r.detail),
        sparkline(sparkline_figure(row.trend, r.status)),
    ]


def _band_text(result: ObjectiveResult, metric: str | None) -> str:
    """Tooltip: where amber starts, so the PO sees how close the objective is to failing."""
    if result.warning is None:
        return "green/red only"
    kind = result.kind
    return f"amber between {fmt.objective_value(kind, result.threshold, metric)} and " \
        f"{fmt.objective_value(kind, result.warning, metric)}"


SOURCE_COLUMNS = [Column("Source"), Column("Kind"), Column("Last success"),
                  Column("Last run"), Column("Rows written (last run)", "end"),
                  Column("Error", className="text-danger small")]
RUN_BADGE = {"ok": "success", "failed": "danger"}


def _sources(sources: pd.DataFrame, names: list[str], now: datetime,
             timezone: str) -> dbc.Table | html.Div:
    by_name = {row["source"]: row for _, row in sources.iterrows()}
    rows = []
    for name in names:
        row = by_name.get(name)
        if row is None:
            rows.append([name, "–", "never collected",
                         dbc.Badge("pending", color="secondary"), "", ""])
            continue
        badge = dbc.Badge(row["status"], color=RUN_BADGE.get(row["status"], "secondary"))
        rows.append([
            name, row["kind"],
            Cell(fmt.ago(row["last_success"], now),
                 title=fmt.local_time(row["last_success"], timezone)),
            Cell(badge, testid=f"source-status-{name}"),
            f"{int(row['rows_written']):,}" if pd.notna(row["rows_written"]) else "–",
            row["error"] or "",
        ])
    return data_table(SOURCE_COLUMNS, rows)


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
        stat(fmt.points(overview.average_velocity), "average-velocity",
             unit="points per sprint, mean of the last 3 closed"),
        graph(velocity_chart(overview.velocity, overview.average_velocity)),
    ]


def _backlog(overview: Overview) -> list:  # type: ignore[type-arg]
    summary = overview.backlog_summary
    if not summary.get("items"):
        return [html.P("No backlog items yet: add a files, Jira or GitHub source.",
                       className="text-muted")]
    return [
        stat(fmt.percent(summary.get("share_done_points"), 0), "share-done-points",
             unit="of points done"),
        html.Div(f"{summary['done_items']} of {summary['items']} items done",
                 className="kpi-caption", **{"data-testid": "done-items"}),
        graph(backlog_chart(overview.backlog)),
    ]


dash.register_page(__name__, path="/", name="Overview", title="dspo · Overview", order=0,
                   layout=layout)
