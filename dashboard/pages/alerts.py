"""Alerts: what is firing or pending, what is silenced, what happened, what could not be
delivered; acknowledge, silence, and retry or discard a dead delivery.

Every alert links to the backlog item it filed. Actions call the same functions as the CLI
and re-render the page from the store, so what the page shows is what was stored. A
tracker's answer is shown as text, never as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from dashboard.components import format as fmt
from dashboard.components.panels import card, empty_state
from dashboard.context import current
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


def layout(product: str | None = None, **_query: str) -> html.Div:
    ctx_ = current()
    selected = ctx_.product(product)
    return html.Div([
        html.H4(f"{selected.name}: alerts", className="mb-3"),
        dcc.Store(id="alerts-product", data=selected.key),
        html.Div(_body(selected.key), id="alerts-body"),
    ])


def _body(product_key: str, feedback: str | None = None,
          refused: SilenceForm | None = None) -> list[Any]:
    """The page's body; `refused` refills the silence form a PO has to correct."""
    ctx_ = current()
    product = ctx_.product(product_key)
    view = build_alerts(ctx_.store, ctx_.config, product, as_of=datetime.now(UTC))
    tz = ctx_.config.dashboard.timezone
    counts = view.active["state"].value_counts()
    tiles = dbc.Row([
        dbc.Col(_tile(state, int(counts.get(state, 0))), md=3)
        for state in ("firing", "pending", "recovering")
    ] + [dbc.Col(_tile("silenced", int(view.active["silenced"].sum())), md=3)],
        className="mb-3")
    return [
        dbc.Alert(feedback, color="info", id="alerts-feedback", className="py-2")
        if feedback else html.Div(id="alerts-feedback"),
        tiles,
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


def _tile(state: str, count: int) -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.Div(state, className="kpi-caption text-uppercase"),
        html.Div(str(count), className="kpi-figure", **{"data-testid": f"alerts-count-{state}"}),
    ]))


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


def _waiting_line(row: pd.Series, tz: str) -> str:
    due = ("at the next delivery run" if pd.isna(row["next_attempt_at"])
           else f"not before {fmt.local_time(row['next_attempt_at'], tz)}")
    error = f"; last answer: {row['last_error']}" if isinstance(row["last_error"], str) else ""
    return f"#{row['id']} {_rule(row)}: {_what(row)}, {due}{error}"


