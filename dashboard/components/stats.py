"""Figures on a page: a number with what it is, alone or as a tile in a row of tiles.

The value arrives formatted (`dashboard.components.format`): a component never computes
or rounds a number, so a test can read it back exactly as the page prints it.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

Caption = str | list[Any]


def stat(value: str, testid: str, caption: Caption = "", *, unit: str = "",
         extra: Any = None) -> html.Div:
    """A big figure with its unit and a caption under it; `extra` sits beside the figure
    (a status badge, a sparkline)."""
    line: list[Any] = [html.Span(value, className="kpi-figure", **{"data-testid": testid})]
    if unit:
        line.append(html.Span(f" {unit}", className="kpi-caption"))
    if extra is not None:
        # a margin, not a space: a space would let the line break before a sparkline
        line.append(html.Span(extra, className="ms-2"))
    below = [html.Div(caption, className="kpi-caption")] if caption else []
    return html.Div([html.Div(line), *below])


def stat_tile(label: str, value: str, testid: str, caption: Caption = "", *,
              unit: str = "", detail: str | None = None) -> dbc.Card:
    """A tile: what it measures, the figure, an optional `detail` line (its testid is
    `<testid>-detail`) and a caption explaining how it is counted."""
    body: list[Any] = [
        html.Div(label, className="kpi-caption text-uppercase"),
        html.Div([html.Span(value, className="kpi-figure", **{"data-testid": testid}),
                  html.Span(f" {unit}", className="kpi-caption") if unit else None]),
    ]
    if detail is not None:
        body.append(html.Div(detail, className="small", **{"data-testid": f"{testid}-detail"}))
    if caption:
        body.append(html.Div(caption, className="kpi-caption mt-1"))
    return dbc.Card(dbc.CardBody(body, className="py-2"), className="h-100")


def tile_row(tiles: list[dbc.Card], **widths: Any) -> dbc.Row:
    """Tiles side by side; `widths` are dbc.Col breakpoints (xs=6, md=4, xl=True ...)."""
    return dbc.Row([dbc.Col(tile, className="mb-3", **widths) for tile in tiles],
                   className="g-3")
