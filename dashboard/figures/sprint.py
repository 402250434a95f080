"""Pure figure builders of the sprint page: burndown, burnup and velocity with forecast.

The burndown and burnup are step charts of `kpis.burndown.burndown`'s events (Plotly's
`line_shape="hv"`): the line stays level until an event and moves at its exact instant,
as in Jira. Times reach Plotly as naive UTC (`naive_utc`). Scope changes are marked where
they happened, with the item and the points in the hover, so a PO sees *why* a line went
up instead of down.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.overview import MARGINS, naive_utc

REMAINING, SCOPE, DONE, IDEAL = "#d6731e", "#4f8fd6", "#2e9e5b", "#8a9099"
COMMITMENT = "#c5cad3"
CHANGE_SYMBOLS = {"added": "triangle-up", "removed": "triangle-down",
                  "re-estimated": "diamond", "reopened": "circle"}
CHANGE_COLOURS = {"added": "#d64545", "removed": "#2e9e5b", "re-estimated": "#8e5bd6",
                  "reopened": "#e0a100"}
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


def event_text(events: pd.DataFrame) -> list[str]:
    """One line per event for hovers: 'DS-3 done -2 pts', 'sprint start' (the remaining
    is in the hover beside it)."""
    return [f"sprint {event}" if key is None or pd.isna(key)
            else f"{key} {event} {change:+g} pts"
            for key, event, change in zip(events["item_key"], events["event"],
                                          events["change"], strict=True)]


def _ideal(fig: go.Figure, ideal: pd.DataFrame, *, rising: bool) -> None:
    """The guideline, falling from the commitment to 0 (or rising from 0 to it)."""
    if ideal.empty:
        return
    y = float(ideal["ideal"].iloc[0]) - ideal["ideal"] if rising else ideal["ideal"]
    fig.add_scatter(x=naive_utc(ideal["ts"]), y=y, name="ideal", mode="lines",
                    line={"color": IDEAL, "dash": "dash", "width": 1.5},
                    hovertemplate="ideal %{y:.1f}<extra></extra>")


def _steps(fig: go.Figure, events: pd.DataFrame, column: str, colour: str,
           width: float) -> None:
    fig.add_scatter(
        x=naive_utc(events["ts"]) if len(events) else [], y=events[column], name=column,
        mode="lines+markers", line={"color": colour, "width": width, "shape": "hv"},
        marker={"size": 4}, customdata=event_text(events),
        hovertemplate=f"%{{x|%a %d %b %H:%M}}<br>%{{customdata}}<br>{column} %{{y:g}} pts"
                      "<extra></extra>")


def _change_markers(events: pd.DataFrame, column_of: dict[str, str]) -> list[go.Scatter]:
    """One trace per kind of scope change, on the line `column_of[kind]` names, at the
    figure after the change (the top of its step)."""
    traces = []
    for kind, column in column_of.items():
        group = events.loc[events["event"] == kind]
        if group.empty:
            continue
        traces.append(go.Scatter(
            x=naive_utc(group["ts"]), y=group[column], mode="markers", name=kind,
            marker={"symbol": CHANGE_SYMBOLS[kind], "size": 10, "color": CHANGE_COLOURS[kind],
                    "line": {"width": 1, "color": "#fff"}},
            customdata=event_text(group),
            hovertemplate="%{x|%a %d %b %H:%M}<br>%{customdata}<extra></extra>",
        ))
    return traces


def burndown_chart(events: pd.DataFrame, ideal: pd.DataFrame) -> go.Figure:
    """Remaining points as steps at each event against the ideal line; scope changes
    (added, removed, re-estimated, reopened) marked where they moved the line."""
    fig = go.Figure()
    _ideal(fig, ideal, rising=False)
    _steps(fig, events, "remaining", REMAINING, 2.5)
    for trace in _change_markers(events, dict.fromkeys(CHANGE_SYMBOLS, "remaining")):
        fig.add_trace(trace)
    return _layout(fig)


def burnup_chart(events: pd.DataFrame, ideal: pd.DataFrame) -> go.Figure:
    """Scope and completed points as steps: the gap is what is left. Additions, removals
    and re-estimates are marked on the scope line, reopened items on the completed line
    (a reopening takes work back out of completed). The ideal climbs to the commitment."""
    fig = go.Figure()
    _ideal(fig, ideal, rising=True)
    _steps(fig, events, "scope", SCOPE, 2.0)
    _steps(fig, events, "completed", DONE, 2.5)
    markers = {"added": "scope", "removed": "scope", "re-estimated": "scope",
               "reopened": "completed"}
    for trace in _change_markers(events, markers):
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
