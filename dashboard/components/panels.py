"""Building blocks of the overview: cards, the health table and the sources table.

Text from sources (run names, errors, titles) is passed as Dash children, which React
renders as text, never as HTML.
"""

from __future__ import annotations

from datetime import datetime

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.figures.overview import sparkline
from dashboard.services.overview import HealthRow
from kpis.health import ObjectiveResult, Status

STATUS_LABEL = {Status.GREEN: "healthy", Status.AMBER: "at risk", Status.RED: "failing",
                Status.UNKNOWN: "no data"}
GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}


INSUFFICIENT = "insufficient data"


def status_badge(status: Status, testid: str | None = None, *,
                 insufficient: bool = False) -> html.Span:
    """The status as a coloured pill; `insufficient` says why an unknown is unknown."""
    label = INSUFFICIENT if insufficient and status is Status.UNKNOWN else STATUS_LABEL[status]
    badge = dbc.Badge(label, className=f"status-{status.value}", pill=True)
    return html.Span(badge, **({"data-testid": testid} if testid else {}))


def card(title: str, body: list, card_id: str) -> dbc.Card:  # type: ignore[type-arg]
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(body)], id=card_id,
                    className="h-100")


def health_table(rows: list[HealthRow]) -> html.Table | html.P:
    if not rows:
        return html.P("No objectives configured: add products[].objectives to the config.",
                      className="text-muted")
    body = []
    for i, row in enumerate(rows):
        r = row.result
        body.append(html.Tr([
            html.Td(r.name),
            html.Td(fmt.objective_value(r.kind, r.value), className="fw-semibold text-end nowrap",
                    **{"data-testid": f"objective-value-{i}"}),
            html.Td(fmt.threshold_text(r.kind, r.op, r.threshold), className="text-muted nowrap",
                    title=_band_text(r)),
            html.Td(status_badge(r.status, f"objective-status-{i}",
                                 insufficient=r.insufficient), title=r.detail),
            html.Td(dcc.Graph(figure=sparkline(row.trend, r.status), config=GRAPH_CONFIG,
                              className="spark", style={"height": "34px", "width": "120px"})),
        ]))
    head = html.Thead(html.Tr([html.Th("Objective"), html.Th("Now", className="text-end"),
                               html.Th("Target"), html.Th("Status"), html.Th("28 days")]))
    return html.Table([head, html.Tbody(body)], className="table table-sm health-table mb-0")


def _band_text(result: ObjectiveResult) -> str:
    """Tooltip: where amber starts, so the PO sees how close the objective is to failing."""
    if result.warning is None:
        return "green/red only"
    kind = result.kind
    return f"amber between {fmt.objective_value(kind, result.threshold)} and " \
        f"{fmt.objective_value(kind, result.warning)}"


def sources_table(sources: pd.DataFrame, names: list[str], now: datetime,
                  timezone: str) -> html.Table:
    rows = []
    by_name = {row["source"]: row for _, row in sources.iterrows()}
    for name in names:
        row = by_name.get(name)
        if row is None:
            rows.append(html.Tr([html.Td(name), html.Td("–"), html.Td("never collected"),
                                 html.Td(dbc.Badge("pending", color="secondary")), html.Td(""),
                                 html.Td("")]))
            continue
        ok = row["status"] == "ok"
        badge = dbc.Badge(row["status"], color="success" if ok else (
            "danger" if row["status"] == "failed" else "secondary"))
        rows.append(html.Tr([
            html.Td(name), html.Td(row["kind"]),
            html.Td(fmt.ago(row["last_success"], now),
                    title=fmt.local_time(row["last_success"], timezone)),
            html.Td(html.Span(badge, **{"data-testid": f"source-status-{name}"})),
            html.Td(f"{int(row['rows_written']):,}" if pd.notna(row["rows_written"]) else "–",
                    className="text-end"),
            html.Td(row["error"] or "", className="text-danger small"),
        ]))
    head = html.Thead(html.Tr([
        *(html.Th(h) for h in ("Source", "Kind", "Last success", "Last run")),
        html.Th("Rows written (last run)", className="text-end"), html.Th("Error"),
    ]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm sources-table mb-0")


def empty_state(missing: str, config_key: str) -> html.Div:
    """What a page shows without data: what is missing and which config key brings it."""
    return html.Div([
        html.Div(missing, className="fw-semibold"),
        html.Div(["Add it with ", html.Code(config_key), " in the config "
                  "(see docs/configuration.md), then run dspo collect."],
                 className="text-muted small"),
    ], className="empty-state p-3", **{"data-testid": "empty-state"})
