"""Sprint: how the chosen sprint is burning down, event by event (and why its scope moved),
the team's velocity with a forecast for the next sprint, and the work each sprint left
undone at its close, with where each item went.

The sprint lives in the URL (`/sprint?product=churn&sprint=106`) like the other filters,
so a link opens the same sprint; without one the active sprint is shown, else the last.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from dashboard.components import format as fmt
from dashboard.components.graphs import graph_card
from dashboard.components.panels import card, empty_state, page_header
from dashboard.components.stats import stat_tile, tile_row
from dashboard.components.tables import Cell, Column, Row, data_table
from dashboard.context import page_view
from dashboard.figures.sprint import burndown_chart, burnup_chart, velocity_chart
from dashboard.services.sprint import SprintView, build_sprint
from kpis.carry_over import INTO_SPRINT, TO_BACKLOG
from kpis.history import as_text
from kpis.sprint_report import LABELS, NOTE, SprintComparison, explained
from kpis.velocity import CLOSED


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           sprint: str | None = None, **_query: str) -> html.Div:
    page = page_view(product, start, end)
    # A sprint is not cut by the date range: its figures stand as of now.
    view = build_sprint(page.context.store, page.product, sprint, as_of=page.now)
    title = f"{page.product.name}: sprint"
    if view.selected is None:
        return html.Div([page_header(title), empty_state(
            "No sprint has started for this product yet.",
            "sources (kind: files, with sprints and history)")])
    tz = page.context.config.dashboard.timezone
    return html.Div([
        _header(view, title, tz, {"product": product, "start": start, "end": end}),
        _tiles(view),
        dbc.Row([
            dbc.Col(graph_card("Burndown: points remaining",
                               burndown_chart(view.burndown, view.ideal), "sprint-burndown",
                               caption=BURNDOWN_CAPTION), xl=7, className="mb-3"),
            dbc.Col(card("Burndown events", _events_table(view, tz), "sprint-events"),
                    xl=5, className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(graph_card("Burnup: scope and completed",
                               burnup_chart(view.burndown, view.ideal), "sprint-burnup",
                               caption=BURNUP_CAPTION), xl=7, className="mb-3"),
            dbc.Col(card("Scope changes after the start", [_changes_table(view, tz)],
                         "sprint-scope-changes"), xl=5, className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(graph_card("Velocity and forecast",
                               velocity_chart(view.velocity, view.forecast,
                                              str(view.selected["name"])),
                               "sprint-velocity", caption=VELOCITY_CAPTION),
                    xl=7, className="mb-3"),
            dbc.Col(card("Carry-over: what was not done at the close", _carry_over(view, tz),
                         "sprint-carry-over"), xl=5, className="mb-3"),
        ]),
        *_report_row(view),
    ])


BURNDOWN_CAPTION = (
    "A step at the exact time of each event (the table beside it). Dashed: the ideal line "
    "from the commitment to 0 over working days (flat at weekends). Markers: items added ▲, "
    "removed ▼, re-estimated ◆ or reopened ● after the start.")
BURNUP_CAPTION = (
    "The gap between scope and completed is the work left; steps in the scope line are "
    "scope changes, a reopened item steps completed down.")
VELOCITY_CAPTION = (
    "Commitment vs completed per sprint (the active sprint hatched: completed so far), the "
    "mean of the last 3 closed sprints, and the next sprint's likely points with its "
    "p10–p90 range.")


def _day(ts: Any, tz: str) -> str:
    return "–" if ts is None or pd.isna(ts) else pd.Timestamp(ts).tz_convert(
        ZoneInfo(tz)).strftime("%a %d %b")


def _when(ts: Any, tz: str) -> str:
    return "" if ts is None or pd.isna(ts) else pd.Timestamp(ts).tz_convert(
        ZoneInfo(tz)).strftime("%d %b %H:%M")


def _signed(change: float) -> str:
    return f"{change:+g}" if change else "0"


def _header(view: SprintView, title: str, tz: str, query: dict[str, str | None]) -> dbc.Row:
    """The title, the sprint's state, dates and goal, and the sprint selector beside them."""
    row = view.selected
    assert row is not None
    state = str(row["state"])
    return dbc.Row([
        dbc.Col([
            html.H4(title, className="mb-0"),
            html.Div([
                dbc.Badge(state, color="primary" if state == "active" else "secondary",
                          className="me-2"),
                f"{_day(row['start'], tz)} – {_day(row['end'], tz)}",
                html.Span(f"  ·  Goal: {view.goal}" if view.goal else "", className="ms-1"),
            ], className="text-muted small", **{"data-testid": "sprint-dates"}),
        ], md=8),
        dbc.Col(html.Div([
            html.Span("Sprint", className="small text-muted me-2"),
            _selector(view, query),
        ], className="d-flex align-items-center justify-content-md-end"), md=4),
    ], className="mb-3 align-items-center")


