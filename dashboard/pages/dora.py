"""DORA for ML: how often the product ships a model, how fast, how often a release fails
and how quickly it recovers, from the registry's alias history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components.panels import GRAPH_CONFIG, card, empty_state
from dashboard.context import current
from dashboard.figures.dora import lead_time_chart, weekly_chart
from dashboard.filters import date_range
from dashboard.services.dora import DoraView, build_dora
from kpis.dora import Dora


def _hours(value: timedelta | None) -> str:
    return fmt.duration(None if value is None else value.total_seconds())


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           **_query: str) -> html.Div:
    context = current()
    selected = context.product(product)
    now = datetime.now(UTC)
    dates = date_range(start, end, now=now)
    view = build_dora(context.store, selected, start=dates.start, end=dates.end,
                      as_of=min(now, dates.end))
    header = html.H4(f"{selected.name}: DORA for ML", className="mb-1")
    if not view.models:
        return html.Div([header, empty_state("No registered model for this product yet.",
                                             "sources (kind: mlflow, models)")])
    result = view.result
    caption = html.Div(
        f"A deployment is a promotion of the '{result.alias}' alias to a newer version; a move "
        f"back to an older one is a rollback. {result.start:%Y-%m-%d} to "
        f"{result.end:%Y-%m-%d %H:%M} UTC; {view.events} alias moves recorded.",
        className="kpi-caption mb-3")
    body: list[Any] = [header, caption, _tiles(result)]
    if view.events == 0:
        body.append(empty_state(
            "No alias history yet: promotions are recorded from the first collect on, or "
            "from the dspo.alias_history tag your deployment job writes (docs/sources.md).",
            "sources (kind: mlflow)"))
        return html.Div(body)
    body += [
        dbc.Row([
            dbc.Col(card("Promotions and rollbacks per week",
                         [_graph(weekly_chart(result.weekly))], "dora-weekly"),
                    xl=6, className="mb-3"),
            dbc.Col(card("Lead time per promotion (training run start → promotion)",
                         [_graph(lead_time_chart(result.lead_times, result.lead_time_p50,
                                                 start=result.start, end=result.end))],
                         "dora-lead"), xl=6, className="mb-3"),
        ]),
        card("Promotions", [_promotions(view)], "dora-promotions"),
    ]
    return html.Div(body)


def _tile(title: str, value: str, testid: str, explanation: str, detail: str) -> dbc.Col:
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.Div(title, className="kpi-caption text-uppercase"),
        html.Div(value, className="kpi-figure", **{"data-testid": testid}),
        html.Div(detail, className="small", **{"data-testid": f"{testid}-detail"}),
        html.Div(explanation, className="kpi-caption mt-1"),
    ]), className="h-100"), md=6, xl=3, className="mb-3")


def _tiles(result: Dora) -> dbc.Row:
    promoted = result.promotions
    return dbc.Row([
        _tile("Deployment frequency", f"{result.deployment_frequency:.2f} / week",
              "dora-frequency", "Promotions of the production alias per week in the range.",
              f"{promoted} promotions"),
        _tile("Lead time for changes (p50)", _hours(result.lead_time_p50), "dora-lead-time",
              "Median time from the start of a version's training run to its promotion.",
              f"over {result.promotions_with_lead_time} promotions"),
        _tile("Change failure rate", fmt.percent(result.change_failure_rate), "dora-cfr",
              f"Promotions rolled back (or followed by a firing alert) within "
              f"{result.failure_days:g} days.",
              f"{result.failed_promotions} of {promoted} promotions"),
        _tile("Time to restore (p50)", _hours(result.time_to_restore_p50), "dora-restore",
              "From a rollback to the next promotion, or an alert firing to its resolution.",
              f"{result.restored} restored"
              + (f", {result.open_incidents} open" if result.open_incidents else "")),
    ])


def _promotions(view: DoraView) -> html.Table | html.P:
    result = view.result
    if not result.promotions:
        return html.P("No promotion in this date range.", className="text-muted")
    lead = result.lead_times
    rows = []
    for i, row in enumerate(result.failures.itertuples(index=False)):
        url = view.run_urls.get((row.model, str(row.version)))
        version: Any = html.A(f"v{row.version}", href=url, target="_blank", rel="noopener") \
            if url else f"v{row.version}"
        lead_time = lead["lead_time"].iloc[i]
        outcome = (f"{row.cause} on {row.signal_at:%Y-%m-%d %H:%M}" if row.failed else "ok")
        rows.append(html.Tr([
            html.Td(f"{row.ts:%Y-%m-%d %H:%M}"), html.Td(row.model), html.Td(version),
            html.Td(_hours(None if lead_time != lead_time else lead_time.to_pytimedelta()),
                    className="text-end"),
            html.Td(outcome, className="text-danger" if row.failed else "text-muted",
                    **{"data-testid": f"dora-outcome-{i}"}),
        ]))
    head = html.Thead(html.Tr([html.Th("Promoted (UTC)"), html.Th("Model"), html.Th("Version"),
                               html.Th("Lead time", className="text-end"),
                               html.Th("Outcome")]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm sources-table mb-0",
                      **{"data-testid": "dora-promotions-table"})


def _graph(figure: go.Figure) -> dcc.Graph:
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG,
                     style={"height": f"{figure.layout.height or 240}px"})


dash.register_page(__name__, path="/dora", name="DORA", title="dspo · DORA", order=70,
                   layout=layout)
