"""Data & drift: how far production data has moved from reference, feature by feature.

The dataset lives in the URL (`?dataset=`) next to the shared product and date range, so a
link from an alert or the product map opens the same view. The selector is a row of links,
not a callback: choosing a dataset is a navigation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components.panels import GRAPH_CONFIG, card, empty_state, status_badge
from dashboard.context import current
from dashboard.figures.data import drifted_share_chart, feature_heatmap, quality_chart
from dashboard.filters import date_range
from dashboard.reports import report_url
from dashboard.services.data import DataView, build_data, configured_datasets
from kpis.health import Status

PATH = "/data"


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           dataset: str | None = None, **_query: str) -> html.Div:
    ctx = current()
    selected = ctx.product(product)
    now = datetime.now(UTC)
    dates = date_range(start, end, now=now)
    as_of = min(now, dates.end - timedelta(microseconds=1))
    view = build_data(ctx.store, selected,
                      configured_datasets(list(ctx.config.sources), selected.key),
                      dataset=dataset, start=dates.start, as_of=as_of)
    header = html.H4(f"{selected.name}: data & drift", className="mb-2")
    if view.dataset is None:
        return html.Div([header, empty_state(
            "No drift reports for this product yet.",
            "sources[].datasets (an evidently source)")])
    links = _dataset_links(view, selected.key, start, end)
    return html.Div([
        header,
        links,
        _summary(view),
        dbc.Row([
            dbc.Col(card("Drifted share of columns", _share(view), "data-drift-share"),
                    xl=6, className="mb-3"),
            dbc.Col(card("Data quality", _quality(view), "data-quality"), xl=6,
                    className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(card("Feature drift by week", _features(view), "data-features"), xl=7,
                    className="mb-3"),
            dbc.Col(card("Reports", [_reports(view, ctx.config)], "data-reports"), xl=5,
                    className="mb-3"),
        ]),
    ])


def _dataset_links(view: DataView, product: str, start: str | None,
                   end: str | None) -> html.Div:
    items = []
    for name in view.datasets:
        query = {k: v for k, v in (("product", product), ("dataset", name), ("start", start),
                                   ("end", end)) if v}
        items.append(dbc.NavItem(dbc.NavLink(name, href=f"{PATH}?{urlencode(query)}",
                                             active=name == view.dataset)))
    return html.Div([html.Span("Dataset", className="kpi-caption me-2"),
                     dbc.Nav(items, pills=True, className="d-inline-flex")],
                    id="data-datasets", className="d-flex align-items-center mb-3")


def _latest_row(view: DataView) -> pd.Series | None:
    rows = view.latest[view.latest["dataset"] == view.dataset]
    return None if rows.empty else rows.iloc[-1]


def _summary(view: DataView) -> dbc.Row:
    latest = _latest_row(view)
    if latest is None:
        return dbc.Row(dbc.Col(html.P("No report for this dataset by the end of the range.",
                                      className="text-muted")))
    share = latest["drifted_share"]
    drifted_features = view.matrix.drift_counts
    most = ", ".join(str(f) for f in drifted_features[drifted_features > 0].index[:3])
    target = (f"objective {view.objective.op} {fmt.percent(view.objective.threshold, 0)}"
              if view.objective else "no drift objective: judged by Evidently's dataset flag")
    return dbc.Row([
        dbc.Col(html.Div([
            html.Span(fmt.percent(share), className="kpi-figure",
                      **{"data-testid": "data-latest-share"}),
            html.Span(" of columns drifted in the week to "
                      f"{latest['window_end']:%d %b %Y}", className="kpi-caption"),
            html.Span(" ", className="me-2"),
            status_badge(Status(latest["status"]), "data-latest-status",
                         insufficient=bool(latest["insufficient"])),
            html.Div(f"{int(latest['drifted_count'])} of {int(latest['column_count'])} columns"
                     f" · {target}", className="kpi-caption"),
        ]), md=7),
        dbc.Col(html.Div([
            html.Div("Drifted most often", className="kpi-caption"),
            html.Div(most or "no feature drifted in the range",
                     **{"data-testid": "data-top-features"}),
        ]), md=5),
    ], className="mb-3")


def _share(view: DataView) -> list[Any]:
    if view.history.empty:
        return [empty_state("No drift report in this date range.", "sources[].datasets")]
    return [_graph(drifted_share_chart(view.history, view.objective))]


def _features(view: DataView) -> list[Any]:
    if view.matrix.empty:
        return [empty_state("No per-feature results in this date range.",
                            "sources[].datasets[].columns")]
    return [
        html.Div("Red: the feature drifted that week; grey: too few rows that week to "
                 "judge; numbers are the test's score (method in the tooltip). Most often "
                 "drifted first.",
                 className="kpi-caption mb-1"),
        _graph(feature_heatmap(view.matrix)),
    ]


def _quality(view: DataView) -> list[Any]:
    if view.quality.empty:
        return [empty_state("No data quality in this date range.", "sources[].datasets")]
    changes = view.schema_changes
    if changes.empty:
        listed: Any = html.Div("No schema change against the reference.",
                               className="kpi-caption", **{"data-testid": "data-schema"})
    else:
        listed = html.Ul([
            html.Li([html.Span(f"{row.ts:%d %b}: ", className="fw-semibold"),
                     "; ".join(row.changes),
                     html.Span(f" (new: {'; '.join(row.new)})" if row.new else "",
                               className="text-muted")])
            for row in changes.itertuples()
        ], className="small mb-0", **{"data-testid": "data-schema"})
    return [_graph(quality_chart(view.quality)), listed]


def _reports(view: DataView, config: Any) -> html.Div:
    if view.history.empty:
        return html.Div("No report in this date range.", className="text-muted")
    rows = []
    for row in view.history.iloc[::-1].itertuples():
        url = report_url(config, row.report_path)
        link: Any = (html.A("open", href=url, target="_blank", rel="noopener",
                            className="data-report-link") if url else "–")
        rows.append(html.Tr([
            html.Td(f"{row.window_start:%d %b} – {row.window_end:%d %b %Y}", className="nowrap"),
            html.Td(fmt.percent(row.drifted_share), className="text-end"),
            html.Td(f"{int(row.drifted_count)} / {int(row.column_count)}", className="text-end"),
            html.Td(status_badge(Status(row.status), insufficient=bool(row.insufficient)),
                    title=f"{int(row.rows)} rows" if pd.notna(row.rows) else None),
            html.Td(link),
        ]))
    head = html.Thead(html.Tr([html.Th("Window"), html.Th("Drifted", className="text-end"),
                               html.Th("Columns", className="text-end"), html.Th("Status"),
                               html.Th("Report")]))
    return html.Div(html.Table([head, html.Tbody(rows)],
                               className="table table-sm small mb-0 sources-table"),
                    style={"maxHeight": "420px", "overflowY": "auto"})


def _graph(figure: go.Figure) -> dcc.Graph:
    """A chart as tall as its figure says: a percentage height collapses inside cards."""
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG,
                     style={"height": f"{figure.layout.height or 260}px"})


dash.register_page(__name__, path=PATH, name="Data & drift", title="dspo · Data & drift",
                   order=40, layout=layout)
