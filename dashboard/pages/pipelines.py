"""Pipelines: every run on a timeline, how often they succeed, how long they take, and
whether each pipeline's output is fresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components.panels import GRAPH_CONFIG, card, empty_state, status_badge
from dashboard.context import current
from dashboard.figures.pipelines import duration_chart, runs_timeline, success_rate_chart
from dashboard.filters import date_range
from dashboard.services.pipelines import PipelinesView, build_pipelines
from kpis.health import Status
from kpis.pipelines import FAILED_TASK_STATES, task_label


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           **_query: str) -> html.Div:
    ctx = current()
    selected = ctx.product(product)
    now = datetime.now(UTC)
    dates = date_range(start, end, now=now)
    as_of = min(now, dates.end - timedelta(microseconds=1))
    view = build_pipelines(ctx.store, selected, start=dates.start, as_of=as_of,
                           days=dates.days)
    header = html.H4(f"{selected.name}: pipelines", className="mb-3")
    if not view.pipelines:
        return html.Div([header, empty_state(
            "No pipeline runs for this product yet.",
            "sources (kind: airflow or mlflow_pipelines)")])
    return html.Div([
        header,
        card("Reliability and freshness", [_table(view)], "pipelines-summary"),
        html.Div(className="mb-3"),
        card("Runs", [
            html.Div("Each tick is a run, coloured by state; the last 7 days are shown first "
                     "(double-click the chart for the whole range).", className="kpi-caption"),
            _graph(runs_timeline(view.timeline, view.as_of, view.start)),
        ], "pipelines-timeline"),
        html.Div(className="mb-3"),
        dbc.Row([
            dbc.Col(card("Success rate (trailing window, end of each day)",
                         [_graph(success_rate_chart(view.daily, _threshold(view)))],
                         "pipelines-success"), xl=6, className="mb-3"),
            dbc.Col(card("Duration of successful runs", _durations(view),
                         "pipelines-duration"), xl=6, className="mb-3"),
        ]),
        card("Recent runs", [
            html.Div("The latest runs started in this date range, newest first; a duration "
                     "the pipeline's system reported (Airflow) is marked *, others are "
                     "end - start.", className="kpi-caption"),
            _recent(view),
        ], "pipelines-runs"),
        html.Div(className="mb-3"),
        card("Latest failed runs and their tasks", [_failed(view)], "pipelines-failed"),
    ])


def _threshold(view: PipelinesView) -> float | None:
    """The objective's line, when every pipeline with an objective shares one threshold."""
    found = {r.objective.threshold for r in view.rates if r.objective is not None}
    return found.pop() if len(found) == 1 else None


def _durations(view: PipelinesView) -> list[Any]:
    if view.durations.empty:
        return [html.P("No successful run in this date range.", className="text-muted")]
    return [_graph(duration_chart(view.durations))]


