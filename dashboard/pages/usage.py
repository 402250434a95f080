"""Usage: is the product used as much as agreed? Each KPI against its target, week over
week, over the date range in the URL."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard.components import format as fmt
from dashboard.components.graphs import graph
from dashboard.components.panels import card, empty_state, page_header, status_badge
from dashboard.components.stats import stat
from dashboard.context import page_view
from dashboard.figures.usage import usage_chart
from dashboard.services.usage import UsageRow, build_usage


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           **_query: str) -> html.Div:
    page = page_view(product, start, end)
    view = build_usage(page.context.store, page.product, start=page.dates.start,
                       as_of=page.as_of)
    header = page_header(f"{page.product.name}: usage",
                         f"{page.dates.start:%d %b %Y} – {page.as_of:%d %b %Y %H:%M} UTC; "
                         "week over week compares the last 7 days with the 7 before")
    if not view.rows:
        return html.Div([header, empty_state("No usage KPIs for this product yet.",
                                             "sources[].queries (kind: sql_kpis)")])
    return html.Div([header, dbc.Row([
        dbc.Col(_kpi_card(row), xl=6, className="mb-3") for row in view.rows
    ])])


def _target(row: UsageRow) -> html.Div:
    kpi = row.kpi
    unit = f" {row.unit}" if row.unit else ""
    if kpi.target is not None and kpi.op is not None:
        text = f"target {kpi.op} {fmt.number(kpi.target)}{unit}"
    else:
        text = f"no target: add a usage objective with kpi: {kpi.name}"
    return html.Div(text, className="kpi-caption", **{"data-testid": f"usage-target-{kpi.name}"})


def _kpi_card(row: UsageRow) -> dbc.Card:
    kpi = row.kpi
    name = kpi.name
    figures: list[Any] = []
    if kpi.target is not None:
        figures.append(stat(
            fmt.number(kpi.judged), f"usage-judged-{name}",
            [html.Div(kpi.judged_as, title=kpi.judged_detail), _target(row)], unit=row.unit,
            extra=status_badge(kpi.status, f"usage-status-{name}")))
    figures += [
        stat(fmt.number(kpi.latest), f"usage-latest-{name}",
             f"latest, {kpi.latest_ts:%a %d %b}" if kpi.latest_ts else "no value",
             unit=row.unit),
        stat(fmt.change(kpi.week_over_week), f"usage-wow-{name}", "week over week"),
        stat(fmt.number(kpi.mean_7d), f"usage-mean-{name}", "7-day mean"),
    ]
    if kpi.target is None:
        # nothing to judge without a target: say how to set one, and show no badge
        figures.append(html.Div(_target(row), className="w-100"))
    body: list[Any] = [html.Div(figures,
                                className="d-flex flex-wrap align-items-start column-gap-4 mb-2")]
    if row.chart.empty:
        body.append(empty_state("No points in this date range.", "sources[].queries"))
    else:
        body.append(graph(usage_chart(row.chart, unit=row.unit, target=kpi.target,
                                      warning=kpi.warning, downsampled=row.downsampled)))
    return card(name, body, f"usage-kpi-{name}")


dash.register_page(__name__, path="/usage", name="Usage", title="dspo · Usage", order=60,
                   layout=layout)