def _selector(view: SprintView, query: dict[str, str | None]) -> dbc.DropdownMenu:
    """Links, not a callback: choosing a sprint is a navigation to the same page with
    `sprint=` in the URL (the other filters kept), so the page renders once, from the URL."""
    assert view.selected is not None
    chosen = as_text(view.selected["external_id"])
    items = []
    for sprint_id, name, state in zip(view.velocity["external_id"], view.velocity["name"],
                                      view.velocity["state"], strict=True):
        sprint_id = as_text(sprint_id)
        params = {k: v for k, v in {**query, "sprint": sprint_id}.items() if v}
        items.append(dbc.DropdownMenuItem(
            f"{name}{'  (active)' if state == 'active' else ''}",
            href=f"/sprint?{urlencode(params)}", active=sprint_id == chosen,
            id=f"sprint-option-{sprint_id}"))
    label = f"{view.selected['name']}{'  (active)' if view.selected['state'] == 'active' else ''}"
    return dbc.DropdownMenu(items[::-1], label=label, id="sprint-select", color="light",
                            align_end=True, toggle_class_name="border")


def _tiles(view: SprintView) -> dbc.Row:
    row = view.selected
    assert row is not None
    active = row["state"] == "active"
    changes = view.scope_change_count
    tiles = [
        stat_tile("Commitment", fmt.points(row["commitment"]), "sprint-commitment",
                  "estimates of the items in the sprint at its start", unit="pts"),
        stat_tile("Completed so far" if active else "Completed", fmt.points(row["completed"]),
                  "sprint-completed",
                  "points of done items, items added after the start included", unit="pts"),
        stat_tile("Remaining", fmt.points(view.remaining), "sprint-remaining",
                  "now" if active else "at the close: the carry-over", unit="pts"),
        stat_tile("Scope now" if active else "Scope at the close", fmt.points(view.scope_now),
                  "sprint-scope",
                  [f"from {fmt.points(view.scope_at_start)} at the start, ",
                   html.Span(str(changes), **{"data-testid": "sprint-scope-change-count"}),
                   f" change{'s' if changes != 1 else ''}"], unit="pts"),
        _forecast_tile(view),
    ]
    return tile_row(tiles, xs=6, md=4, xl=True)


def _forecast_tile(view: SprintView) -> dbc.Card:
    if view.forecast is None:
        return stat_tile("Next sprint forecast", "–", "sprint-forecast-likely",
                         "needs one closed sprint", unit="pts")
    low, likely, high = view.forecast
    return stat_tile("Next sprint forecast", fmt.points(likely), "sprint-forecast-likely", [
        "likely; range ", html.Span(fmt.points(low), **{"data-testid": "sprint-forecast-low"}),
        "–", html.Span(fmt.points(high), **{"data-testid": "sprint-forecast-high"}),
        f" (p10–p90 of the last {view.forecast_sprints} closed sprints)"], unit="pts")


EVENT_COLUMNS = [
    Column("When", className="nowrap"), Column("Item", className="nowrap"),
    Column("Event", className="nowrap"), Column("Change", "end"),
    Column("Remaining", "end", "fw-semibold"),
]


def _events_table(view: SprintView, tz: str) -> list[Any]:
    """Every row of the burndown: the change it made and the points remaining after it."""
    rows = [Row([
        _when(r.ts, tz),
        "" if r.item_key is None or pd.isna(r.item_key) else str(r.item_key),
        str(r.event),
        f"{r.change:g}" if r.event == "start" else _signed(r.change),
        f"{r.remaining:g}",
    ], testid=f"sprint-event-{i}") for i, r in enumerate(view.burndown.itertuples(index=False))]
    return [
        html.Div("Change: what the event did to the points remaining (done −, reopened +, "
                 "added +, removed −, re-estimated ±; 0 for an unestimated or done item).",
                 className="kpi-caption mb-1"),
        data_table(EVENT_COLUMNS, rows, testid="sprint-events-table",
                   className="sources-table small", max_height=300),
    ]


CHANGE_COLUMNS = [Column("When", className="nowrap"), Column("Item", className="nowrap"),
                  Column("Change", className="nowrap"), Column("Points", "end")]


def _changes_table(view: SprintView, tz: str) -> dbc.Table | html.Div | html.P:
    changes = view.scope_changes
    if changes.empty:
        return html.P("No scope change since the start.", className="text-muted mb-0")
    return data_table(CHANGE_COLUMNS, [
        [_when(r.ts, tz), str(r.item_key), str(r.change), _signed(r.points_delta)]
        for r in changes.itertuples(index=False)], testid="sprint-scope-changes-table")


def _went_to(r: Any, sprint_name: str) -> str:
    if r.destination == INTO_SPRINT:
        return str(r.to_sprint_name)
    if r.destination == TO_BACKLOG:
        return "backlog"
    return f"stayed in {sprint_name}"


CARRIED_COLUMNS = [Column("Item", className="nowrap"), Column("Points", "end"),
                   Column("Went to"), Column("Moved", className="nowrap text-muted")]


