"""Sprint: how the chosen sprint is burning down, event by event (and why its scope moved),
the team's velocity with a forecast for the next sprint, and the work each sprint left
undone at its close, with where each item went.

The sprint lives in the URL (`/sprint?product=churn&sprint=106`) like the other filters,
so a link opens the same sprint; without one the active sprint is shown, else the last.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import dash
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components.panels import GRAPH_CONFIG, card, empty_state
from dashboard.context import current
from dashboard.figures.sprint import burndown_chart, burnup_chart, velocity_chart
from dashboard.services.sprint import SprintView, build_sprint
from kpis.carry_over import INTO_SPRINT, TO_BACKLOG
from kpis.history import as_text
from kpis.sprint_report import LABELS, NOTE, SprintComparison, explained
from kpis.velocity import CLOSED


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           sprint: str | None = None, **_query: str) -> html.Div:
    ctx = current()
    selected = ctx.product(product)
    view = build_sprint(ctx.store, selected, sprint, as_of=datetime.now(UTC))
    title = html.H4(f"{selected.name}: sprint", className="mb-0")
    if view.selected is None:
        return html.Div([title, html.Div(className="mb-3"), empty_state(
            "No sprint has started for this product yet.",
            "sources (kind: files, with sprints and history)")])
    tz = ctx.config.dashboard.timezone
    return html.Div([
        _header(view, title, tz, {"product": product, "start": start, "end": end}),
        _tiles(view),
        dbc.Row([
            dbc.Col(card("Burndown: points remaining", _burndown(view), "sprint-burndown"),
                    xl=7, className="mb-3"),
            dbc.Col(card("Burndown events", _events_table(view, tz), "sprint-events"),
                    xl=5, className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(card("Burnup: scope and completed", _burnup(view), "sprint-burnup"),
                    xl=7, className="mb-3"),
            dbc.Col(card("Scope changes after the start", [_changes_table(view, tz)],
                         "sprint-scope-changes"), xl=5, className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(card("Velocity and forecast", _velocity(view), "sprint-velocity"),
                    xl=7, className="mb-3"),
            dbc.Col(card("Carry-over: what was not done at the close", _carry_over(view, tz),
                         "sprint-carry-over"), xl=5, className="mb-3"),
        ]),
        *_report_row(view),
    ])


def _graph(figure: go.Figure) -> dcc.Graph:
    """A graph as tall as its figure: with `responsive` Plotly sizes to the container, and
    a container without a height collapses."""
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG,
                     style={"height": f"{figure.layout.height or 300}px"})


def _day(ts: Any, tz: str) -> str:
    return "–" if ts is None or pd.isna(ts) else pd.Timestamp(ts).tz_convert(
        ZoneInfo(tz)).strftime("%a %d %b")


def _header(view: SprintView, title: html.H4, tz: str, query: dict[str, str | None]
            ) -> dbc.Row:
    row = view.selected
    assert row is not None
    state = str(row["state"])
    return dbc.Row([
        dbc.Col([
            title,
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


def _tile(label: str, value: str, testid: str, caption: str | list[Any] = "") -> dbc.Col:
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.Div(label, className="kpi-caption"),
        html.Div([html.Span(value, className="kpi-figure", **{"data-testid": testid}),
                  html.Span(" pts", className="kpi-caption")]),
        html.Div(caption, className="kpi-caption"),
    ], className="py-2")), className="mb-3", xs=6, md=4, xl=True)


def _tiles(view: SprintView) -> dbc.Row:
    row = view.selected
    assert row is not None
    active = row["state"] == "active"
    first = view.burndown["scope"].iloc[0] if len(view.burndown) else None
    changes = len(view.scope_changes)
    forecast = view.forecast
    tiles = [
        _tile("Commitment", fmt.points(row["commitment"]), "sprint-commitment",
              "estimates of the items in the sprint at its start"),
        _tile("Completed so far" if active else "Completed", fmt.points(row["completed"]),
              "sprint-completed", "points of done items, items added after the start included"),
        _tile("Remaining", fmt.points(view.remaining), "sprint-remaining",
              "now" if active else "at the close: the carry-over"),
        _tile("Scope now" if active else "Scope at the close", fmt.points(view.scope_now),
              "sprint-scope",
              [f"from {fmt.points(first)} at the start, ",
               html.Span(str(changes), **{"data-testid": "sprint-scope-change-count"}),
               f" change{'s' if changes != 1 else ''}"]),
    ]
    if forecast is None:
        tiles.append(_tile("Next sprint forecast", "–", "sprint-forecast-likely",
                           "needs one closed sprint"))
    else:
        low, likely, high = forecast
        tiles.append(_tile("Next sprint forecast", fmt.points(likely), "sprint-forecast-likely", [
            "likely; range ", html.Span(fmt.points(low), **{"data-testid": "sprint-forecast-low"}),
            "–", html.Span(fmt.points(high), **{"data-testid": "sprint-forecast-high"}),
            f" (p10–p90 of the last {view.forecast_sprints} closed sprints)"]))
    return dbc.Row(tiles, className="g-3")


def _burndown(view: SprintView) -> list[Any]:
    return [
        html.Div("A step at the exact time of each event (the table beside it). Dashed: the "
                 "ideal line from the commitment to 0 over working days (flat at weekends). "
                 "Markers: items added ▲, removed ▼, re-estimated ◆ or reopened ● after "
                 "the start.", className="kpi-caption"),
        _graph(burndown_chart(view.burndown, view.ideal)),
    ]


def _burnup(view: SprintView) -> list[Any]:
    return [
        html.Div("The gap between scope and completed is the work left; steps in the scope "
                 "line are scope changes, a reopened item steps completed down.",
                 className="kpi-caption"),
        _graph(burnup_chart(view.burndown, view.ideal)),
    ]


def _when(ts: Any, tz: str) -> str:
    return pd.Timestamp(ts).tz_convert(ZoneInfo(tz)).strftime("%d %b %H:%M")


def _signed(change: float) -> str:
    return f"{change:+g}" if change else "0"


def _events_table(view: SprintView, tz: str) -> list[Any]:
    """Every row of the burndown: the change it made and the points remaining after it."""
    rows = [html.Tr([
        html.Td(_when(r.ts, tz), className="nowrap"),
        html.Td("" if r.item_key is None or pd.isna(r.item_key) else str(r.item_key),
                className="nowrap"),
        html.Td(str(r.event), className="nowrap"),
        html.Td(f"{r.change:g}" if r.event == "start" else _signed(r.change),
                className="text-end"),
        html.Td(f"{r.remaining:g}", className="text-end fw-semibold"),
    ], **{"data-testid": f"sprint-event-{i}"})
        for i, r in enumerate(view.burndown.itertuples(index=False))]
    head = html.Thead(html.Tr([html.Th("When"), html.Th("Item"), html.Th("Event"),
                               html.Th("Change", className="text-end"),
                               html.Th("Remaining", className="text-end")]))
    return [
        html.Div("Change: what the event did to the points remaining (done −, reopened +, "
                 "added +, removed −, re-estimated ±; 0 for an unestimated or done item).",
                 className="kpi-caption mb-1"),
        html.Div(html.Table([head, html.Tbody(rows)],
                            className="table table-sm sources-table small mb-0",
                            **{"data-testid": "sprint-events-table"}),
                 style={"maxHeight": "300px", "overflow": "auto"}),
    ]


def _velocity(view: SprintView) -> list[Any]:
    return [
        html.Div("Commitment vs completed per sprint (the active sprint hatched: completed so "
                 "far), the mean of the last 3 closed sprints, and the next sprint's likely "
                 "points with its p10–p90 range.", className="kpi-caption"),
        _graph(velocity_chart(view.velocity, view.forecast,
                                        str(view.selected["name"]) if view.selected is not None
                                        else None)),
    ]


def _changes_table(view: SprintView, tz: str) -> html.Table | html.P:
    changes = view.scope_changes
    if changes.empty:
        return html.P("No scope change since the start.", className="text-muted mb-0")
    rows = [html.Tr([
        html.Td(_when(r.ts, tz), className="nowrap"),
        html.Td(str(r.item_key), className="nowrap"), html.Td(str(r.change), className="nowrap"),
        html.Td(_signed(r.points_delta), className="text-end"),
    ]) for r in changes.itertuples(index=False)]
    head = html.Thead(html.Tr([html.Th("When"), html.Th("Item"), html.Th("Change"),
                               html.Th("Points", className="text-end")]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm sources-table mb-0",
                      **{"data-testid": "sprint-scope-changes-table"})


def _went_to(r: Any, sprint_name: str) -> str:
    if r.destination == INTO_SPRINT:
        return str(r.to_sprint_name)
    if r.destination == TO_BACKLOG:
        return "backlog"
    return f"stayed in {sprint_name}"


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
        carried = view.carried
        body.append(html.Div([
            f"{name} left {len(carried)} item{'s' if len(carried) != 1 else ''}, ",
            html.Span(fmt.points(float(carried["points"].sum())),
                      **{"data-testid": "sprint-carry-total"}),
            " pts undone at its close (its remaining then).",
        ], className="small mb-1"))
        if len(carried):
            rows = [html.Tr([
                html.Td(str(r.item_key), className="nowrap"),
                html.Td(fmt.points(r.points), className="text-end"),
                html.Td(_went_to(r, name), **{"data-testid": f"sprint-carried-to-{r.item_key}"}),
                html.Td("" if pd.isna(r.moved) else _when(r.moved, tz),
                        className="nowrap text-muted"),
            ]) for r in carried.itertuples(index=False)]
            head = html.Thead(html.Tr([html.Th("Item"), html.Th("Points", className="text-end"),
                                       html.Th("Went to"), html.Th("Moved")]))
            body.append(html.Table([head, html.Tbody(rows)],
                                   className="table table-sm sources-table small mb-3",
                                   **{"data-testid": "sprint-carried-table"}))
    body.append(_carry_by_sprint(view))
    return body


def _carry_by_sprint(view: SprintView) -> html.Table | html.P:
    carried = view.carry_over
    if carried.empty:
        return html.P("No sprint has closed yet.", className="text-muted mb-0")
    rows = [html.Tr([
        html.Td(str(r.sprint_name), className="nowrap"),
        html.Td(str(r.items), className="text-end",
                **{"data-testid": f"sprint-carry-items-{r.sprint}"}),
        html.Td(fmt.points(r.points), className="text-end fw-semibold",
                **{"data-testid": f"sprint-carry-points-{r.sprint}"}),
        html.Td(fmt.points(r.into_sprints), className="text-end"),
        html.Td(fmt.points(r.to_backlog), className="text-end"),
        html.Td(fmt.points(r.stayed), className="text-end"),
    ]) for r in carried.iloc[::-1].itertuples(index=False)]
    head = html.Thead(html.Tr([html.Th(text, className=f"{align} nowrap") for text, align in (
        ("Closed sprint", ""), ("Items", "text-end"), ("Points", "text-end"),
        ("→ sprint", "text-end"), ("→ backlog", "text-end"), ("stayed", "text-end"))]))
    return html.Table([head, html.Tbody(rows)],
                      className="table table-sm sources-table small mb-0",
                      **{"data-testid": "sprint-carry-by-sprint"})


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


def _report_table(report: SprintComparison) -> list[Any]:
    rows = []
    for r in report.figures.itertuples(index=False):
        differs = pd.notna(r.difference) and abs(r.difference) > 1e-9
        rows.append(html.Tr([
            html.Td(LABELS[r.figure].capitalize()),
            html.Td(fmt.points(r.jira), className="text-end",
                    **{"data-testid": f"sprint-report-jira-{r.figure}"}),
            html.Td(fmt.points(r.dspo), className="text-end",
                    **{"data-testid": f"sprint-report-dspo-{r.figure}"}),
            html.Td("–" if pd.isna(r.difference) else f"{r.difference:+.1f}",
                    className="text-end" + (" fw-semibold text-danger" if differs else ""),
                    **{"data-testid": f"sprint-report-diff-{r.figure}"}),
        ]))
    head = html.Thead(html.Tr([html.Th("Points"), html.Th("Jira", className="text-end"),
                               html.Th("dspo", className="text-end"),
                               html.Th("dspo − Jira", className="text-end")]))
    return [
        html.Div("Jira's figures from its sprint report (committed: the estimates at the "
                 "start of the issues there at the start); dspo's rebuilt from each item's "
                 "history with the velocity and burndown rules.", className="kpi-caption"),
        html.Table([head, html.Tbody(rows)], className="table table-sm sources-table mb-0",
                   **{"data-testid": "sprint-report-table"}),
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
