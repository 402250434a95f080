"""Pure figure builders of the sprint page: burndown, burnup and velocity with forecast.

Times reach Plotly as naive UTC (`naive_utc`). Scope changes are drawn where they happened:
a marker on the line at the instant of the change, with the item and the points in the
hover, so a PO sees *why* a line went up instead of down.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.overview import MARGINS, naive_utc

REMAINING, SCOPE, DONE, IDEAL = "#d6731e", "#4f8fd6", "#2e9e5b", "#8a9099"
COMMITMENT = "#c5cad3"
CHANGE_SYMBOLS = {"added": "triangle-up", "removed": "triangle-down",
                  "re-estimated": "diamond"}
CHANGE_COLOURS = {"added": "#d64545", "removed": "#2e9e5b", "re-estimated": "#8e5bd6"}
HEIGHT = 300


def _layout(fig: go.Figure, yaxis_title: str = "story points") -> go.Figure:
    fig.update_layout(
        height=HEIGHT, margin={**MARGINS, "t": 30, "b": 40}, hovermode="closest",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0,
                "font": {"size": 11}},
        yaxis={"title": yaxis_title, "rangemode": "tozero"},
        xaxis={"tickformat": "%a %d %b", "hoverformat": "%a %d %b %H:%M"},
        plot_bgcolor="#fff", paper_bgcolor="#fff",
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eceef1")
    fig.update_yaxes(showgrid=True, gridcolor="#eceef1")
    return fig


def _change_markers(changes: pd.DataFrame, line: pd.DataFrame, column: str) -> list[go.Scatter]:
    """One trace per kind of change, placed on `line[column]` at the change's instant."""
    if changes.empty or line.empty:
        return []
    xs = naive_utc(line["ts"]).astype("int64").to_numpy()
    traces = []
    for kind, group in changes.groupby("change", sort=False):
        at = naive_utc(group["ts"])
        y = np.interp(at.astype("int64").to_numpy(), xs, line[column].to_numpy(dtype=float))
        text = [f"{k}: {kind} {d:+g} pts" for k, d in
                zip(group["item_key"], group["points_delta"], strict=True)]
        traces.append(go.Scatter(
            x=at, y=y, mode="markers", name=str(kind),
            marker={"symbol": CHANGE_SYMBOLS.get(str(kind), "circle"), "size": 10,
                    "color": CHANGE_COLOURS.get(str(kind), "#444"),
                    "line": {"width": 1, "color": "#fff"}},
            text=text, hovertemplate="%{x|%a %d %b %H:%M}<br>%{text}<extra></extra>",
        ))
    return traces


def burndown_chart(burndown: pd.DataFrame, ideal: pd.DataFrame,
                   changes: pd.DataFrame) -> go.Figure:
    """Remaining points per day against the ideal line; scope changes marked on the line."""
    fig = go.Figure()
    if not ideal.empty:
        fig.add_scatter(x=naive_utc(ideal["ts"]), y=ideal["ideal"], name="ideal",
                        mode="lines", line={"color": IDEAL, "dash": "dash", "width": 1.5},
                        hovertemplate="ideal %{y:.1f}<extra></extra>")
    fig.add_scatter(x=naive_utc(burndown["ts"]) if len(burndown) else [],
                    y=burndown["remaining"], name="remaining", mode="lines+markers",
                    line={"color": REMAINING, "width": 2.5}, marker={"size": 5},
                    hovertemplate="%{x|%a %d %b %H:%M}<br>remaining %{y:g} pts<extra></extra>")
    for trace in _change_markers(changes, burndown, "remaining"):
        fig.add_trace(trace)
    return _layout(fig)


