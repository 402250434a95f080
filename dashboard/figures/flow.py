"""Pure figure builders of the flow & backlog page: CFD, throughput, cycle time, WIP ageing.

Times reach Plotly as naive UTC (`naive_utc`).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.overview import CATEGORY_COLOURS, CATEGORY_NAMES, MARGINS, naive_utc

HEIGHT = 290
PERCENTILE_COLOURS = {50: "#2e9e5b", 85: "#e0a100", 95: "#d64545"}


def _style(fig: go.Figure, height: int = HEIGHT, **layout: object) -> go.Figure:
    fig.update_layout(
        height=height, margin={**MARGINS, "t": 30, "b": 40}, plot_bgcolor="#fff",
        paper_bgcolor="#fff",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0,
                "font": {"size": 11}},
        **layout,
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eceef1")
    fig.update_yaxes(showgrid=True, gridcolor="#eceef1", rangemode="tozero")
    return fig


def cfd_chart(cfd: pd.DataFrame) -> go.Figure:
    """Items per status category at the end of each day, stacked: done at the bottom, so
    the band widths read as WIP (in progress) and backlog (to do)."""
    fig = go.Figure()
    x = naive_utc(cfd["day"]) if len(cfd) else []
    for category in ("done", "in_progress", "todo"):
        fig.add_scatter(
            x=x, y=cfd[category] if len(cfd) else [], name=CATEGORY_NAMES[category],
            mode="lines", stackgroup="cfd",
            line={"width": 0.5, "color": CATEGORY_COLOURS[category]},
            fillcolor=CATEGORY_COLOURS[category],
            hovertemplate="%{x|%d %b}: %{y} items<extra>" + CATEGORY_NAMES[category] + "</extra>",
        )
    return _style(fig, yaxis_title="items", hovermode="x unified",
                  legend_traceorder="reversed")


def throughput_chart(throughput: pd.DataFrame) -> go.Figure:
    """Items finished per week (bars), their points in the hover."""
    fig = go.Figure(go.Bar(
        x=naive_utc(throughput["week"]) if len(throughput) else [], y=throughput["items"],
        customdata=throughput["points"], marker_color=CATEGORY_COLOURS["done"],
        text=[str(v) if v else "" for v in throughput["items"]], textposition="outside",
        cliponaxis=False,
        hovertemplate="week of %{x|%d %b}<br>%{y} items, %{customdata:g} pts<extra></extra>",
    ))
    first = naive_utc(throughput["week"]).iloc[0] if len(throughput) else None
    fig.update_xaxes(tickformat="%d %b", dtick=7 * 86_400_000, tick0=first, tickangle=-30)
    return _style(fig, yaxis_title="items done", showlegend=False)


def cycle_time_chart(times: pd.DataFrame, cycle: dict[int, float | None]) -> go.Figure:
    """Each finished item at its finish date and cycle time, with the 50/85/95th percentile
    lines: "85 % of items finished within N days"."""
    fig = go.Figure()
    if len(times):
        fig.add_scatter(
            x=naive_utc(times["finished"]), y=times["cycle_days"], mode="markers",
            name="items", marker={"size": 7, "color": "#4f8fd6", "opacity": 0.75},
            customdata=times[["key", "type", "lead_days"]].to_numpy(dtype=object),
            hovertemplate=("%{customdata[0]} (%{customdata[1]})<br>cycle %{y:.1f} d, "
                           "lead %{customdata[2]:.1f} d<br>done %{x|%d %b}<extra></extra>"),
            showlegend=False,
        )
    for level, value in cycle.items():
        if value is None:
            continue
        fig.add_hline(y=value, line_dash="dot", line_color=PERCENTILE_COLOURS.get(level, "#444"),
                      annotation_text=f"p{level} {value:.1f} d", annotation_position="top left",
                      annotation_font_size=10)
    return _style(fig, yaxis_title="cycle time (days)")


def ageing_chart(ageing: pd.DataFrame, cycle_p85: float | None) -> go.Figure:
    """Age of each item in progress (oldest on top) against the p85 cycle time: an item
    older than that is taking longer than 85 % of finished work did."""
    rows = ageing.iloc[::-1]
    late = [cycle_p85 is not None and age > cycle_p85 for age in rows["age_days"]]
    fig = go.Figure(go.Bar(
        x=rows["age_days"], y=rows["key"], orientation="h",
        marker_color=["#d64545" if x else CATEGORY_COLOURS["in_progress"] for x in late],
        customdata=rows[["title", "status"]].to_numpy(dtype=object),
        hovertemplate=("%{y}: %{customdata[0]}<br>%{customdata[1]}, "
                       "%{x:.1f} days in progress<extra></extra>"),
    ))
    if cycle_p85 is not None:
        fig.add_vline(x=cycle_p85, line_dash="dot", line_color=PERCENTILE_COLOURS[85])
        fig.add_annotation(x=cycle_p85, y=1, yref="paper", yanchor="bottom", showarrow=False,
                           text=f"p85 cycle time {cycle_p85:.1f} d", font={"size": 10})
    height = max(160, 60 + 26 * len(rows))
    fig = _style(fig, height=height, xaxis_title="days since first in progress",
                 showlegend=False)
    fig.update_yaxes(type="category", automargin=True)
    return fig
