"""Pure figure builders of the overview: DataFrame in, `go.Figure` out.

Times reach Plotly as naive UTC: a timezone-aware index serialises about 100x slower.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from kpis.health import Status

STATUS_COLOURS = {
    Status.GREEN: "#2e9e5b",
    Status.AMBER: "#e0a100",
    Status.RED: "#d64545",
    Status.UNKNOWN: "#8a9099",
}
CATEGORY_COLOURS = {"todo": "#c5cad3", "in_progress": "#4f8fd6", "done": "#2e9e5b"}
CATEGORY_NAMES = {"todo": "To do", "in_progress": "In progress", "done": "Done"}
MARGINS = {"l": 40, "r": 10, "t": 10, "b": 30}


def naive_utc(ts: pd.Series) -> pd.Series:
    return pd.to_datetime(ts, utc=True).dt.tz_convert("UTC").dt.tz_localize(None)


def sparkline(points: pd.DataFrame, status: Status) -> go.Figure:
    fig = go.Figure(go.Scatter(
        x=naive_utc(points["ts"]) if len(points) else [], y=points["value"],
        mode="lines+markers" if len(points) < 12 else "lines",
        line={"color": STATUS_COLOURS[status], "width": 2}, marker={"size": 3},
        hovertemplate="%{x|%d %b}: %{y:.3g}<extra></extra>",
    ))
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 2, "b": 2}, height=34, width=120, showlegend=False,
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        xaxis={"visible": False}, yaxis={"visible": False},
    )
    return fig


def velocity_chart(velocity: pd.DataFrame, average: float | None) -> go.Figure:
    """Commitment vs completed per sprint, Jira style, with the rolling average as a line."""
    names = velocity["name"].tolist()
    fig = go.Figure([
        go.Bar(name="Commitment", x=names, y=velocity["commitment"], marker_color="#c5cad3",
               hovertemplate="%{x}<br>committed %{y:g} pts<extra></extra>"),
        go.Bar(name="Completed", x=names, y=velocity["completed"], marker_color="#2e9e5b",
               text=velocity["completed"].map(lambda v: f"{v:g}"), textposition="outside",
               cliponaxis=False,
               hovertemplate="%{x}<br>completed %{y:g} pts<extra></extra>"),
    ])
    if average is not None:
        fig.add_hline(y=average, line_dash="dot", line_color="#444",
                      annotation_text=f"avg {average:.1f}", annotation_position="top left")
    fig.update_layout(
        barmode="group", height=290, margin={**MARGINS, "t": 30, "b": 70},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        xaxis={"tickangle": -30},
        yaxis_title="story points", plot_bgcolor="#fff", paper_bgcolor="#fff",
    )
    return fig


def backlog_chart(progress: pd.DataFrame) -> go.Figure:
    """Points per item type, stacked by status category (items where nothing is estimated)."""
    fig = go.Figure()
    types = sorted(progress["type"].unique()) if len(progress) else []
    for category, colour in CATEGORY_COLOURS.items():
        rows = progress[progress["status_category"] == category].set_index("type")
        fig.add_bar(
            name=CATEGORY_NAMES[category], orientation="h", y=types,
            x=[float(rows["points"].get(t, 0.0)) for t in types], marker_color=colour,
            customdata=[int(rows["items"].get(t, 0)) for t in types],
            hovertemplate="%{y}: %{x:g} pts in %{customdata} items<extra>"
            + CATEGORY_NAMES[category] + "</extra>",
        )
    fig.update_layout(
        barmode="stack", height=290, margin={**MARGINS, "l": 80, "t": 30, "b": 30},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0,
                "entrywidth": 78, "font": {"size": 10}},
        plot_bgcolor="#fff", paper_bgcolor="#fff",
    )
    return fig
