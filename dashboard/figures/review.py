"""The sprint review's one chart: committed beside delivered points, the delivered ones
split by kind (increments, intermediate deliveries, experiments), so a PO sees at a glance
how much of the sprint went to knowledge rather than features. Pure: numbers in, figure out.
"""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.figures.overview import MARGINS
from kpis.review import KIND_LABELS, KIND_ORDER

KIND_COLOURS = {"increment": "#4f8fd6", "delivery": "#e0a100", "experiment": "#8e5bd6"}
COMMITTED = "#c5cad3"
HEIGHT = 220


def delivered_chart(committed: float, by_kind: dict[str, float]) -> go.Figure:
    """Two horizontal bars: the commitment, and the delivered points stacked by kind (each
    segment labelled with its points)."""
    fig = go.Figure()
    fig.add_bar(y=["committed"], x=[committed], orientation="h", name="committed",
                marker_color=COMMITTED, text=[f"{committed:g}"], textposition="inside",
                hovertemplate="committed %{x:g} pts<extra></extra>")
    for kind in KIND_ORDER:
        points = by_kind.get(kind, 0.0)
        fig.add_bar(y=["delivered"], x=[points], orientation="h", name=KIND_LABELS[kind],
                    marker_color=KIND_COLOURS[kind],
                    text=[f"{points:g}" if points else ""], textposition="inside",
                    hovertemplate=f"{KIND_LABELS[kind]} %{{x:g}} pts<extra></extra>")
    fig.update_layout(
        barmode="stack", height=HEIGHT, margin={**MARGINS, "t": 60, "b": 40, "l": 80},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0,
                "font": {"size": 11}, "traceorder": "normal"},
        xaxis={"title": "story points", "rangemode": "tozero", "showgrid": True,
               "gridcolor": "#eceef1"},
        yaxis={"categoryorder": "array", "categoryarray": ["delivered", "committed"]},
        plot_bgcolor="#fff", paper_bgcolor="#fff", uniformtext={"minsize": 9, "mode": "hide"},
    )
    return fig