def _table(view: PipelinesView) -> html.Table:
    fresh = view.freshness.set_index("pipeline")
    rows = []
    for rate in view.rates:
        name = rate.pipeline
        objective = rate.objective
        target = f"{objective.op} {fmt.percent(objective.threshold, 0)}" if objective else "–"
        row = fresh.loc[name] if name in fresh.index else None
        last = row["last_success"] if row is not None else None
        expected = row["expected_s"] if row is not None else None
        basis = row["expected_from"] if row is not None else None
        rows.append(html.Tr([
            html.Td(name),
            html.Td(html.Span(fmt.percent(rate.success_rate),
                              **{"data-testid": f"pipelines-rate-{name}"}),
                    className="text-end fw-semibold"),
            html.Td(f"{rate.succeeded} of {rate.finished} in {fmt.span(rate.window)}",
                    className="text-muted nowrap"),
            html.Td(target, className="text-muted"),
            html.Td(status_badge(rate.status, f"pipelines-rate-status-{name}")),
            html.Td(html.Span(fmt.ago(last, view.as_of),
                              **{"data-testid": f"pipelines-fresh-{name}"}),
                    title="no successful run" if last is None or pd.isna(last)
                    else f"{last:%Y-%m-%d %H:%M} UTC"),
            html.Td(f"{fmt.duration(expected)}" + (f" ({basis})" if basis else ""),
                    className="text-muted nowrap"),
            html.Td(status_badge(Status(row["status"]) if row is not None else Status.UNKNOWN,
                                 f"pipelines-fresh-status-{name}")),
        ]))
    head = html.Thead(html.Tr([
        html.Th("Pipeline"), html.Th("Success rate", className="text-end"), html.Th("Runs"),
        html.Th("Objective"), html.Th("Status"), html.Th("Last success"),
        html.Th("Expected within"), html.Th("Freshness"),
    ]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm mb-0 sources-table")


RUN_COLOURS = {"success": "success", "failed": "danger", "running": "primary",
               "queued": "secondary", "cancelled": "dark", "skipped": "light"}


def _link(text: str, url: Any) -> Any:
    """Link to the run in its system; only http(s) URLs become links (a source's text is
    never trusted as a javascript: or data: URL)."""
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return html.A(text, href=url, target="_blank", rel="noopener noreferrer")
    return text


def _when(ts: Any) -> str:
    return "–" if ts is None or pd.isna(ts) else f"{ts:%Y-%m-%d %H:%M}"


def _run_duration(row: Any) -> html.Span:
    text = fmt.duration(row.duration_s)
    if row.own_duration:
        return html.Span(f"{text} *", title="as the pipeline's system reported it")
    return html.Span(text, title="end - start")


def _recent(view: PipelinesView) -> html.Table | html.P:
    if view.recent.empty:
        return html.P("No run started in this date range.", className="text-muted")
    rows = []
    for i, row in enumerate(view.recent.itertuples(index=False)):
        rows.append(html.Tr([
            html.Td(row.pipeline),
            html.Td(_link(row.run_id, row.url), className="run-id"),
            html.Td(dbc.Badge(row.state, color=RUN_COLOURS.get(row.state, "secondary"))),
            html.Td(row.run_type or "–"),
            html.Td(_when(row.start), className="nowrap"),
            html.Td(_run_duration(row), className="text-end nowrap"),
            html.Td(", ".join(row.failed_tasks) or "–",
                    **{"data-testid": f"pipelines-run-failed-{i}"}),
        ], **{"data-testid": f"pipelines-run-{i}"}))
    head = html.Thead(html.Tr([
        html.Th("Pipeline"), html.Th("Run"), html.Th("State"), html.Th("Type"),
        html.Th("Started (UTC)"), html.Th("Duration", className="text-end"),
        html.Th("Failed tasks"),
    ]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm mb-0 sources-table")


def _failed(view: PipelinesView) -> html.Div | html.P:
    if view.failed_runs.empty:
        return html.P("No failed run in this date range.", className="text-muted")
    tasks = view.failed_run_tasks
    with_tasks = [run for run in view.failed_runs.itertuples(index=False)
                  if ((tasks["pipeline"] == run.pipeline) & (tasks["run_id"] == run.run_id)).any()]
    if not with_tasks:
        return html.P(f"{len(view.failed_runs)} failed run(s) in this date range, none with "
                      "task instances: their system reports runs only (Airflow and GitHub "
                      "Actions report tasks and jobs).", className="text-muted")
    blocks = []
    for i, run in enumerate(with_tasks):
        mine = tasks[(tasks["pipeline"] == run.pipeline) & (tasks["run_id"] == run.run_id)]
        title = html.Div([
            html.Span(run.pipeline, className="fw-semibold"), " · ",
            _link(run.run_id, run.url), f" · started {_when(run.start)} UTC · failed: ",
            html.Span(", ".join(run.failed_tasks) or "no task reported failed",
                      **{"data-testid": f"pipelines-failed-run-{i}-names"}),
        ], className="mb-1")
        blocks.append(html.Div([title, _task_table(mine, i)], className="mb-3",
                               **{"data-testid": f"pipelines-failed-run-{i}"}))
    return html.Div(blocks)


def _task_table(tasks: pd.DataFrame, run_index: int) -> html.Table | html.P:
    if tasks.empty:
        return html.P("No task instances stored for this run.", className="text-muted small")
    rows = []
    for j, task in enumerate(tasks.itertuples(index=False)):
        broke = task.state in FAILED_TASK_STATES
        rows.append(html.Tr([
            html.Td(task_label(task.task_id, task.map_index)),
            html.Td(task.state, className="fw-semibold" if broke else "text-muted"),
            html.Td("–" if pd.isna(task.try_number) else str(int(task.try_number)),
                    className="text-end"),
            html.Td(_when(task.start), className="nowrap"),
            html.Td(fmt.duration(task.duration), className="text-end nowrap"),
            html.Td(task.operator or "–", className="text-muted"),
        ], className="table-danger" if broke else None,
            **{"data-testid": f"pipelines-failed-run-{run_index}-task-{j}"}))
    head = html.Thead(html.Tr([
        html.Th("Task"), html.Th("State"), html.Th("Try", className="text-end"),
        html.Th("Started (UTC)"), html.Th("Duration", className="text-end"), html.Th("Operator"),
    ]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm mb-0")


def _graph(figure: go.Figure) -> dcc.Graph:
    """A chart as tall as its figure says: a percentage height collapses inside cards."""
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG,
                     style={"height": f"{figure.layout.height or 260}px"})


dash.register_page(__name__, path="/pipelines", name="Pipelines", title="dspo · Pipelines",
                   order=50, layout=layout)
