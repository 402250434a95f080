"""Alerts: what is firing or pending, what is silenced, what happened, what could not be
delivered; acknowledge, silence, and retry or discard a dead delivery.

Every alert links to the backlog item it filed. Actions call the same functions as the CLI
and re-render the page from the store, so what the page shows is what was stored. A
tracker's answer is shown as text, never as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, ctx, dcc, html

from dashboard.auth.access import callback
from dashboard.auth.principal import current
from dashboard.components import format as fmt
from dashboard.components.panels import card, empty_state, page_header
from dashboard.components.stats import stat_tile, tile_row
from dashboard.components.tables import Cell, Column, Row, data_table
from dashboard.context import PageView, page_view
from dashboard.services.alerts import (
    DEFAULT_SILENCE,
    AlertsView,
    acknowledge,
    build_alerts,
    discard_delivery,
    retry_delivery,
    silence_rule,
)

STATE_COLOURS = {"firing": "danger", "pending": "warning", "recovering": "info",
                 "normal": "success"}
TILES = ("firing", "pending", "recovering", "silenced")


def layout(product: str | None = None, **_query: str) -> html.Div:
    page = page_view(product)
    return html.Div([
        page_header(f"{page.product.name}: alerts"),
        dcc.Store(id="alerts-product", data=page.product.key),
        html.Div(_body(page), id="alerts-body"),
    ])


def _body(page: PageView, feedback: str | None = None,
          refused: SilenceForm | None = None) -> list[Any]:
    """The page's body; `refused` refills the silence form a PO has to correct."""
    view = build_alerts(page.context.store, page.context.config, page.product,
                        as_of=page.now)
    tz = page.context.config.dashboard.timezone
    counts = view.counts
    return [
        dbc.Alert(feedback, color="info", id="alerts-feedback", className="py-2")
        if feedback else html.Div(id="alerts-feedback"),
        tile_row([stat_tile(state, str(counts[state]), f"alerts-count-{state}")
                  for state in TILES], md=3),
        _delivery(view, tz),
        card("Active alerts", [_you(), _active_table(view, tz)], "alerts-active"),
        html.Div(className="mb-3"),
        dbc.Row([
            dbc.Col(card("Silence a rule", [_silence_form(view, refused or SilenceForm())],
                         "alerts-silence"), xl=5,
                    className="mb-3"),
            dbc.Col(card("Active silences", [_silences_table(view, tz)], "alerts-silences"),
                    xl=7, className="mb-3"),
        ]),
        card("History (newest first)", [_history_table(view, tz)], "alerts-history"),
    ]


def _delivery(view: AlertsView, tz: str) -> html.Div:
    """Dead letters first (they need a PO), then what waits for its next attempt."""
    parts: list[Any] = []
    if not view.dead.empty:
        parts.append(card("Deliveries that gave up", [
            html.P("The tracker refused these updates, or did not answer after every "
                   "attempt; the updates behind each wait for it. Retry once the cause is "
                   "fixed, or discard to let the others go.", className="small text-muted"),
            _dead_table(view, tz)], "alerts-dead"))
    if not view.waiting.empty:
        parts.append(dbc.Alert([
            html.Div(f"{len(view.waiting)} tracker update(s) waiting to be delivered; each "
                     "is retried after a growing wait."),
            html.Ul([html.Li(_waiting_line(w, tz)) for _, w in view.waiting.iterrows()],
                    className="mb-0 small"),
        ], color="warning", className="py-2", id="alerts-waiting"))
    return html.Div(parts, className="mb-3" if parts else "")


def _what(row: pd.Series) -> str:
    return f"{row['action']} in {row['sink']}"


def _rule(row: pd.Series) -> str:
    """The rule of the row's alert (the fingerprint if the alert row is gone)."""
    return row["rule"] if isinstance(row["rule"], str) else str(row["fingerprint"])


def _value(value: float | None) -> str:
    """An alert's value as the rule saw it: four significant digits."""
    return "–" if value is None or pd.isna(value) else f"{value:.4g}"