def _dead_table(view: AlertsView, tz: str) -> html.Table:
    rows = []
    for _, d in view.dead.iterrows():
        row_id = int(d["id"])
        buttons = html.Div([
            dbc.Button("Retry", size="sm", color="outline-primary", className="me-1",
                       id={"type": "alerts-retry", "row": row_id}),
            dbc.Button("Discard", size="sm", color="outline-danger",
                       id={"type": "alerts-discard", "row": row_id}),
        ], className="nowrap")
        rows.append(html.Tr([
            html.Td(f"#{row_id}"),
            html.Td(_rule(d)),
            html.Td(_what(d)),
            html.Td(str(int(d["attempts"])), className="text-end"),
            html.Td(fmt.local_time(d["last_attempt_at"], tz)),
            html.Td(str(d["last_error"] or ""), className="small",
                    **{"data-testid": f"alerts-dead-answer-{row_id}"}),
            html.Td(str(d["behind"]), className="text-end"),
            html.Td(buttons),
        ], **{"data-testid": f"alerts-dead-{row_id}"}))
    head = html.Thead(html.Tr([html.Th(h) for h in (
        "#", "Rule", "Update", "Attempts", "Last attempt", "Tracker's answer", "Waiting behind",
        "")]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm mb-0",
                      **{"data-testid": "alerts-dead-table"})


def _you() -> html.Div:
    return html.Div([
        html.Label("Your name (recorded with acknowledgements and silences)",
                   className="kpi-caption me-2"),
        dcc.Input(id="alerts-user", type="text", placeholder="e.g. Ana", debounce=False,
                  persistence=True, className="form-control form-control-sm",
                  style={"maxWidth": "220px", "display": "inline-block"}),
    ], className="mb-2")


def _labels(labels: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


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
        rows.append(html.Tr([
            html.Td([html.Div(a["rule"], className="fw-semibold"),
                     html.Div(a["summary"] or "", className="small text-muted")]),
            html.Td(_labels(a["labels"]), className="small"),
            html.Td(html.Span(state, **{"data-testid": f"alert-state-{a['rule']}"})),
            html.Td(fmt.ago(a["state_since"], view.as_of),
                    title=fmt.local_time(a["state_since"], tz)),
            html.Td("–" if pd.isna(a["last_value"]) else f"{a['last_value']:.4g}",
                    className="text-end"),
            html.Td(a["severity"]),
            html.Td(dcc.Link(item, href=f"/flow?product={view.product.key}")
                    if a["backlog_key"] else item,
                    **{"data-testid": f"alert-item-{a['rule']}"}),
            html.Td(acked),
        ]))
    head = html.Thead(html.Tr([html.Th(h) for h in (
        "Rule", "Labels", "State", "Since", "Value", "Severity", "Backlog item", "Taken by")]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm mb-0")


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


def _silences_table(view: AlertsView, tz: str) -> Any:
    if view.silences.empty:
        return html.P("No active silence.", className="text-muted mb-0")
    rows = [html.Tr([
        html.Td(s["rule"] or "any rule"), html.Td(_labels(s["matchers"] or {}) or "all labels"),
        html.Td(fmt.local_time(s["ends_at"], tz)), html.Td(s["reason"]),
        html.Td(s["created_by"]),
    ]) for _, s in view.silences.iterrows()]
    head = html.Thead(html.Tr([html.Th(h) for h in ("Rule", "Labels", "Until", "Reason", "By")]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm mb-0",
                      **{"data-testid": "alerts-silences-table"})


def _history_table(view: AlertsView, tz: str) -> Any:
    if view.history.empty:
        return html.P("No alert has changed state yet.", className="text-muted mb-0")
    rows = [html.Tr([
        html.Td(fmt.local_time(e["ts"], tz)), html.Td(e["rule"]),
        html.Td(f"{e['from_state']} → {e['to_state']}"),
        html.Td("–" if pd.isna(e["value"]) else f"{e['value']:.4g}", className="text-end"),
        html.Td(e["note"] or "", className="small text-muted"),
    ]) for _, e in view.history.iterrows()]
    head = html.Thead(html.Tr([html.Th(h) for h in ("When", "Rule", "Change", "Value", "Note")]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm mb-0")


@callback(
    Output("alerts-body", "children"),
    Input({"type": "alerts-ack", "fp": ALL}, "n_clicks"),
    Input("alerts-silence-submit", "n_clicks"),
    Input({"type": "alerts-retry", "row": ALL}, "n_clicks"),
    Input({"type": "alerts-discard", "row": ALL}, "n_clicks"),
    State("alerts-user", "value"),
    State("alerts-silence-rule", "value"),
    State("alerts-silence-for", "value"),
    State("alerts-silence-reason", "value"),
    State("alerts-product", "data"),
    prevent_initial_call=True,
)
def act(ack_clicks: list[int | None], silence_clicks: int | None,
        retry_clicks: list[int | None], discard_clicks: list[int | None], user: str | None,
        rule: str | None, duration: object, reason: str | None, product: str) -> list[Any]:
    """Run the clicked action, then re-render from the store (a new page shows it too)."""
    trigger = ctx.triggered_id
    if trigger is None or not any(t["value"] for t in ctx.triggered):
        return dash.no_update  # type: ignore[no-any-return]
    store = current().store
    now = datetime.now(UTC)
    who = str(user or "")
    if trigger == "alerts-silence-submit":
        message, done = silence_rule(store, product, rule, duration, str(reason or ""), who,
                                     now)
        form = None if done else SilenceForm(rule, str(duration or ""), str(reason or ""))
        return _body(product, message, form)
    if trigger["type"] == "alerts-retry":
        message = retry_delivery(store, int(trigger["row"]), who, now)
    elif trigger["type"] == "alerts-discard":
        message = discard_delivery(store, int(trigger["row"]), who, now)
    else:
        message = acknowledge(store, str(trigger["fp"]), who, now)
    return _body(product, message)


dash.register_page(__name__, path="/alerts", name="Alerts", title="dspo · Alerts", order=5,
                   layout=layout)
