"""Data & drift: how far production data has moved from reference, feature by feature.

The dataset lives in the URL (`?dataset=`) next to the shared product and date range, so a
link from an alert or the product map opens the same view. The selector is a row of links,
not a callback: choosing a dataset is a navigation.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from dashboard.components import format as fmt
from dashboard.components.graphs import graph
from dashboard.components.panels import card, empty_state, page_header, status_badge
from dashboard.components.stats import stat
from dashboard.components.tables import Cell, Column, data_table
from dashboard.context import page_view
from dashboard.figures.data import drifted_share_chart, feature_heatmap, quality_chart
from dashboard.reports import report_url
from dashboard.services.data import DataView, build_data, configured_datasets
from kpis.health import Status

PATH = "/data"


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           dataset: str | None = None, **_query: str) -> html.Div:
    page = page_view(product, start, end)
    ctx, selected = page.context, page.product
    view = build_data(ctx.store, selected,
                      configured_datasets(list(ctx.config.sources), selected.key),
                      dataset=dataset, start=page.dates.start, as_of=page.as_of)
    header = page_header(f"{selected.name}: data & drift")
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


def _summary(view: DataView) -> dbc.Row:
    latest = view.latest_report
    if latest is None:
        return dbc.Row(dbc.Col(html.P("No report for this dataset by the end of the range.",
                                      className="text-muted")))
    target = (f"objective {view.objective.op} {fmt.percent(view.objective.threshold, 0)}"
              if view.objective else "no drift objective: judged by Evidently's dataset flag")
    badge = status_badge(Status(latest["status"]), "data-latest-status",
                         insufficient=bool(latest["insufficient"]))
    return dbc.Row([
        dbc.Col(stat(fmt.percent(latest["drifted_share"]), "data-latest-share", [
            f"{int(latest['drifted_count'])} of {int(latest['column_count'])} columns"
            f" · {target}"],
            unit=f"of columns drifted in the week to {latest['window_end']:%d %b %Y}",
            extra=badge), md=7),
        dbc.Col(html.Div([
            html.Div("Drifted most often", className="kpi-caption"),
            html.Div(", ".join(view.most_drifted) or "no feature drifted in the range",
                     **{"data-testid": "data-top-features"}),
        ]), md=5),
    ], className="mb-3")


def _share(view: DataView) -> list[Any]:
    if view.history.empty:
        return [empty_state("No drift report in this date range.", "sources[].datasets")]
    return [graph(drifted_share_chart(view.history, view.objective))]


def _features(view: DataView) -> list[Any]:
    if view.matrix.empty:
        return [empty_state("No per-feature results in this date range.",
                            "sources[].datasets[].columns")]
    return [
        html.Div("Red: the feature drifted that week; grey: too few rows that week to "
                 "judge; numbers are the test's score (method in the tooltip). Most often "
                 "drifted first.",
                 className="kpi-caption mb-1"),
        graph(feature_heatmap(view.matrix)),
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
    return [graph(quality_chart(view.quality)), listed]


REPORT_COLUMNS = [Column("Window", className="nowrap"), Column("Drifted", "end"),
                  Column("Columns", "end"), Column("Status"), Column("Report")]


def _reports(view: DataView, config: Any) -> html.Div | dbc.Table:
    if view.history.empty:
        return html.Div("No report in this date range.", className="text-muted")
    rows = []
    for row in view.history.iloc[::-1].itertuples():
        url = report_url(config, row.report_path)
        link: Any = (html.A("open", href=url, target="_blank", rel="noopener",
                            className="data-report-link") if url else "–")
        rows.append([
            f"{row.window_start:%d %b} – {row.window_end:%d %b %Y}",
            fmt.percent(row.drifted_share),
            f"{int(row.drifted_count)} / {int(row.column_count)}",
            Cell(status_badge(Status(row.status), insufficient=bool(row.insufficient)),
                 title=f"{int(row.rows)} rows" if pd.notna(row.rows) else None),
            link,
        ])
    return data_table(REPORT_COLUMNS, rows, testid="data-reports-table",
                      className="small sources-table", max_height=420)


dash.register_page(__name__, path=PATH, name="Data & drift", title="dspo · Data & drift",
                   order=40, layout=layout)
