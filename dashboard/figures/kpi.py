"""Pure figure builders of the stakeholder KPI page: an objective's trend against its bands.

A stakeholder reads a trend without the PO beside them, so the chart carries its own
target line and a static look (no mode bar, no hover needed) that prints as it shows.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.overview import MARGINS, STATUS_COLOURS, naive_utc
from kpis.health import Status

PERCENT_KINDS = {"drift", "pipeline_success_rate"}
HEIGHT = 170


def objective_trend(trend: pd.DataFrame, *, kind: str, status: Status, threshold: float,
                    warning: float | None) -> go.Figure:
    """The objective's daily readings (as `readings_over_days` gives them), its threshold
    dashed red and its warning dotted amber."""
    x = naive_utc(trend["ts"]) if len(trend) else []
    percent = kind in PERCENT_KINDS or kind == "usage_change"
    fig = go.Figure(go.Scatter(
        x=x, y=trend["value"], mode="lines+markers" if len(trend) < 15 else "lines",
        line={"color": STATUS_COLOURS[status], "width": 2}, marker={"size": 4},
        hovertemplate="%{x|%a %d %b}: %{y:" + (".1%" if percent else ".4g") + "}<extra></extra>",
    ))
    fig.add_hline(y=threshold, line_dash="dash", line_color=STATUS_COLOURS[Status.RED])
    if warning is not None:
        fig.add_hline(y=warning, line_dash="dot", line_color=STATUS_COLOURS[Status.AMBER])
    fig.update_layout(
        height=HEIGHT, margin={**MARGINS, "t": 8, "l": 48}, showlegend=False,
        plot_bgcolor="#fff", paper_bgcolor="#fff",
        yaxis={"tickformat": ".0%" if percent else None, "gridcolor": "#eceef1"},
        xaxis={"gridcolor": "#eceef1"},
    )
    return fig
