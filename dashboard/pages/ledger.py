"""Ledger: the product's experiments by sprint, each with its hypothesis, success criterion,
best run, the champion it was measured against and the outcome computed from the runs.

The scientific side of the sprint: what the team set out to learn and what the data said.
Hypotheses, criteria, titles and reasons come from the tracker and MLflow and are shown as
text; run links only when they are http(s).
"""

from __future__ import annotations

import math
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard.components.links import external_link
from dashboard.components.panels import card, empty_state, page_header
from dashboard.components.tables import Cell, Column, Row, data_table
from dashboard.context import page_view
from dashboard.services.ledger import OUTCOMES, LedgerView, SprintGroup, build_ledger

PATH = "/ledger"
OUTCOME_COLOURS = {"supported": "success", "refuted": "danger", "inconclusive": "secondary",
                   "open": "info"}
CAPTION = ("Experiment items (types experiment and spike unless the config names others) and "
           "their outcome, computed from the MLflow runs linked to them: supported when a run "
           "meets every condition of the success criterion, refuted when the runs that can be "
           "judged all fail it, inconclusive when none can be judged. Runs started after the "
           "item closed are not counted. Champion: the version holding the champion alias "
           "when the item closed. Numbers as of the end of the date range.")


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           **_query: str) -> html.Div:
    page = page_view(product, start, end)
    view = build_ledger(page.context.store, page.product, as_of=page.as_of)
    header = page_header(f"{page.product.name}: experiment ledger", CAPTION)
    if view.ledger.empty:
        return html.Div([header, empty_state(
            "No experiment item in this product's backlog.",
            f"products[{page.product.key}].backlog.item_kinds or .experiments")])
    return html.Div([
        header,
        _counts(view),
        *[_group(group, view.run_names) for group in view.groups],
    ])


def _testid(testid: str | None) -> dict[str, Any]:
    return {"data-testid": testid} if testid else {}


def outcome_badge(outcome: str, testid: str | None = None) -> html.Span:
    badge = dbc.Badge(outcome, color=OUTCOME_COLOURS.get(outcome, "secondary"), pill=True)
    return html.Span(badge, **_testid(testid))


def _counts(view: LedgerView) -> html.Div:
    return html.Div([
        html.Span([outcome_badge(o), html.Span(f" {view.counts[o]}",
                                                **_testid(f"ledger-count-{o}"))],
                  className="me-3")
        for o in OUTCOMES
    ], className="mb-3")


COLUMNS = [
    Column("Item", className="fw-semibold"), Column("Outcome"), Column("Hypothesis"),
    Column("Success criterion", className="small"), Column("Best run"),
    Column("Value", "end"), Column("Champion then", "end", "nowrap"), Column("Runs", "end"),
    Column("Cycle time", "end", "nowrap"), Column("Why", className="small text-muted"),
]


def _group(group: SprintGroup, names: dict[str, str]) -> html.Div:
    title = group.name
    if group.start is not None and group.end is not None:
        title += f" ({group.start:%d %b} – {group.end:%d %b %Y})"
    rows = [_row(item, names) for item in group.rows.to_dict("records")]
    testid = f"ledger-sprint-{group.sprint or 'none'}"
    return html.Div(card(title, [data_table(COLUMNS, rows, testid=testid)],
                         f"ledger-group-{group.sprint or 'none'}"), className="mb-3")


def value(number: float) -> str:
    """A metric value as the ledger shows it: up to four significant digits."""
    return "–" if number is None or math.isnan(number) else f"{number:.4g}"


def cycle(days: float) -> str:
    return "–" if days is None or math.isnan(days) else f"{days:.1f} d"


def _row(item: dict[str, Any], names: dict[str, str]) -> Row:
    key = str(item["key"])
    run = item["best_run"]
    best: Any = "–"
    if run:
        best = external_link(names.get(str(run)) or str(run)[:8], item["best_run_url"],
                             f"ledger-run-{key}")
    champion = "–"
    if item["champion_version"]:
        champion = f"v{item['champion_version']}"
        if not math.isnan(item["champion_value"]):
            champion += f" {value(item['champion_value'])}"
    runs = f"{item['runs']}" + (f" (+{item['late_runs']} late)" if item["late_runs"] else "")
    metric = item["metric"] or ""
    return Row([
        Cell([html.Div(key), html.Div(str(item["title"]), className="small text-muted")]),
        Cell(outcome_badge(str(item["outcome"])), testid=f"ledger-outcome-{key}"),
        str(item["hypothesis"] or "–"),
        Cell(str(item["criterion"] or "–"), testid=f"ledger-criterion-{key}"),
        best,
        Cell(value(item["best_value"]), testid=f"ledger-value-{key}",
             title=metric or None),
        Cell(champion, testid=f"ledger-champion-{key}"),
        Cell(runs, testid=f"ledger-runs-{key}"),
        Cell(cycle(item["cycle_days"]), testid=f"ledger-cycle-{key}"),
        Cell(str(item["reason"]), testid=f"ledger-reason-{key}"),
    ], testid=f"ledger-row-{key}")


dash.register_page(__name__, path=PATH, name="Ledger", title="dspo · Ledger", order=15,
                   layout=layout)