def burnup_chart(burndown: pd.DataFrame, ideal: pd.DataFrame,
                 changes: pd.DataFrame) -> go.Figure:
    """Scope and completed points per day: the gap is what is left, the scope line's steps
    are the scope changes (marked). The ideal climbs from 0 to the commitment."""
    fig = go.Figure()
    if not ideal.empty:
        commitment = float(ideal["ideal"].iloc[0])
        fig.add_scatter(x=naive_utc(ideal["ts"]), y=commitment - ideal["ideal"], name="ideal",
                        mode="lines", line={"color": IDEAL, "dash": "dash", "width": 1.5},
                        hovertemplate="ideal %{y:.1f}<extra></extra>")
    x = naive_utc(burndown["ts"]) if len(burndown) else []
    fig.add_scatter(x=x, y=burndown["scope"], name="scope", mode="lines+markers",
                    line={"color": SCOPE, "width": 2}, marker={"size": 4},
                    hovertemplate="%{x|%a %d %b %H:%M}<br>scope %{y:g} pts<extra></extra>")
    fig.add_scatter(x=x, y=burndown["completed"], name="completed", mode="lines+markers",
                    line={"color": DONE, "width": 2.5}, marker={"size": 5},
                    hovertemplate="%{x|%a %d %b %H:%M}<br>completed %{y:g} pts<extra></extra>")
    for trace in _change_markers(changes, burndown, "scope"):
        fig.add_trace(trace)
    return _layout(fig)


def velocity_chart(velocity: pd.DataFrame, forecast: tuple[float, float, float] | None,
                   selected: str | None = None) -> go.Figure:
    """Commitment vs completed per sprint, the rolling average of the last 3 closed sprints,
    and the next sprint's forecast as a bar at "likely" with a low-high error bar.

    The active sprint's completed bar is hatched: it is "completed so far".
    """
    names = velocity["name"].astype(str).tolist()
    active = (velocity["state"] != "closed").to_numpy()
    fig = go.Figure([
        go.Bar(name="commitment", x=names, y=velocity["commitment"], marker_color=COMMITMENT,
               hovertemplate="%{x}<br>committed %{y:g} pts<extra></extra>"),
        go.Bar(name="completed", x=names, y=velocity["completed"], marker_color=DONE,
               marker_pattern_shape=["/" if a else "" for a in active],
               text=[f"{v:g}" for v in velocity["completed"]], textposition="outside",
               cliponaxis=False,
               customdata=["so far (active)" if a else "" for a in active],
               hovertemplate="%{x}<br>completed %{y:g} pts %{customdata}<extra></extra>"),
    ])
    if "rolling_average" in velocity and velocity["rolling_average"].notna().any():
        fig.add_scatter(x=names, y=velocity["rolling_average"], name="avg of last 3",
                        mode="lines+markers", connectgaps=False,
                        line={"color": "#444", "dash": "dot", "width": 1.5},
                        marker={"size": 5},
                        hovertemplate="%{x}<br>mean of last 3 closed: %{y:.1f}<extra></extra>")
    if forecast is not None:
        low, likely, high = forecast
        fig.add_bar(
            name="forecast (next)", x=["next sprint"], y=[likely],
            marker={"color": "rgba(46,158,91,0.25)", "line": {"color": DONE, "width": 1}},
            error_y={"type": "data", "symmetric": False, "array": [high - likely],
                     "arrayminus": [likely - low], "color": "#1d6b3d", "thickness": 1.5},
            customdata=[[low, high]],
            hovertemplate=("next sprint<br>likely %{y:.1f} pts<br>"
                           "range %{customdata[0]:.1f} – %{customdata[1]:.1f}<extra></extra>"),
        )
    if selected is not None and selected in names:
        fig.add_vrect(x0=names.index(selected) - 0.5, x1=names.index(selected) + 0.5,
                      fillcolor="#4f8fd6", opacity=0.08, line_width=0, layer="below")
    fig.update_layout(
        barmode="group", height=HEIGHT, margin={**MARGINS, "t": 30, "b": 70},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0,
                "font": {"size": 11}},
        xaxis={"tickangle": -30}, yaxis_title="story points",
        plot_bgcolor="#fff", paper_bgcolor="#fff",
    )
    fig.update_yaxes(showgrid=True, gridcolor="#eceef1", rangemode="tozero")
    return fig
