"""Charts on a page: one way to put a Plotly figure in a card.

With `responsive`, Plotly sizes a chart to its container, and a container without a height
collapses inside a card: every chart therefore gets the height its figure declares (the
figure builders in `dashboard/figures/` set one).
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.components.panels import GRAPH_CONFIG, card

FALLBACK_HEIGHT = 260  # for a figure that declares no height


def graph(figure: go.Figure, graph_id: str | None = None) -> dcc.Graph:
    """A chart as tall as its figure says; `graph_id` for tests and callbacks."""
    height = figure.layout.height or FALLBACK_HEIGHT
    named = {"id": graph_id} if graph_id else {}
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG, style={"height": f"{height}px"},
                     **named)


def graph_card(title: str, figure: go.Figure, card_id: str, *,
               caption: str | None = None, graph_id: str | None = None) -> dbc.Card:
    """A titled card holding one chart, with a caption above it saying how to read it."""
    body: list[Any] = [html.Div(caption, className="kpi-caption")] if caption else []
    return card(title, [*body, graph(figure, graph_id)], card_id)


def sparkline(figure: go.Figure) -> dcc.Graph:
    """A small inline trend (`dashboard.figures.overview.sparkline`) beside a figure."""
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG,
                     className="spark d-inline-block align-middle",
                     style={"height": "34px", "width": "120px"})
