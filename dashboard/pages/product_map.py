"""Product map: every part of the product and how they link; click a node to open its page."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import dash_cytoscape as cyto
from dash import Input, Output, html

from dashboard.auth.access import callback
from dashboard.components.panels import card, empty_state, page_header
from dashboard.context import page_view
from dashboard.figures.product_map import KIND_COLOURS, KIND_LABELS, STYLESHEET
from dashboard.services.product_map import build_map


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           **_query: str) -> html.Div:
    page = page_view(product, start, end)
    drawn = build_map(page.context.store, page.product, as_of=page.as_of)
    if sum(drawn.counts.values()) <= 1:
        body: Any = empty_state("Nothing collected for this product yet.", "sources")
    else:
        body = cyto.Cytoscape(
            id="map-graph", elements=drawn.elements, stylesheet=STYLESHEET,
            layout={"name": "cose", "idealEdgeLength": 90, "nodeRepulsion": 9000,
                    "gravity": 0.6, "randomize": False, "animate": False, "padding": 30},
            style={"width": "100%", "height": "640px"}, minZoom=0.3, maxZoom=2.5,
            userZoomingEnabled=True, autoungrabify=False,
        )
    legend = [
        html.Div([html.Span(className="legend-dot", style={"background": colour}),
                  KIND_LABELS[kind]], className="small mb-1")
        for kind, colour in KIND_COLOURS.items()
    ]
    return html.Div([
        page_header(f"{page.product.name}: product map"),
        dbc.Row([
            dbc.Col(card("Parts and links", [body], "map-card"), lg=10),
            dbc.Col(card("Legend", [
                *legend,
                html.Hr(),
                html.Div("Outline: health of the objective judging the part "
                         "(green, amber, red); of an experiment, its outcome (green "
                         "supported, red refuted, grey inconclusive). Click a node to open "
                         "its page.", className="small text-muted"),
                html.Hr(),
                *[html.Div(f"{n} {KIND_LABELS[k]}{'s' if n != 1 else ''}",
                           className="small", **{"data-testid": f"map-count-{k}"})
                  for k, n in drawn.counts.items()],
            ], "map-legend"), lg=2),
        ]),
    ])


@callback(Output("url", "href", allow_duplicate=True), Input("map-graph", "tapNodeData"),
          prevent_initial_call=True, page="/map")
def open_node(node: dict[str, Any] | None) -> str:
    if not node or not node.get("href"):
        return dash.no_update  # type: ignore[no-any-return]
    return str(node["href"])


dash.register_page(__name__, path="/map", name="Product map", title="dspo · Product map",
                   order=80, layout=layout)
