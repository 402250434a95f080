"""Sources: whether each source of the product collected on time, and how its runs went.

The page a PO opens when a number looks old: each source's last run (status, duration,
rows written, records read, error), how fresh its data is against its own interval, and
its recent runs. Errors are shown as text, as the source said them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from config.base import format_duration
from dashboard.components import format as fmt
from dashboard.components.panels import card, empty_state, status_badge
from dashboard.context import current
from dashboard.services.sources import SourceView, build_sources

RUN_COLOURS = {"ok": "success", "failed": "danger", "abandoned": "warning", "running": "info"}


def layout(product: str | None = None, **_query: str) -> html.Div:
    ctx = current()
    selected = ctx.product(product)
    now = datetime.now(UTC)
    views = build_sources(ctx.store, selected, list(ctx.config.sources), as_of=now)
    header = html.H4(f"{selected.name}: sources", className="mb-3")
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


def _summary(views: list[SourceView], now: datetime, timezone: str) -> html.Table:
    rows = [_summary_row(view, now, timezone) for view in views]
    head = html.Thead(html.Tr([
        html.Th("Source"), html.Th("Kind"), html.Th("Every"), html.Th("Last run"),
        html.Th("Status"), html.Th("Took", className="text-end"),
        html.Th("Rows written", className="text-end"),
        html.Th("Records read", className="text-end"), html.Th("Last success"),
        html.Th("Freshness"), html.Th("Error"),
    ]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm mb-0 sources-table")


def _summary_row(view: SourceView, now: datetime, timezone: str) -> html.Tr:
    name = view.source.name
    last = view.last
    if last is None:
        cells = [html.Td("never"), html.Td(run_badge(None, name)), html.Td(""), html.Td(""),
                 html.Td(""), html.Td("never")]
        error = ""
    else:
        cells = [
            html.Td(fmt.local_time(last["started"], timezone), className="nowrap"),
            html.Td(run_badge(str(last["status"]), name)),
            html.Td(fmt.duration(last["took_s"]), className="text-end nowrap"),
            html.Td(_count(last["rows_written"]), className="text-end",
                    **{"data-testid": f"source-rows-{name}"}),
            html.Td(_count(last["records_read"]), className="text-end"),
            html.Td(fmt.ago(last["last_success"], now), className="nowrap",
                    title=fmt.local_time(last["last_success"], timezone)),
        ]
        error = last["error"] or ""
    return html.Tr([
        html.Td(name, className="fw-semibold"),
        html.Td(view.kind),
        html.Td(format_duration(view.source.interval)),
        *cells,
        html.Td(html.Span([status_badge(view.health.status, f"source-fresh-{name}"),
                           html.Span(f" {view.health.reason}", className="text-muted small")])),
        html.Td(error, className="text-danger small source-error",
                **{"data-testid": f"source-error-{name}"}),
    ])


def _runs(view: SourceView, timezone: str) -> html.Div:
    name = view.source.name
    summary = view.summary
    caption = (f"The last {summary.runs} runs: {summary.ok} ok, {summary.failed} failed or "
               f"abandoned; a successful run takes {fmt.duration(summary.median_seconds)} "
               "(median).") if summary.runs else "No run yet."
    rows = [html.Tr([
        html.Td(fmt.local_time(run["started"], timezone), className="nowrap"),
        html.Td(run_badge(str(run["status"]))),
        html.Td(fmt.duration(run["took_s"]), className="text-end nowrap"),
        html.Td(_count(run["rows_written"]), className="text-end"),
        html.Td(_count(run["records_read"]), className="text-end"),
        html.Td(run["holder"] or "", className="text-muted small"),
        html.Td(run["error"] or "", className="text-danger small source-error"),
    ]) for _, run in view.runs.iterrows()]
    head = html.Thead(html.Tr([
        html.Th("Started"), html.Th("Status"), html.Th("Took", className="text-end"),
        html.Th("Rows written", className="text-end"),
        html.Th("Records read", className="text-end"), html.Th("Ran on"), html.Th("Error"),
    ]))
    table = html.Table([head, html.Tbody(rows)], className="table table-sm mb-0 sources-table")
    return html.Div(card(f"Runs of {name}", [html.Div(caption, className="kpi-caption"), table],
                         f"source-runs-{name}"), className="mb-3")


def run_badge(status: str | None, name: str | None = None) -> html.Span:
    badge = dbc.Badge(status or "never run", color=RUN_COLOURS.get(status or "", "secondary"))
    return html.Span(badge, **({"data-testid": f"source-status-{name}"} if name else {}))


def _count(value: object) -> str:
    return "–" if value is None or pd.isna(value) else f"{int(value):,}"  # type: ignore[call-overload]


dash.register_page(__name__, path="/sources", name="Sources", title="dspo · Sources",
                   order=95, layout=layout)
