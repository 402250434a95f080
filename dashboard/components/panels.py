"""Building blocks of every page: a card, a page header, a status badge, the empty state.

Text from sources (run names, errors, titles) is passed as Dash children, which React
renders as text, never as HTML.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from kpis.health import Status

STATUS_LABEL = {Status.GREEN: "healthy", Status.AMBER: "at risk", Status.RED: "failing",
                Status.UNKNOWN: "no data"}
GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}


INSUFFICIENT = "insufficient data"


def status_badge(status: Status, testid: str | None = None, *,
                 insufficient: bool = False) -> html.Span:
    """The status as a coloured pill; `insufficient` says why an unknown is unknown."""
    label = INSUFFICIENT if insufficient and status is Status.UNKNOWN else STATUS_LABEL[status]
    badge = dbc.Badge(label, className=f"status-{status.value}", pill=True)
    return html.Span(badge, **({"data-testid": testid} if testid else {}))


def card(title: str, body: list, card_id: str) -> dbc.Card:  # type: ignore[type-arg]
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(body)], id=card_id,
                    className="h-100")


def page_header(title: str, caption: str | None = None) -> html.Div:
    """The page's title ("Churn classifier: models") and what its range covers."""
    below = [html.Div(caption, className="kpi-caption")] if caption else []
    return html.Div([html.H4(title, className="mb-0" if caption else "mb-3"), *below],
                    className="mb-3" if caption else None)


def empty_state(missing: str, config_key: str) -> html.Div:
    """What a page shows without data: what is missing and which config key brings it."""
    return html.Div([
        html.Div(missing, className="fw-semibold"),
        html.Div(["Add it with ", html.Code(config_key), " in the config "
                  "(see docs/configuration.md), then run dspo collect."],
                 className="text-muted small"),
    ], className="empty-state p-3", **{"data-testid": "empty-state"})
