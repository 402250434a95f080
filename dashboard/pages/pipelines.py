"""Pipelines: every run on a timeline, how often they succeed, how long they take, and
whether each pipeline's output is fresh."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from dashboard.components import format as fmt
from dashboard.components.graphs import graph
from dashboard.components.links import external_link
from dashboard.components.panels import card, empty_state, page_header, status_badge
from dashboard.components.tables import Cell, Column, Row, data_table
from dashboard.context import page_view
from dashboard.figures.pipelines import (
    bucket_label,
    duration_chart,
    duration_chart_buckets,
    runs_timeline,
    runs_timeline_buckets,
    success_rate_chart,
)
from dashboard.services.pipelines import FailedRun, PipelinesView, build_pipelines
from kpis.health import Status
from kpis.pipelines import FAILED_TASK_STATES, task_label


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           **_query: str) -> html.Div:
    page = page_view(product, start, end)
    view = build_pipelines(page.context.store, page.product, start=page.dates.start,
                           as_of=page.as_of, days=page.dates.days)
    header = page_header(f"{page.product.name}: pipelines")
    if not view.pipelines:
        return html.Div([header, empty_state(
            "No pipeline runs for this product yet.",
            "sources (kind: airflow or mlflow_pipelines)")])
    return html.Div([
        header,
        card("Reliability and freshness", [_table(view)], "pipelines-summary"),
        html.Div(className="mb-3"),
        card("Runs", _timeline(view), "pipelines-timeline"),
        html.Div(className="mb-3"),
        dbc.Row([
            dbc.Col(card("Success rate (trailing window, end of each day)",
                         [graph(success_rate_chart(view.daily, view.threshold))],
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


def _timeline(view: PipelinesView) -> list[Any]:
    """One tick per run; past kpis.run_buckets.RAW_RUNS runs, one mark per bucket and the
    runs that did not succeed one by one (a bounded number of points)."""
    if view.bucket is None or view.shown is None:
        return [html.Div("Each tick is a run, coloured by state; the last 7 days are shown "
                         "first (double-click the chart for the whole range).",
                         className="kpi-caption"),
                graph(runs_timeline(view.timeline, view.as_of, view.start))]
    label = bucket_label(view.bucket)
    hidden = int((view.timeline["state"] != "success").sum()) - len(view.shown)
    note = f" (the newest {len(view.shown)}; {hidden} more are in the counts)" if hidden else ""
    return [html.Div(f"{len(view.timeline):,} runs in this range: each square is a {label} "
                     "of a pipeline's runs (red: one failed; hover for counts and durations); "
                     f"each tick a run that did not succeed{note}.", className="kpi-caption",
                     **{"data-testid": "pipelines-timeline-caption"}),
            graph(runs_timeline_buckets(view.run_buckets, view.shown, view.bucket,
                                        view.as_of, view.start))]


def _durations(view: PipelinesView) -> list[Any]:
    if view.durations.empty:
        return [html.P("No successful run in this date range.", className="text-muted")]
    if view.bucket is not None:
        return [graph(duration_chart_buckets(view.duration_buckets, view.bucket))]
    return [graph(duration_chart(view.durations))]


SUMMARY_COLUMNS = [
    Column("Pipeline"), Column("Success rate", "end", "fw-semibold"),
    Column("Runs", className="text-muted nowrap"), Column("Objective", className="text-muted"),
    Column("Status"), Column("Last success"),
    Column("Expected within", className="text-muted nowrap"), Column("Freshness"),
]


def _table(view: PipelinesView) -> dbc.Table | html.Div:
    fresh = view.freshness.set_index("pipeline")
    rows = []
    for rate in view.rates:
        name = rate.pipeline
        objective = rate.objective
        row = fresh.loc[name] if name in fresh.index else None
        last = row["last_success"] if row is not None else None
        basis = row["expected_from"] if row is not None else None
        expected = fmt.duration(row["expected_s"] if row is not None else None)
        rows.append([
            name,
            Cell(fmt.percent(rate.success_rate), testid=f"pipelines-rate-{name}"),
            f"{rate.succeeded} of {rate.finished} in {fmt.span(rate.window)}",
            f"{objective.op} {fmt.percent(objective.threshold, 0)}" if objective else "–",
            status_badge(rate.status, f"pipelines-rate-status-{name}"),
            Cell(fmt.ago(last, view.as_of), testid=f"pipelines-fresh-{name}",
                 title="no successful run" if last is None or pd.isna(last)
                 else f"{last:%Y-%m-%d %H:%M} UTC"),
            expected + (f" ({basis})" if basis else ""),
            status_badge(Status(row["status"]) if row is not None else Status.UNKNOWN,
                         f"pipelines-fresh-status-{name}"),
        ])
    return data_table(SUMMARY_COLUMNS, rows)


RUN_COLOURS = {"success": "success", "failed": "danger", "running": "primary",
               "queued": "secondary", "cancelled": "dark", "skipped": "light"}


def _link(text: str, url: Any) -> Any:
    """Link to the run in its system (only an http(s) URL from a source becomes a link)."""
    return external_link(text, url)


def _when(ts: Any) -> str:
    return "–" if ts is None or pd.isna(ts) else f"{ts:%Y-%m-%d %H:%M}"


def _run_duration(row: Any) -> html.Span:
    text = fmt.duration(row.duration_s)
    if row.own_duration:
        return html.Span(f"{text} *", title="as the pipeline's system reported it")
    return html.Span(text, title="end - start")


RECENT_COLUMNS = [
    Column("Pipeline"), Column("Run", className="run-id"), Column("State"), Column("Type"),
    Column("Started (UTC)", className="nowrap"), Column("Duration", "end", "nowrap"),
    Column("Failed tasks"),
]


def _recent(view: PipelinesView) -> dbc.Table | html.Div | html.P:
    if view.recent.empty:
        return html.P("No run started in this date range.", className="text-muted")
    return data_table(RECENT_COLUMNS, [Row([
        row.pipeline, _link(row.run_id, row.url),
        dbc.Badge(row.state, color=RUN_COLOURS.get(row.state, "secondary")),
        row.run_type or "–", _when(row.start), _run_duration(row),
        Cell(", ".join(row.failed_tasks) or "–", testid=f"pipelines-run-failed-{i}"),
    ], testid=f"pipelines-run-{i}") for i, row in enumerate(view.recent.itertuples(index=False))])


def _failed(view: PipelinesView) -> html.Div | html.P:
    if view.failed_runs.empty:
        return html.P("No failed run in this date range.", className="text-muted")
    if not view.with_tasks:
        return html.P(f"{len(view.failed_runs)} failed run(s) in this date range, none with "
                      "task instances: their system reports runs only (Airflow and GitHub "
                      "Actions report tasks and jobs).", className="text-muted")
    return html.Div([_failed_run(i, failed) for i, failed in enumerate(view.with_tasks)])


def _failed_run(i: int, failed: FailedRun) -> html.Div:
    run = failed.run
    title = html.Div([
        html.Span(run.pipeline, className="fw-semibold"), " · ",
        _link(run.run_id, run.url), f" · started {_when(run.start)} UTC · failed: ",
        html.Span(", ".join(run.failed_tasks) or "no task reported failed",
                  **{"data-testid": f"pipelines-failed-run-{i}-names"}),
    ], className="mb-1")
    return html.Div([title, _task_table(failed.tasks, i)], className="mb-3",
                    **{"data-testid": f"pipelines-failed-run-{i}"})


TASK_COLUMNS = [
    Column("Task"), Column("State"), Column("Try", "end"),
    Column("Started (UTC)", className="nowrap"), Column("Duration", "end", "nowrap"),
    Column("Operator", className="text-muted"),
]


def _task_table(tasks: pd.DataFrame, run_index: int) -> dbc.Table | html.Div:
    rows = []
    for j, task in enumerate(tasks.itertuples(index=False)):
        broke = task.state in FAILED_TASK_STATES
        rows.append(Row([
            task_label(task.task_id, task.map_index),
            Cell(task.state, className="fw-semibold" if broke else "text-muted"),
            "–" if pd.isna(task.try_number) else str(int(task.try_number)),
            _when(task.start), fmt.duration(task.duration), task.operator or "–",
        ], testid=f"pipelines-failed-run-{run_index}-task-{j}",
            className="table-danger" if broke else None))
    return data_table(TASK_COLUMNS, rows, className="")


dash.register_page(__name__, path="/pipelines", name="Pipelines", title="dspo · Pipelines",
                   order=50, layout=layout)
