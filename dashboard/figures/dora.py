"""Pure figure builders of the DORA page: DataFrame in, `go.Figure` out (naive UTC x)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.overview import MARGINS, STATUS_COLOURS, naive_utc
from kpis.health import Status

PROMOTION_COLOUR = "#2b5d9c"
ROLLBACK_COLOUR = STATUS_COLOURS[Status.RED]


def weekly_chart(weekly: pd.DataFrame) -> go.Figure:
    """Promotions and rollbacks per 7-day bucket: the deployment frequency's trend."""
    x = naive_utc(weekly["week"]) if len(weekly) else []
    fig = go.Figure([
        go.Bar(name="promotions", x=x, y=weekly["promotions"], marker_color=PROMOTION_COLOUR,
               hovertemplate="week of %{x|%d %b}: %{y} promotions<extra></extra>"),
        go.Bar(name="rollbacks", x=x, y=weekly["rollbacks"], marker_color=ROLLBACK_COLOUR,
               hovertemplate="week of %{x|%d %b}: %{y} rollbacks<extra></extra>"),
    ])
    fig.update_layout(
        barmode="group", height=240, margin={**MARGINS, "t": 30}, plot_bgcolor="#fff",
        paper_bgcolor="#fff", legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        yaxis={"title": "per week", "dtick": 1, "rangemode": "tozero"},
    )
    return fig


def _naive(value: datetime) -> pd.Timestamp:
    return pd.Timestamp(value).tz_convert("UTC").tz_localize(None)


def lead_time_chart(lead_times: pd.DataFrame, p50: timedelta | None, *, start: datetime,
                    end: datetime) -> go.Figure:
    """Each promotion's lead time (hours) at its promotion time, with the median."""
    known = lead_times.dropna(subset=["lead_time"])
    hours = known["lead_time"].dt.total_seconds() / 3600 if len(known) else pd.Series([])
    fig = go.Figure(go.Scatter(
        x=naive_utc(known["ts"]) if len(known) else [], y=hours, mode="markers",
        marker={"size": 11, "color": PROMOTION_COLOUR},
        text=[f"{m} v{v}" for m, v in zip(known["model"], known["version"], strict=True)],
        hovertemplate="%{text} promoted %{x|%d %b %H:%M}<br>lead time %{y:.1f} h"
                      "<extra></extra>",
    ))
    if p50 is not None:
        fig.add_hline(y=p50.total_seconds() / 3600, line_dash="dot", line_color="#444",
                      annotation_text=f"p50 {p50.total_seconds() / 3600:.0f} h",
                      annotation_position="top left")
    fig.update_layout(height=240, margin={**MARGINS, "t": 20}, plot_bgcolor="#fff",
                      paper_bgcolor="#fff", showlegend=False,
                      xaxis={"range": [_naive(start), _naive(end)]},
                      yaxis={"title": "hours", "rangemode": "tozero"})
    return fig