def _waiting_line(row: pd.Series, tz: str) -> str:
    due = ("at the next delivery run" if pd.isna(row["next_attempt_at"])
           else f"not before {fmt.local_time(row['next_attempt_at'], tz)}")
    error = f"; last answer: {row['last_error']}" if isinstance(row["last_error"], str) else ""
    return f"#{row['id']} {_rule(row)}: {_what(row)}, {due}{error}"


DEAD_COLUMNS = [
    Column("#"), Column("Rule"), Column("Update"), Column("Attempts", "end"),
    Column("Last attempt"), Column("Tracker's answer", className="small"),
    Column("Waiting behind", "end"), Column(""),
]


def _dead_table(view: AlertsView, tz: str) -> dbc.Table | html.Div:
    rows = []
    for _, d in view.dead.iterrows():
        row_id = int(d["id"])
        buttons = html.Div([
            dbc.Button("Retry", size="sm", color="outline-primary", className="me-1",
                       id={"type": "alerts-retry", "row": row_id}),
            dbc.Button("Discard", size="sm", color="outline-danger",
                       id={"type": "alerts-discard", "row": row_id}),
        ], className="nowrap")
        rows.append(Row([
            f"#{row_id}", _rule(d), _what(d), str(int(d["attempts"])),
            fmt.local_time(d["last_attempt_at"], tz),
            Cell(str(d["last_error"] or ""), testid=f"alerts-dead-answer-{row_id}"),
            str(d["behind"]), buttons,
        ], testid=f"alerts-dead-{row_id}"))
    return data_table(DEAD_COLUMNS, rows, testid="alerts-dead-table", className="")


def _you() -> html.Div:
    who = current().username or "?"
    return html.Div(f"Acknowledgements and silences are recorded as {who} (signed in).",
                    className="kpi-caption mb-2", id="alerts-you")


