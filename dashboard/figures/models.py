"""Pure figure builders of the Models page: DataFrame in, `go.Figure` out.

Times reach Plotly as naive UTC (`naive_utc`); the URL's date range sets the visible x
range only, so a user can still pan back to a version trained before it.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.overview import MARGINS, naive_utc
from dashboard.figures.usage import add_downsampled_note
from kpis.dora import version_key

PALETTE = ["#2b5d9c", "#e07b39", "#2e9e5b", "#8e5ea2", "#c8a200", "#d64545", "#17a2b8",
           "#6c757d"]


def version_colours(versions: list[str]) -> dict[str, str]:
    """One stable colour per version, shared by the history and the timeline."""
    ordered = sorted(set(versions), key=version_key)
    return {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(ordered)}


def _naive(value: datetime) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts


def metric_history_chart(history: pd.DataFrame, metric: str, *, start: datetime,
                         end: datetime, colours: dict[str, str], aliases: dict[str, str],
                         downsampled: bool) -> go.Figure:
    """One line per version; `aliases` (version -> 'champion' ...) label the legend."""
    fig = go.Figure()
    for version, points in history.groupby("version", sort=False):
        label = f"v{version}" + (f" ({aliases[version]})" if version in aliases else "")
        fig.add_trace(go.Scatter(
            name=label, x=naive_utc(points["ts"]), y=points["value"],
            mode="lines+markers" if len(points) < 60 else "lines",
            line={"color": colours.get(str(version), "#444"), "width": 2}, marker={"size": 5},
            hovertemplate=f"v{version} " + "%{x|%d %b %H:%M}: %{y:.4g}<extra></extra>",
        ))
    if downsampled:
        add_downsampled_note(fig)
    fig.update_layout(
        height=300, margin={**MARGINS, "t": 30}, plot_bgcolor="#fff", paper_bgcolor="#fff",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        xaxis={"range": [_naive(start), _naive(end)]}, yaxis={"title": metric},
    )
    return fig


def registry_timeline(intervals: pd.DataFrame, births: pd.DataFrame, *, start: datetime,
                      end: datetime, colours: dict[str, str]) -> go.Figure:
    """A lane per alias with a bar per version it pointed at, and a lane of versions at
    their training time: promotions and rollbacks read as changes of colour."""
    fig = go.Figure()
    aliases = sorted(intervals["alias"].unique(), key=lambda a: (a != "champion", a))
    for row in intervals.itertuples(index=False):
        begin, finish = _naive(row.start), _naive(row.end)
        fig.add_trace(go.Bar(
            orientation="h", y=[row.alias], base=[begin],
            x=[(finish - begin).total_seconds() * 1000], width=0.6,
            marker_color=colours.get(row.version, "#444"), text=[f"v{row.version}"],
            textposition="inside", insidetextanchor="middle", showlegend=False,
            hovertemplate=(f"{row.alias} → v{row.version}<br>{begin:%d %b %H:%M} – "
                           f"{'now' if row.current else f'{finish:%d %b %H:%M}'}"
                           f"<br>from {row.origin}<extra></extra>"),
        ))
    trained = births.dropna(subset=["trained"])
    if len(trained):
        fig.add_trace(go.Scatter(
            y=["trained"] * len(trained), x=naive_utc(trained["trained"]), mode="markers+text",
            text=[f"v{v}" for v in trained["version"]], textposition="top center",
            marker={"size": 10, "symbol": "diamond",
                    "color": [colours.get(v, "#444") for v in trained["version"]]},
            showlegend=False, hovertemplate="v%{text} trained %{x|%d %b %H:%M}<extra></extra>",
        ))
    lanes = [*aliases, "trained"] if len(trained) else aliases
    fig.update_layout(
        barmode="overlay", height=90 + 42 * max(1, len(lanes)),
        margin={**MARGINS, "l": 80, "t": 10}, plot_bgcolor="#fff", paper_bgcolor="#fff",
        xaxis={"type": "date", "range": [_naive(start), _naive(end)]},
        yaxis={"categoryorder": "array", "categoryarray": list(reversed(lanes))},
    )
    return fig