def _carry_over(view: SprintView, tz: str) -> list[Any]:
    """The sprint shown: each unfinished item and where it went; then every closed sprint."""
    assert view.selected is not None
    name = str(view.selected["name"])
    body: list[Any] = []
    if view.selected["state"] != CLOSED:
        body.append(html.P(f"{name} is still open: what is not done when it closes is its "
                           f"carry-over ({fmt.points(view.remaining)} pts remain now).",
                           className="text-muted small mb-2"))
    else:
        count = view.carried_count
        body.append(html.Div([
            f"{name} left {count} item{'s' if count != 1 else ''}, ",
            html.Span(fmt.points(view.carried_points), **{"data-testid": "sprint-carry-total"}),
            " pts undone at its close (its remaining then).",
        ], className="small mb-1"))
        if count:
            body.append(html.Div(data_table(CARRIED_COLUMNS, [[
                str(r.item_key), fmt.points(r.points),
                Cell(_went_to(r, name), testid=f"sprint-carried-to-{r.item_key}"),
                _when(r.moved, tz),
            ] for r in view.carried.itertuples(index=False)],
                testid="sprint-carried-table", className="sources-table small"),
                className="mb-3"))
    body.append(_carry_by_sprint(view))
    return body


CARRY_COLUMNS = [
    Column("Closed sprint", className="nowrap"), Column("Items", "end"),
    Column("Points", "end", "fw-semibold"), Column("→ sprint", "end"),
    Column("→ backlog", "end"), Column("stayed", "end"),
]


def _carry_by_sprint(view: SprintView) -> dbc.Table | html.Div | html.P:
    carried = view.carry_over
    if carried.empty:
        return html.P("No sprint has closed yet.", className="text-muted mb-0")
    return data_table(CARRY_COLUMNS, [[
        str(r.sprint_name),
        Cell(str(r.items), testid=f"sprint-carry-items-{r.sprint}"),
        Cell(fmt.points(r.points), testid=f"sprint-carry-points-{r.sprint}"),
        fmt.points(r.into_sprints), fmt.points(r.to_backlog), fmt.points(r.stayed),
    ] for r in carried.iloc[::-1].itertuples(index=False)],
        testid="sprint-carry-by-sprint", className="sources-table small")


def _report_row(view: SprintView) -> list[dbc.Row]:
    """Jira's own figures of a closed sprint beside dspo's, and why they differ."""
    if view.report is None:
        return []
    return [dbc.Row([
        dbc.Col(card("Jira's sprint report beside dspo's", _report_table(view.report),
                     "sprint-report"), xl=5, className="mb-3"),
        dbc.Col(card("Where Jira and dspo differ, and why", _report_reasons(view.report),
                     "sprint-report-reasons"), xl=7, className="mb-3"),
    ])]


REPORT_COLUMNS = [Column("Points"), Column("Jira", "end"), Column("dspo", "end"),
                  Column("dspo − Jira", "end")]


def _report_table(report: SprintComparison) -> list[Any]:
    rows = []
    for r in report.figures.itertuples(index=False):
        differs = pd.notna(r.difference) and abs(r.difference) > 1e-9
        rows.append([
            LABELS[r.figure].capitalize(),
            Cell(fmt.points(r.jira), testid=f"sprint-report-jira-{r.figure}"),
            Cell(fmt.points(r.dspo), testid=f"sprint-report-dspo-{r.figure}"),
            Cell("–" if pd.isna(r.difference) else f"{r.difference:+.1f}",
                 testid=f"sprint-report-diff-{r.figure}",
                 className="fw-semibold text-danger" if differs else ""),
        ])
    return [
        html.Div("Jira's figures from its sprint report (committed: the estimates at the "
                 "start of the issues there at the start); dspo's rebuilt from each item's "
                 "history with the velocity and burndown rules.", className="kpi-caption"),
        data_table(REPORT_COLUMNS, rows, testid="sprint-report-table"),
    ]


def _report_reasons(report: SprintComparison) -> list[Any]:
    items = report.items
    differences = explained(items)
    notes = items.loc[items["kind"] == NOTE, "reason"]
    body: list[Any] = []
    if not differences:
        body.append(html.P("Jira's report and dspo agree on every figure and item.",
                           className="text-muted mb-2",
                           **{"data-testid": "sprint-report-agree"}))
    else:
        body.append(html.Ul([html.Li(str(text), **{"data-testid": "sprint-report-reason"})
                             for text in differences], className="small mb-2"))
    if not notes.empty:
        body += [html.Div("Why committed and the rest do not add up:",
                          className="kpi-caption"),
                 html.Ul([html.Li(str(text), **{"data-testid": "sprint-report-note"})
                          for text in notes], className="small mb-0")]
    return body


dash.register_page(__name__, path="/sprint", name="Sprint", title="dspo · Sprint", order=10,
                   layout=layout)
