"""Sources: whether each source of the product collected on time, and how its runs went.

The page a PO opens when a number looks old: each source's last run (status, duration,
rows written, records read, error), how fresh its data is against its own interval, and
its recent runs. Errors are shown as text, as the source said them.
"""

from __future__ import annotations

from datetime import datetime

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from config.base import format_duration
from dashboard.components import format as fmt
from dashboard.components.panels import card, empty_state, page_header, status_badge
from dashboard.components.tables import Cell, Column, data_table
from dashboard.context import page_view
from dashboard.services.sources import SourceView, build_sources

RUN_COLOURS = {"ok": "success", "failed": "danger", "abandoned": "warning", "running": "info"}


def layout(product: str | None = None, **_query: str) -> html.Div:
    page = page_view(product)
    ctx, selected, now = page.context, page.product, page.now
    views = build_sources(ctx.store, selected, list(ctx.config.sources), as_of=now)
    header = page_header(f"{selected.name}: sources")
    if not views:
        return html.Div([header, empty_state("No source feeds this product.",
                                             "sources (with product: " + selected.key + ")")])
    timezone = ctx.config.dashboard.timezone
    return html.Div([
        header,
        card("Sources", [_summary(views, now, timezone)], "sources-summary"),
        html.Div(className="mb-3"),
        *[_runs(view, timezone) for view in views],
    ])


SUMMARY_COLUMNS = [
    Column("Source", className="fw-semibold"), Column("Kind"), Column("Every"),
    Column("Last run", className="nowrap"), Column("Status"), Column("Took", "end", "nowrap"),
    Column("Rows written", "end"), Column("Records read", "end"),
    Column("Last success", className="nowrap"), Column("Freshness"),
    Column("Error", className="text-danger small source-error"),
]


def _summary(views: list[SourceView], now: datetime, timezone: str) -> dbc.Table | html.Div:
    return data_table(SUMMARY_COLUMNS, [_summary_row(view, now, timezone) for view in views])


def _summary_row(view: SourceView, now: datetime, timezone: str) -> list[object]:
    name = view.source.name
    last = view.last
    freshness = html.Span([status_badge(view.health.status, f"source-fresh-{name}"),
                           html.Span(f" {view.health.reason}", className="text-muted small")])
    head = [name, view.kind, format_duration(view.source.interval)]
    if last is None:
        return [*head, "never", run_badge(None, name), "", "", "", "never", freshness,
                Cell("", testid=f"source-error-{name}")]
    return [
        *head,
        fmt.local_time(last["started"], timezone),
        run_badge(str(last["status"]), name),
        fmt.duration(last["took_s"]),
        Cell(_count(last["rows_written"]), testid=f"source-rows-{name}"),
        _count(last["records_read"]),
        Cell(fmt.ago(last["last_success"], now),
             title=fmt.local_time(last["last_success"], timezone)),
        freshness,
        Cell(last["error"] or "", testid=f"source-error-{name}"),
    ]


RUN_COLUMNS = [
    Column("Started", className="nowrap"), Column("Status"), Column("Took", "end", "nowrap"),
    Column("Rows written", "end"), Column("Records read", "end"),
    Column("Ran on", className="text-muted small"),
    Column("Error", className="text-danger small source-error"),
]


def _runs(view: SourceView, timezone: str) -> html.Div:
    name = view.source.name
    summary = view.summary
    caption = (f"The last {summary.runs} runs: {summary.ok} ok, {summary.failed} failed or "
               f"abandoned; a successful run takes {fmt.duration(summary.median_seconds)} "
               "(median).") if summary.runs else "No run yet."
    table = data_table(RUN_COLUMNS, [[
        fmt.local_time(run["started"], timezone), run_badge(str(run["status"])),
        fmt.duration(run["took_s"]), _count(run["rows_written"]), _count(run["records_read"]),
        run["holder"] or "", run["error"] or "",
    ] for _, run in view.runs.iterrows()])
    return html.Div(card(f"Runs of {name}", [html.Div(caption, className="kpi-caption"), table],
                         f"source-runs-{name}"), className="mb-3")


def run_badge(status: str | None, name: str | None = None) -> html.Span:
    badge = dbc.Badge(status or "never run", color=RUN_COLOURS.get(status or "", "secondary"))
    return html.Span(badge, **({"data-testid": f"source-status-{name}"} if name else {}))


def _count(value: object) -> str:
    return "–" if value is None or pd.isna(value) else f"{int(value):,}"  # type: ignore[call-overload]


dash.register_page(__name__, path="/sources", name="Sources", title="dspo · Sources",
                   order=95, layout=layout)
