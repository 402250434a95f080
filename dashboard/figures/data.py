"""Pure figure builders of the Data & drift page: frames from `kpis.data` in, `go.Figure` out.

Times reach Plotly as naive UTC (`naive_utc`), as on every page.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from config.schema import DriftObjective
from dashboard.figures.overview import MARGINS, STATUS_COLOURS, naive_utc
from kpis.data import FeatureDriftMatrix
from kpis.health import Status

DRIFT_COLOUR = "#d64545"
STABLE_COLOUR = "#dfe7ef"
THIN_COLOUR = "#b8bec7"  # a week with too few rows to judge
INSUFFICIENT = 0.5  # its cells' z: between stable (0) and drifted (1)


def _base(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(height=height, margin=MARGINS, plot_bgcolor="#fff", paper_bgcolor="#fff",
                      showlegend=False)
    return fig


def drifted_share_chart(history: pd.DataFrame, objective: DriftObjective | None) -> go.Figure:
    """Share of drifted columns per window, each point coloured by its status, with the
    objective's threshold (and warning) as horizontal lines."""
    x = naive_utc(history["window_end"]) if len(history) else []
    colours = [STATUS_COLOURS[Status(s)] for s in history["status"]]
    fig = go.Figure(go.Scatter(
        x=x, y=history["drifted_share"], mode="lines+markers",
        line={"color": "#7a8391", "width": 1.5}, marker={"size": 9, "color": colours},
        customdata=history[["drifted_count", "column_count"]].to_numpy(),
        hovertemplate="window to %{x|%d %b %Y}<br>%{y:.0%} drifted "
        "(%{customdata[0]} of %{customdata[1]} columns)<extra></extra>",
    ))
    if objective is not None:
        fig.add_hline(y=objective.threshold, line_dash="dash", line_color=DRIFT_COLOUR,
                      annotation_text=f"threshold {objective.threshold:.0%}",
                      annotation_position="top left")
        if objective.warning is not None:
            fig.add_hline(y=objective.warning, line_dash="dot",
                          line_color=STATUS_COLOURS[Status.AMBER],
                          annotation_text=f"warning {objective.warning:.0%}",
                          annotation_position="bottom left")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05], title="drifted columns")
    return _base(fig, 280)


def feature_heatmap(matrix: FeatureDriftMatrix) -> go.Figure:
    """Features x weeks: red where the feature drifted, pale where it did not, grey in a
    week with too few rows to judge; each cell shows the test's score.

    The colour is the drifted flag, not the score, because scores of different methods
    (p-values, distances) do not share a scale.
    """
    judged = matrix.judged.reindex(matrix.score.columns, fill_value=True).to_numpy(bool)
    weeks = [f"{ts:%d %b}" + ("" if ok else " (too few rows)")
             for ts, ok in zip(matrix.score.columns, judged, strict=True)]
    features = [str(f) for f in matrix.score.index]
    flags = matrix.drifted.astype(float).where(matrix.score.notna()).to_numpy()
    z = np.where(judged[np.newaxis, :], flags, np.where(np.isnan(flags), np.nan, INSUFFICIENT))
    text = [[("" if pd.isna(v) else f"{v:.2f}") for v in row]
            for row in matrix.score.to_numpy()]
    methods = [[str(matrix.methods.get(f, ""))] * len(weeks) for f in matrix.score.index]
    fig = go.Figure(go.Heatmap(
        z=z, x=weeks, y=features, text=text, texttemplate="%{text}", customdata=methods,
        colorscale=[[0, STABLE_COLOUR], [0.25, STABLE_COLOUR], [0.25, THIN_COLOUR],
                    [0.75, THIN_COLOUR], [0.75, DRIFT_COLOUR], [1, DRIFT_COLOUR]],
        zmin=0, zmax=1, showscale=False, xgap=2, ygap=2, textfont={"size": 10},
        hovertemplate="%{y}, week to %{x}<br>score %{text} (%{customdata})"
        "<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")  # most often drifted at the top
    fig.update_xaxes(side="bottom", type="category")
    return _base(fig, max(160, 40 + 28 * len(features))).update_layout(
        margin={**MARGINS, "l": 120})


def quality_chart(quality: pd.DataFrame) -> go.Figure:
    """Rows per window as bars, missing share as a line on a second axis."""
    x = naive_utc(quality["ts"]) if len(quality) else []
    fig = go.Figure([
        go.Bar(x=x, y=quality["rows"], name="rows", marker_color="#9db8d9",
               hovertemplate="window to %{x|%d %b}: %{y:,} rows<extra></extra>"),
        go.Scatter(x=x, y=quality["missing_share"], name="missing share", yaxis="y2",
                   mode="lines+markers", line={"color": "#e0a100"},
                   hovertemplate="window to %{x|%d %b}: %{y:.1%} missing<extra></extra>"),
    ])
    fig.update_layout(
        yaxis={"title": "rows"},
        yaxis2={"title": "missing", "overlaying": "y", "side": "right", "tickformat": ".0%",
                "rangemode": "tozero"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    return _base(fig, 260).update_layout(showlegend=True,
                                          margin={**MARGINS, "r": 50, "t": 30})
