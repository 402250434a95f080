"""DORA for ML: how often the product ships a model, how fast, how often a release fails
and how quickly it recovers, from the registry's alias history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard.components import format as fmt
from dashboard.components.graphs import graph_card
from dashboard.components.links import external_link
from dashboard.components.panels import card, empty_state, page_header
from dashboard.components.stats import stat_tile, tile_row
from dashboard.components.tables import Cell, Column, data_table
from dashboard.context import page_view
from dashboard.figures.dora import lead_time_chart, weekly_chart
from dashboard.services.dora import DoraView, build_dora
from kpis.dora import Dora


def _hours(value: timedelta | None) -> str:
    return fmt.duration(None if value is None else value.total_seconds())


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           **_query: str) -> html.Div:
    page = page_view(product, start, end)
    view = build_dora(page.context.store, page.product, start=page.dates.start,
                      end=page.dates.end, as_of=min(page.now, page.dates.end))
    title = f"{page.product.name}: DORA for ML"
    if not view.models:
        return html.Div([page_header(title), empty_state(
            "No registered model for this product yet.", "sources (kind: mlflow, models)")])
    result = view.result
    header = page_header(title, (
        f"A deployment is a promotion of the '{result.alias}' alias to a newer version; a move "
        f"back to an older one is a rollback. {result.start:%Y-%m-%d} to "
        f"{result.end:%Y-%m-%d %H:%M} UTC; {view.events} alias moves recorded."))
    body: list[Any] = [header, _tiles(result)]
    if view.events == 0:
        body.append(empty_state(
            "No alias history yet: promotions are recorded from the first collect on, or "
            "from the dspo.alias_history tag your deployment job writes (docs/sources.md).",
            "sources (kind: mlflow)"))
        return html.Div(body)
    body += [
        dbc.Row([
            dbc.Col(graph_card("Promotions and rollbacks per week",
                               weekly_chart(result.weekly), "dora-weekly"),
                    xl=6, className="mb-3"),
            dbc.Col(graph_card("Lead time per promotion (training run start → promotion)",
                               lead_time_chart(result.lead_times, result.lead_time_p50,
                                               start=result.start, end=result.end),
                               "dora-lead"), xl=6, className="mb-3"),
        ]),
        card("Promotions", [_promotions(view)], "dora-promotions"),
    ]
    return html.Div(body)


def _tiles(result: Dora) -> dbc.Row:
    promoted = result.promotions
    restored = f"{result.restored} restored" + (
        f", {result.open_incidents} open" if result.open_incidents else "")
    return tile_row([
        stat_tile("Deployment frequency", f"{result.deployment_frequency:.2f} / week",
                  "dora-frequency", "Promotions of the production alias per week in the range.",
                  detail=f"{promoted} promotions"),
        stat_tile("Lead time for changes (p50)", _hours(result.lead_time_p50),
                  "dora-lead-time",
                  "Median time from the start of a version's training run to its promotion.",
                  detail=f"over {result.promotions_with_lead_time} promotions"),
        stat_tile("Change failure rate", fmt.percent(result.change_failure_rate), "dora-cfr",
                  "Promotions rolled back (or followed by a firing alert) within "
                  f"{result.failure_days:g} days.",
                  detail=f"{result.failed_promotions} of {promoted} promotions"),
        stat_tile("Time to restore (p50)", _hours(result.time_to_restore_p50), "dora-restore",
                  "From a rollback to the next promotion, or an alert firing to its "
                  "resolution.", detail=restored),
    ], md=6, xl=3)


PROMOTION_COLUMNS = [Column("Promoted (UTC)"), Column("Model"), Column("Version"),
                     Column("Lead time", "end"), Column("Outcome")]


def _promotions(view: DoraView) -> dbc.Table | html.Div | html.P:
    result = view.result
    if not result.promotions:
        return html.P("No promotion in this date range.", className="text-muted")
    lead = result.lead_times
    rows = []
    for i, row in enumerate(result.failures.itertuples(index=False)):
        url = view.run_urls.get((row.model, str(row.version)))
        version: Any = external_link(f"v{row.version}", url)
        lead_time = lead["lead_time"].iloc[i]
        outcome = (f"{row.cause} on {row.signal_at:%Y-%m-%d %H:%M}" if row.failed else "ok")
        rows.append([
            f"{row.ts:%Y-%m-%d %H:%M}", row.model, version,
            _hours(None if lead_time != lead_time else lead_time.to_pytimedelta()),
            Cell(outcome, testid=f"dora-outcome-{i}",
                 className="text-danger" if row.failed else "text-muted"),
        ])
    return data_table(PROMOTION_COLUMNS, rows, testid="dora-promotions-table")


dash.register_page(__name__, path="/dora", name="DORA", title="dspo · DORA", order=70,
                   layout=layout)
