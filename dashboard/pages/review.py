"""Review: the sprint review pack of one closed sprint, on one printable page.

What the sprint set out to do and whether it did (its goal), what it delivered (by type,
intermediate deliveries and experiments counted beside features), what its experiments
found, which model versions it promoted, how the product's health and usage moved from
its start to its close, and which alerts fired or resolved meanwhile. The sprint lives in
the URL (`/review?product=churn&sprint=105`); without one, the latest closed sprint. The
PDF link renders this page on the server (`/export/review.pdf`), for the review meeting.
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
from dashboard.components.graphs import graph
from dashboard.components.panels import card, empty_state, page_header, status_badge
from dashboard.components.stats import stat_tile, tile_row
from dashboard.components.tables import Cell, Column, data_table
from dashboard.context import page_view
from dashboard.figures.review import delivered_chart
from dashboard.services.review import SprintReview, build_review
from kpis.health import Status
from kpis.history import as_text
from kpis.review import KIND_LABELS, KIND_ORDER, MET, NOT_ASSESSED

PATH = "/review"
GOAL_COLOURS = {MET: "success", "not met": "danger", NOT_ASSESSED: "secondary"}
OUTCOME_COLOURS = {"supported": "success", "refuted": "danger", "inconclusive": "warning",
                   "open": "secondary"}
TREND_MARKS = {"better": "▲ better", "worse": "▼ worse", "same": "= same", "unknown": "?"}


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           sprint: str | None = None, **_query: str) -> html.Div:
    page = page_view(product, start, end)
    view = build_review(page.context.store, page.product, sprint, as_of=page.now)
    title = f"{page.product.name}: sprint review"
    if view is None:
        return html.Div([page_header(title), empty_state(
            "No sprint of this product has closed yet: a review is of a finished sprint.",
            "sources (kind: files, with sprints and history)")])
    tz = page.context.config.dashboard.timezone
    query = {"product": page.product.key, "start": start, "end": end}
    return html.Div([
        _header(view, title, tz, query),
        _tiles(view),
        dbc.Row([
            dbc.Col(card("Sprint goal", _goal(view), "review-goal"), lg=3, className="mb-3"),
            dbc.Col(card("Delivered", _delivered(view), "review-delivered"), lg=9,
                    className="mb-3"),
        ]),
        # three columns only on wide screens; print.css keeps them three on paper
        dbc.Row([
            dbc.Col(card("Experiments and their outcomes", _experiments(view),
                         "review-experiments"), xxl=6, className="mb-3 review-half"),
            dbc.Col(card("Model versions promoted", _promotions(view, tz),
                         "review-promotions"), md=6, xxl=3, className="mb-3 review-quarter"),
            dbc.Col(card("Usage: start → close", _usage(view), "review-usage"), md=6, xxl=3,
                    className="mb-3 review-quarter"),
        ]),
        dbc.Row([
            dbc.Col(card("Product health: start → close", _health(view), "review-health"),
                    lg=6, className="mb-3"),
            dbc.Col(card("Alerts fired or resolved during the sprint", _alerts(view, tz),
                         "review-alerts"), lg=6, className="mb-3"),
        ]),
    ], className="review-page")


def _day(ts: Any, tz: str) -> str:
    return "–" if ts is None or pd.isna(ts) else pd.Timestamp(ts).tz_convert(
        ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M")


def _short(ts: Any, tz: str) -> str:
    return "–" if ts is None or pd.isna(ts) else pd.Timestamp(ts).tz_convert(
        ZoneInfo(tz)).strftime("%d %b %H:%M")


def _testid(name: str) -> dict[str, str]:
    return {"data-testid": name}


def _header(view: SprintReview, title: str, tz: str, query: dict[str, str | None]
            ) -> dbc.Row:
    pdf = "/export/review.pdf?" + urlencode({"product": query["product"] or "",
                                             "sprint": view.sprint_id})
    return dbc.Row([
        dbc.Col([
            html.H4([title, ": ", html.Span(view.name, **_testid("review-sprint-name"))],
                    className="mb-0"),
            html.Div([
                dbc.Badge("closed", color="secondary", className="me-2"),
                html.Span(f"{_day(view.window.start, tz)} – {_day(view.window.close, tz)}",
                          **_testid("review-dates")),
            ], className="text-muted small"),
        ], md=8),
        dbc.Col(html.Div([
            html.Span("Sprint", className="small text-muted me-2"),
            _selector(view, query),
            html.A("PDF", href=pdf, id="review-export-pdf",
                   className="ms-3 kpi-exports d-print-none"),
        ], className="d-flex align-items-center justify-content-md-end d-print-none"), md=4),
    ], className="mb-3 align-items-center")


def _selector(view: SprintReview, query: dict[str, str | None]) -> dbc.DropdownMenu:
    """Links, like the Sprint page's: choosing a closed sprint navigates to its review."""
    items = []
    for sprint_id, name in zip(view.closed["external_id"], view.closed["name"], strict=True):
        sprint_id = as_text(sprint_id)
        params = {k: v for k, v in {**query, "sprint": sprint_id}.items() if v}
        items.append(dbc.DropdownMenuItem(str(name), href=f"{PATH}?{urlencode(params)}",
                                          active=sprint_id == view.sprint_id,
                                          id=f"review-option-{sprint_id}"))
    return dbc.DropdownMenu(items[::-1], label=view.name, id="review-select", color="light",
                            align_end=True, toggle_class_name="border d-print-none")


