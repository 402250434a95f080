"""Flow & backlog: how work moves (cumulative flow, throughput, cycle and lead time, work in
progress and its age), how far each epic is, and the whole backlog as a sortable,
filterable table. Everything over the date range in the URL.

The backlog grid uses AG Grid's infinite row model: it asks `backlog_rows` for each block
of rows with its sort and filter, answered in SQL, so the page ships the first block, not
every item.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard.auth.access import callback
from dashboard.components import format as fmt
from dashboard.components.graphs import graph
from dashboard.components.panels import card, empty_state, page_header
from dashboard.components.stats import stat_tile, tile_row
from dashboard.components.tables import Cell, Column, data_table
from dashboard.context import current, page_view
from dashboard.figures.flow import ageing_chart, cfd_chart, cycle_time_chart, throughput_chart
from dashboard.services.flow import EMPTY_PAGE, FlowView, backlog_rows, build_flow


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           **_query: str) -> html.Div:
    page = page_view(product, start, end)
    dates = page.dates
    view = build_flow(page.context.store, page.product, start=dates.start,
                      end=min(page.now, dates.end))
    last_day = (dates.end - timedelta(microseconds=1)).date()
    header = page_header(f"{page.product.name}: flow & backlog",
                         f"{dates.start.date():%d %b %Y} – {last_day:%d %b %Y} (UTC days); "
                         "epics are left out of the flow metrics")
    if view.items == 0:
        return html.Div([header, empty_state(
            "No backlog items for this product yet.",
            "sources (kind: files, with items, sprints and history)")])
    return html.Div([
        header,
        _tiles(view),
        dbc.Row([
            dbc.Col(card("Cumulative flow (items per status at the end of each day)",
                         [graph(cfd_chart(view.cfd))],
                         "flow-cfd"), xl=7, className="mb-3"),
            dbc.Col(card("Throughput per week", _throughput(view), "flow-throughput"),
                    xl=5, className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(card("Cycle time of finished items", _cycle(view), "flow-cycle"),
                    xl=7, className="mb-3"),
            dbc.Col(card("Work in progress by age", _ageing(view), "flow-ageing"),
                    xl=5, className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(card("Epic progress", [_epics(view)], "flow-epics"), xl=7, className="mb-3"),
            dbc.Col(card("Work items by status", [_by_status(view)], "flow-status"), xl=5,
                    className="mb-3"),
        ]),
        card("Backlog", _backlog(view), "flow-backlog"),
    ])


def _days(value: float | None) -> str:
    return "–" if value is None else fmt.points(value)


def _tiles(view: FlowView) -> dbc.Row:
    cycle, lead = view.cycle, view.lead
    return tile_row([
        stat_tile("In progress now", str(view.wip), "flow-wip",
                  "work items in an in-progress status", unit="items"),
        stat_tile("Finished in range", str(view.done_in_range), "flow-done",
                  f"{len(view.throughput)} weeks", unit="items"),
        stat_tile("Cycle time p85", _days(cycle[85]), "flow-cycle-p85", [
            "p50 ", html.Span(_days(cycle[50]), **{"data-testid": "flow-cycle-p50"}),
            " · p95 ", html.Span(_days(cycle[95]), **{"data-testid": "flow-cycle-p95"}),
            " (first in progress → last done)"], unit="days"),
        stat_tile("Lead time p85", _days(lead[85]), "flow-lead-p85", [
            "p50 ", html.Span(_days(lead[50]), **{"data-testid": "flow-lead-p50"}),
            " · p95 ", html.Span(_days(lead[95]), **{"data-testid": "flow-lead-p95"}),
            " (created → done)"], unit="days"),
        stat_tile("From alerts", str(view.alert_items), "flow-alert-items",
                  "created by dspo's alert rules", unit="items"),
    ], xs=6, md=4, xl=True)


def _throughput(view: FlowView) -> list[Any]:
    return [
        html.Div("Work items whose last move to done fell in each week (Monday to Sunday, "
                 "UTC; the first and last week may be partial); points in the hover.",
                 className="kpi-caption"),
        graph(throughput_chart(view.throughput)),
    ]


def _cycle(view: FlowView) -> list[Any]:
    if view.flow_times.empty:
        return [html.P("No item finished in this date range.", className="text-muted")]
    guessed = view.started_from_created
    note = (f" {guessed} item(s) without status history count from their creation."
            if guessed else "")
    return [
        html.Div(f"{view.done_in_range} items finished in the range; dotted lines: 50th, "
                 f"85th and 95th percentile.{note}", className="kpi-caption"),
        graph(cycle_time_chart(view.flow_times, view.cycle)),
    ]


def _ageing(view: FlowView) -> list[Any]:
    if view.ageing.empty:
        return [html.P("Nothing is in progress.", className="text-muted")]
    return [
        html.Div("Days since each item first moved to in progress; red: older than the p85 "
                 "cycle time.", className="kpi-caption"),
        graph(ageing_chart(view.ageing, view.cycle[85])),
    ]


EPIC_COLUMNS = [Column("Epic"), Column("Done (points)"), Column("Items", "end", "nowrap"),
                Column("Points", "end", "nowrap")]


def _epics(view: FlowView) -> dbc.Table | html.Div | html.P:
    epics = view.epics
    if epics.empty:
        return html.P("No epics.", className="text-muted mb-0")
    rows = []
    for r in epics.itertuples(index=False):
        share = None if pd.isna(r.share_done) else float(r.share_done)
        name = "No epic" if r.epic is None else str(r.epic)
        bar = dbc.Progress(value=0 if share is None else 100 * share, color="success",
                           style={"height": "8px"}, className="mt-1")
        rows.append([
            [html.Div(name, className="fw-semibold"),
             html.Div(str(r.title) if r.title else "", className="text-muted small")],
            html.Div([html.Span("not estimated" if share is None else f"{share:.0%}",
                                **{"data-testid": f"flow-epic-share-{name}"}), bar],
                     style={"minWidth": "110px"}),
            f"{r.done_items} of {r.items}", f"{r.done_points:g} of {r.points:g}",
        ])
    return data_table(EPIC_COLUMNS, rows)


STATUS_COLUMNS = [Column("Status"), Column("Items", "end"), Column("Points", "end")]


def _by_status(view: FlowView) -> dbc.Table | html.Div:
    return data_table(STATUS_COLUMNS, [[
        str(r.status) if r.status is not None else "(none)",
        Cell(str(r.items), testid=f"flow-status-items-{r.status}"),
        f"{r.points:g}",
    ] for r in view.by_status.itertuples(index=False)])


RANGE = {"inRangeInclusive": True}  # as store.backlog_page filters ranges: both ends in
COLUMNS = [
    {"field": "key", "pinned": "left", "width": 100},
    {"field": "title", "flex": 1, "minWidth": 240, "tooltipField": "title"},
    {"field": "type", "width": 110},
    {"field": "status", "width": 115},
    {"field": "points", "type": "numericColumn", "filter": "agNumberColumnFilter", "width": 90,
     "filterParams": RANGE},
    {"field": "epic", "width": 100},
    {"field": "sprint", "width": 130},
    {"field": "created", "width": 118, "cellDataType": "dateString",
     "filter": "agDateColumnFilter", "filterParams": RANGE},
    {"field": "resolved", "width": 118, "cellDataType": "dateString",
     "filter": "agDateColumnFilter", "filterParams": RANGE},
    {"field": "origin", "width": 100,
     "valueFormatter": {"function": "params.value === 'alert' ? '⚠ alert' : params.value"}},
]
BLOCK = 100
"""Rows per request: one request fills a page of any size the selector offers."""


def _backlog(view: FlowView) -> list[Any]:
    return [
        html.Div([html.Span(str(view.items), **{"data-testid": "flow-backlog-count"}),
                  " items (epics included). Click a header to sort, type in the row under it "
                  "to filter; items created by alerts are marked ⚠ and tinted."],
                 className="kpi-caption mb-1"),
        dcc.Store(id="flow-backlog-product", data=view.product.key),
        dag.AgGrid(
            id="flow-backlog-grid",
            rowModelType="infinite",
            columnDefs=COLUMNS,
            defaultColDef={"sortable": True, "filter": True, "floatingFilter": True,
                           "resizable": True},
            getRowStyle={"styleConditions": [{
                "condition": "params.data && params.data.origin === 'alert'",
                "style": {"backgroundColor": "#fdecea"}}]},
            dashGridOptions={"pagination": True, "paginationPageSize": 20,
                             "paginationPageSizeSelector": [20, 50, 100],
                             "cacheBlockSize": BLOCK, "maxBlocksInCache": 10,
                             "tooltipShowDelay": 300, "animateRows": False},
            style={"height": "640px", "width": "100%"},
        ),
    ]


@callback(
    Output("flow-backlog-grid", "getRowsResponse"),
    Input("flow-backlog-grid", "getRowsRequest"),
    State("flow-backlog-product", "data"),
    prevent_initial_call=True,
    page="/flow",
)
def backlog_block(request: dict[str, Any] | None, product: str | None) -> dict[str, Any]:
    """One block of the grid's rows. The guard has refused a product the user does not
    look after; it is checked again here because this answer is the product's data."""
    if not isinstance(request, dict):
        return dash.no_update  # type: ignore[return-value]
    context = current()
    if product not in {p.key for p in context.products()}:
        return dict(EMPTY_PAGE)
    return backlog_rows(context.store, str(product), request)


dash.register_page(__name__, path="/flow", name="Flow & backlog", title="dspo · Flow & backlog",
                   order=20, layout=layout)
