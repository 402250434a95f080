"""Pure figure builders of the Usage page: a KPI's daily values, its 7-day mean and target.

Times reach Plotly as naive UTC (`naive_utc`). A series the store downsampled says so on
the chart, because min/max buckets change what a line means.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.overview import MARGINS, STATUS_COLOURS, naive_utc
from kpis.health import Status

DOWNSAMPLED_NOTE = "downsampled to ≤2,000 points per trace"


def add_downsampled_note(fig: go.Figure) -> go.Figure:
    """The small note every chart of a downsampled series carries."""
    fig.add_annotation(text=DOWNSAMPLED_NOTE, xref="paper", yref="paper", x=1, y=1.0,
                       xanchor="right", yanchor="bottom", showarrow=False,
                       font={"size": 10, "color": "#6c757d"})
    return fig


def usage_chart(points: pd.DataFrame, *, unit: str, target: float | None,
                warning: float | None, downsampled: bool) -> go.Figure:
    """Values as a thin line, the 7-day rolling mean as a thick one, the target dashed."""
    x = naive_utc(points["ts"]) if len(points) else []
    suffix = f" {unit}" if unit else ""
    fig = go.Figure([
        go.Scatter(name="value", x=x, y=points["value"], mode="lines",
                   line={"color": "#9db8d9", "width": 1},
                   hovertemplate="%{x|%a %d %b}: %{y:,.0f}" + suffix + "<extra></extra>"),
        go.Scatter(name="7-day mean", x=x, y=points["rolling_mean"], mode="lines",
                   line={"color": "#2b5d9c", "width": 2.5},
                   hovertemplate="7-day mean %{y:,.0f}" + suffix + "<extra></extra>"),
    ])
    if target is not None:
        fig.add_hline(y=target, line_dash="dash", line_color=STATUS_COLOURS[Status.RED],
                      annotation_text=f"target {target:,.0f}", annotation_position="bottom left")
    if warning is not None:
        fig.add_hline(y=warning, line_dash="dot", line_color=STATUS_COLOURS[Status.AMBER])
    if downsampled:
        add_downsampled_note(fig)
    fig.update_layout(
        height=220, margin={**MARGINS, "t": 24}, plot_bgcolor="#fff", paper_bgcolor="#fff",
        showlegend=False, yaxis={"title": unit or None, "rangemode": "tozero"},
    )
    return fig