def _tiles(view: SprintReview) -> dbc.Row:
    outcomes = view.experiments["outcome"].value_counts() if len(view.experiments) else {}
    found = ", ".join(f"{int(outcomes[o])} {o}" for o in OUTCOME_COLOURS if o in outcomes)
    moves = view.promotions
    promoted = int((moves["kind"] == "promotion").sum()) if len(moves) else 0
    return tile_row([
        stat_tile("Committed", fmt.points(view.committed), "review-committed",
                  "estimates at the start", unit="pts"),
        stat_tile("Delivered", fmt.points(view.completed), "review-completed",
                  f"{len(view.delivered)} items done by the close", unit="pts"),
        stat_tile("Intermediate deliveries", fmt.points(view.by_kind["delivery"]),
                  "review-deliveries", "reports, prototypes, analyses", unit="pts"),
        stat_tile("Experiments", str(len(view.experiments)), "review-experiment-count",
                  found or "none in this sprint"),
        stat_tile("Promotions", str(promoted), "review-promotion-count",
                  f"{len(moves)} alias moves in all"),
        stat_tile("Alerts fired", str(view.fired), "review-alerts-fired",
                  [html.Span(str(view.resolved), **_testid("review-alerts-resolved")),
                   " resolved during the sprint"]),
    ], xs=6, md=4, lg=2)


def _goal(view: SprintReview) -> list[Any]:
    check = view.goal_check
    body: list[Any] = [
        html.P(view.goal or "The tracker gives this sprint no goal.",
               className="fw-semibold mb-2" if view.goal else "text-muted mb-2",
               **_testid("review-goal-text")),
        html.Div(html.Span(dbc.Badge(check.status, color=GOAL_COLOURS[check.status]),
                           **_testid("review-goal-status")), className="mb-2"),
    ]
    if check.status == NOT_ASSESSED:
        body.append(html.P([
            "No item of the sprint carries the label ", html.Code(check.label), ". Label the "
            "items the goal rests on with it (in the tracker); the goal is then met when "
            "every one of them is done by the sprint's close. The label is set per product "
            "with ", html.Code("products[].backlog.goal_label"), "."],
            className="small text-muted mb-0", **_testid("review-goal-howto")))
        return body
    body.append(html.Div(f"{check.done} of {len(check.items)} items labelled "
                         f"{check.label} done by the close:", className="small mb-1"))
    body.append(data_table([Column("Item", className="nowrap"), Column("Title"),
                            Column("Done", "end")],
                           [[str(r.key), str(r.title), "yes" if r.done else "no"]
                            for r in check.items.itertuples(index=False)],
                           testid="review-goal-items", className="sources-table small"))
    return body


def _delivered(view: SprintReview) -> list[Any]:
    rows: list[Any] = []
    for kind in KIND_ORDER:
        mine = view.delivered.loc[view.delivered["kind"] == kind]
        rows.append([Cell(html.Strong(KIND_LABELS[kind])), "",
                     Cell(str(len(mine)), className="fw-semibold"),
                     Cell(fmt.points(view.by_kind[kind]), testid=f"review-kind-{kind}",
                          className="fw-semibold")])
        rows += [[Cell(f"{r.key} · {r.title}", className="ps-3"), str(r.type), "",
                  fmt.points(r.points)] for r in mine.itertuples(index=False)]
    rows.append([Cell(html.Strong("Total")), "", str(len(view.delivered)),
                 Cell(fmt.points(float(view.delivered["points"].sum())),
                      testid="review-delivered-total", className="fw-semibold")])
    return [
        html.Div("Items done by the close (the Sprint page's completed), each with its "
                 "estimate then; intermediate deliveries and experiments count in the total.",
                 className="kpi-caption"),
        dbc.Row([
            dbc.Col(graph(delivered_chart(view.committed, view.by_kind),
                          "review-delivered-chart"), md=5),
            dbc.Col(data_table([Column("Item"), Column("Type", className="nowrap"),
                                Column("Items", "end"), Column("Points", "end")], rows,
                               testid="review-delivered-table",
                               className="sources-table small"), md=7),
        ]),
    ]