def _labels(labels: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


ACTIVE_COLUMNS = [
    Column("Rule"), Column("Labels", className="small"), Column("State"), Column("Since"),
    Column("Value", "end"), Column("Severity"), Column("Backlog item"), Column("Taken by"),
]


def _active_table(view: AlertsView, tz: str) -> Any:
    if view.active.empty:
        if not view.rules:
            return empty_state("No alert rules for this product.", "alerts")
        return html.P("Nothing firing or pending.", className="text-muted mb-0")
    rows = []
    for _, a in view.active.iterrows():
        state = html.Span([dbc.Badge(a["state"], color=STATE_COLOURS.get(a["state"], "secondary")),
                           " silenced" if a["silenced"] else ""])
        item = a["backlog_key"] or "–"
        acked = (f"{a['acknowledged_by']}, {fmt.ago(a['acknowledged_at'], view.as_of)}"
                 if a["acknowledged_by"] else
                 dbc.Button("Acknowledge", size="sm", color="outline-primary",
                            id={"type": "alerts-ack", "fp": a["fingerprint"]}))
        rows.append([
            [html.Div(a["rule"], className="fw-semibold"),
             html.Div(a["summary"] or "", className="small text-muted")],
            _labels(a["labels"]),
            html.Span(state, **{"data-testid": f"alert-state-{a['rule']}"}),
            Cell(fmt.ago(a["state_since"], view.as_of),
                 title=fmt.local_time(a["state_since"], tz)),
            _value(a["last_value"]),
            a["severity"],
            Cell(dcc.Link(item, href=f"/flow?product={view.product.key}")
                 if a["backlog_key"] else item, testid=f"alert-item-{a['rule']}"),
            acked,
        ])
    return data_table(ACTIVE_COLUMNS, rows, className="")


@dataclass(frozen=True)
class SilenceForm:
    rule: str | None = None
    duration: str = DEFAULT_SILENCE
    reason: str = ""


def _silence_form(view: AlertsView, form: SilenceForm) -> Any:
    if not view.rules:
        return empty_state("No alert rules for this product.", "alerts")
    return html.Div([
        dcc.Dropdown(id="alerts-silence-rule", options=view.rules, placeholder="Rule",
                     value=form.rule if form.rule in view.rules else None, className="mb-2"),
        html.Div([
            dcc.Input(id="alerts-silence-for", type="text", value=form.duration,
                      placeholder="How long, e.g. 2h, 90m, 1d",
                      className="form-control form-control-sm"),
            html.Small("How long: a number and s, m, h, d or w (e.g. 2h); at most 90 days",
                       className="text-muted"),
        ], className="mb-2"),
        dcc.Input(id="alerts-silence-reason", type="text", placeholder="Reason (required)",
                  value=form.reason, className="form-control form-control-sm mb-2"),
        dbc.Button("Silence", id="alerts-silence-submit", size="sm", color="secondary"),
    ])


SILENCE_COLUMNS = [Column("Rule"), Column("Labels"), Column("Until"), Column("Reason"),
                   Column("By")]


def _silences_table(view: AlertsView, tz: str) -> Any:
    if view.silences.empty:
        return html.P("No active silence.", className="text-muted mb-0")
    return data_table(SILENCE_COLUMNS, [[
        s["rule"] or "any rule", _labels(s["matchers"] or {}) or "all labels",
        fmt.local_time(s["ends_at"], tz), s["reason"], s["created_by"],
    ] for _, s in view.silences.iterrows()], testid="alerts-silences-table", className="")


HISTORY_COLUMNS = [Column("When"), Column("Rule"), Column("Change"), Column("Value", "end"),
                   Column("Note", className="small text-muted")]


def _history_table(view: AlertsView, tz: str) -> Any:
    if view.history.empty:
        return html.P("No alert has changed state yet.", className="text-muted mb-0")
    return data_table(HISTORY_COLUMNS, [[
        fmt.local_time(e["ts"], tz), e["rule"], f"{e['from_state']} → {e['to_state']}",
        _value(e["value"]), e["note"] or "",
    ] for _, e in view.history.iterrows()], className="")


@callback(
    Output("alerts-body", "children"),
    Input({"type": "alerts-ack", "fp": ALL}, "n_clicks"),
    Input("alerts-silence-submit", "n_clicks"),
    Input({"type": "alerts-retry", "row": ALL}, "n_clicks"),
    Input({"type": "alerts-discard", "row": ALL}, "n_clicks"),
    State("alerts-silence-rule", "value"),
    State("alerts-silence-for", "value"),
    State("alerts-silence-reason", "value"),
    State("alerts-product", "data"),
    prevent_initial_call=True,
    page="/alerts",
    action=True,
)
def act(ack_clicks: list[int | None], silence_clicks: int | None,
        retry_clicks: list[int | None], discard_clicks: list[int | None],
        rule: str | None, duration: object, reason: str | None, product: str) -> list[Any]:
    """Run the clicked action as the signed-in user (the guard has checked the role and
    the product), then re-render from the store (a new page shows it too)."""
    trigger = ctx.triggered_id
    if trigger is None or not any(t["value"] for t in ctx.triggered):
        return dash.no_update  # type: ignore[no-any-return]
    page = page_view(product)
    store, now = page.context.store, page.now
    who = current().actor
    if trigger == "alerts-silence-submit":
        message, done = silence_rule(store, product, rule, duration, str(reason or ""), who,
                                     now)
        form = None if done else SilenceForm(rule, str(duration or ""), str(reason or ""))
        return _body(page, message, form)
    if trigger["type"] == "alerts-retry":
        message = retry_delivery(store, int(trigger["row"]), who, now, product=product)
    elif trigger["type"] == "alerts-discard":
        message = discard_delivery(store, int(trigger["row"]), who, now, product=product)
    else:
        message = acknowledge(store, str(trigger["fp"]), who, now, product=product)
    return _body(page, message)


dash.register_page(__name__, path="/alerts", name="Alerts", title="dspo · Alerts", order=5,
                   layout=layout)