def _experiments(view: SprintReview) -> list[Any]:
    frame = view.experiments
    if frame.empty:
        return [html.P("No experiment item in this sprint (types: "
                      + ", ".join(view.product.backlog.item_kinds.experiment) + ").",
                      className="text-muted mb-0")]
    rows = []
    for r in frame.itertuples(index=False):
        best = "–" if r.best_value is None or pd.isna(r.best_value) else f"{r.best_value:.3f}"
        rows.append([
            str(r.key), str(r.title),
            Cell(dbc.Badge(str(r.outcome), color=OUTCOME_COLOURS.get(str(r.outcome), "light")),
                 testid=f"review-outcome-{r.key}"),
            str(r.criterion or "–"),
            f"{r.metric} {best}" if r.metric else best,
            str(r.reason or ""),
        ])
    return [data_table([Column("Item", className="nowrap"), Column("Title"),
                        Column("Outcome"), Column("Criterion"), Column("Best run"),
                        Column("Why", className="text-muted")], rows,
                       testid="review-experiments-table", className="sources-table small")]


def _promotions(view: SprintReview, tz: str) -> Any:
    moves = view.promotions
    if moves.empty:
        return html.P("No model alias moved during the sprint.", className="text-muted mb-0")
    return data_table([Column("When", className="nowrap"), Column("Model"), Column("Alias"),
                       Column("From → to", className="nowrap"), Column("Move")],
                      [[_short(r.ts, tz), str(r.model), str(r.alias),
                        Cell(f"{_version(r.from_version)} → {_version(r.to_version)}",
                             testid=f"review-move-{i}"), str(r.kind)]
                       for i, r in enumerate(moves.itertuples(index=False))],
                      testid="review-promotions-table", className="sources-table small")


def _version(version: object) -> str:
    return "–" if version is None or pd.isna(version) else f"v{version}"


def _health(view: SprintReview) -> Any:
    if view.health.empty:
        return html.P("The product has no objectives.", className="text-muted mb-0")
    rows = []
    for i, r in enumerate(view.health.itertuples(index=False)):
        rows.append([
            str(r.objective),
            Cell(fmt.objective_value(r.kind, r.start_value, r.metric),
                 testid=f"review-health-start-{i}"),
            status_badge(Status(r.start_status)),
            Cell(fmt.objective_value(r.kind, r.end_value, r.metric),
                 testid=f"review-health-end-{i}"),
            status_badge(Status(r.end_status)),
            Cell(TREND_MARKS[r.trend], testid=f"review-health-trend-{i}"),
        ])
    return [html.Div("Each objective judged on its signal at the sprint's start and at its "
                     "close, as the Overview judges it now.", className="kpi-caption"),
            data_table([Column("Objective"), Column("Start", "end"), Column(""),
                        Column("Close", "end"), Column(""), Column("Status")], rows,
                       testid="review-health-table", className="sources-table small")]


def _usage(view: SprintReview) -> Any:
    if view.usage.empty:
        return html.P("No usage KPI is collected for this product.",
                      className="text-muted mb-0")
    rows = [[str(r.kpi), Cell(fmt.number(r.start_value), testid=f"review-usage-start-{r.kpi}"),
             Cell(fmt.number(r.end_value), testid=f"review-usage-end-{r.kpi}"),
             Cell("–" if pd.isna(r.change_pct) else f"{r.change_pct:+.1f}%",
                  testid=f"review-usage-change-{r.kpi}"), str(r.unit)]
            for r in view.usage.itertuples(index=False)]
    return [html.Div("Each KPI's latest value at or before the start and the close.",
                     className="kpi-caption"),
            data_table([Column("KPI"), Column("Start", "end"), Column("Close", "end"),
                        Column("Change", "end"), Column("Unit", className="text-muted")],
                       rows, testid="review-usage-table", className="sources-table small")]


def _alerts(view: SprintReview, tz: str) -> Any:
    frame = view.alerts
    if frame.empty:
        return html.P("No alert fired or resolved during the sprint.",
                      className="text-muted mb-0")
    rows = []
    for r in frame.itertuples(index=False):
        item = "–" if r.ticket_key is None else " ".join(
            str(x) for x in (r.ticket_key, r.ticket_title and f"· {r.ticket_title}",
                             r.ticket_status and f"({r.ticket_status})") if x)
        rows.append([str(r.rule), str(r.summary),
                     _short(r.started, tz) + ("" if r.fired_in_sprint else " (before)"),
                     "still firing" if pd.isna(r.resolved) else
                     _short(r.resolved, tz) + ("" if r.resolved_in_sprint else " (after)"),
                     Cell(item, testid=f"review-alert-item-{r.ticket_key}")])
    return data_table([Column("Rule", className="nowrap"), Column("Summary"),
                       Column("Fired", className="nowrap"),
                       Column("Resolved", className="nowrap"), Column("Backlog item")],
                      rows, testid="review-alerts-table", className="sources-table small")


dash.register_page(__name__, path=PATH, name="Review", title="dspo · Sprint review",
                   order=12, layout=layout)
