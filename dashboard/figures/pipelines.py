"""Pure figure builders of the Pipelines page: frames from `kpis.pipelines` in, figures out.

Times reach Plotly as naive UTC (`naive_utc`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.overview import MARGINS, naive_utc

STATE_COLOURS = {
    "success": "#2e9e5b",
    "failed": "#d64545",
    "running": "#4f8fd6",
    "queued": "#8a9099",
    "cancelled": "#5a6270",
}
FIRST_VIEW_DAYS = 7
PIPELINE_COLOURS = ["#2b5d9c", "#7b4fa0", "#1f8a8a", "#b8651b", "#5a6270"]


def _naive(ts: datetime) -> pd.Timestamp:
    return pd.Timestamp(ts).tz_convert("UTC").tz_localize(None)


def runs_timeline(timeline: pd.DataFrame, as_of: datetime, start: datetime) -> go.Figure:
    """Gantt-like: one row per pipeline, a bar per run from start to end (to as_of while
    running), coloured by state.

    Runs of a few minutes on a scale of weeks are thinner than a pixel, so every run also
    gets a tick at its start; the first view shows the last FIRST_VIEW_DAYS days
    (double-click shows the whole range).
    """
    fig = go.Figure()
    for state, colour in STATE_COLOURS.items():
        runs = timeline[timeline["state"] == state]
        if runs.empty:
            continue
        starts = naive_utc(runs["start"])
        custom = runs[["run_id", "duration_s"]].assign(
            minutes=runs["duration_s"] / 60).to_numpy()
        fig.add_bar(
            name=state, orientation="h", y=runs["pipeline"], base=starts,
            x=runs["duration_s"] * 1000, marker_color=colour, width=0.5, showlegend=False,
            hoverinfo="skip",
        )
        fig.add_scatter(
            name=state, x=starts, y=runs["pipeline"], mode="markers",
            marker={"symbol": "line-ns-open", "size": 18, "color": colour,
                    "line": {"width": 2, "color": colour}},
            customdata=custom,
            hovertemplate="%{y} · " + state + "<br>started %{x|%d %b %H:%M} UTC<br>"
            "%{customdata[2]:.1f} min<br>run %{customdata[0]}<extra></extra>",
        )
    end = _naive(as_of)
    first = max(_naive(start), end - timedelta(days=FIRST_VIEW_DAYS))
    rows = timeline["pipeline"].nunique() if len(timeline) else 1
    fig.update_layout(
        barmode="overlay", height=90 + 45 * rows, margin={**MARGINS, "l": 120, "t": 30},
        plot_bgcolor="#fff", paper_bgcolor="#fff",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        xaxis={"type": "date", "range": [first, end]},
        yaxis={"type": "category"},
    )
    return fig


def success_rate_chart(daily: dict[str, pd.DataFrame], threshold: float | None) -> go.Figure:
    """Trailing success rate per pipeline at the end of each day, with the objective's
    threshold when there is one."""
    fig = go.Figure()
    lowest = 1.0 if threshold is None else threshold
    for i, (name, points) in enumerate(daily.items()):
        fig.add_scatter(
            name=name, x=naive_utc(points["ts"]) if len(points) else [], y=points["value"],
            mode="lines+markers", marker={"size": 4},
            line={"color": PIPELINE_COLOURS[i % len(PIPELINE_COLOURS)]},
            hovertemplate=name + " %{x|%d %b}: %{y:.1%}<extra></extra>",
        )
        if len(points):
            lowest = min(lowest, float(points["value"].min()))
    if threshold is not None:
        fig.add_hline(y=threshold, line_dash="dash", line_color=STATE_COLOURS["failed"],
                      annotation_text=f"objective {threshold:.0%}",
                      annotation_position="bottom left")
    fig.update_layout(
        height=260, margin={**MARGINS, "t": 30}, plot_bgcolor="#fff", paper_bgcolor="#fff",
        yaxis={"tickformat": ".0%", "range": [max(0.0, lowest - 0.05), 1.02]},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    return fig


def duration_chart(durations: pd.DataFrame) -> go.Figure:
    """Minutes per successful run as dots, and the rolling median as a line."""
    fig = go.Figure()
    for i, (name, runs) in enumerate(durations.groupby("pipeline", sort=True)):
        x = naive_utc(runs["end"])
        colour = PIPELINE_COLOURS[i % len(PIPELINE_COLOURS)]
        fig.add_scatter(name=f"{name} run", x=x, y=runs["duration_s"] / 60, mode="markers",
                        marker={"size": 4, "opacity": 0.35, "color": colour},
                        hovertemplate="%{x|%d %b %H:%M}: %{y:.1f} min<extra></extra>")
        fig.add_scatter(name=f"{name} rolling median", x=x, y=runs["rolling_median_s"] / 60,
                        mode="lines", line={"width": 2, "color": colour},
                        hovertemplate="median %{y:.1f} min<extra></extra>")
    return _duration_layout(fig)


def _duration_layout(fig: go.Figure) -> go.Figure:
    """The duration charts' frame, per run or per bucket alike."""
    fig.update_layout(
        height=260, margin={**MARGINS, "t": 30}, plot_bgcolor="#fff", paper_bgcolor="#fff",
        yaxis={"title": "minutes", "rangemode": "tozero"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    return fig


def bucket_label(size: timedelta) -> str:
    """'hour', '6 hours', 'day', 'week', '28 days': how the captions name a bucket."""
    names = {timedelta(hours=1): "hour", timedelta(days=1): "day", timedelta(days=7): "week"}
    if size in names:
        return names[size]
    hours = size / timedelta(hours=1)
    return f"{hours:g} hours" if hours < 24 else f"{size.days} days"


def runs_timeline_buckets(buckets: pd.DataFrame, shown: pd.DataFrame, size: timedelta,
                          as_of: datetime, start: datetime) -> go.Figure:
    """A long range's runs (`kpis.run_buckets`): one mark per pipeline and bucket, red where
    a run of it failed, with its counts and durations on hover; the runs that did not
    succeed as ticks of their state's colour, one per run. The whole range is shown."""
    fig = go.Figure()
    label = bucket_label(size)
    for name, failed, colour in (("all succeeded", False, STATE_COLOURS["success"]),
                                 ("with failures", True, STATE_COLOURS["failed"])):
        marks = buckets[(buckets["failed"] > 0) == failed]
        if marks.empty:
            continue
        custom = marks[["runs", "failed"]].assign(
            median=marks["median_s"] / 60, longest=marks["longest_s"] / 60).to_numpy()
        fig.add_scatter(
            name=f"{label}: {name}", x=naive_utc(marks["bucket"]), y=marks["pipeline"],
            mode="markers", customdata=custom,
            marker={"symbol": "square", "size": 9, "color": colour, "opacity": 0.55},
            hovertemplate="%{y} · " + label + " from %{x|%d %b %H:%M} UTC<br>%{customdata[0]}"
            " runs, %{customdata[1]} failed<br>median %{customdata[2]:.1f} min, longest "
            "%{customdata[3]:.1f} min<extra></extra>",
        )
    for state, colour in STATE_COLOURS.items():
        runs = shown[shown["state"] == state]
        if runs.empty:
            continue
        fig.add_scatter(
            name=state, x=naive_utc(runs["start"]), y=runs["pipeline"], mode="markers",
            marker={"symbol": "line-ns-open", "size": 18, "color": colour,
                    "line": {"width": 2, "color": colour}},
            customdata=runs[["run_id"]].assign(minutes=runs["duration_s"] / 60).to_numpy(),
            hovertemplate="%{y} · " + state + "<br>started %{x|%d %b %H:%M} UTC<br>"
            "%{customdata[1]:.1f} min<br>run %{customdata[0]}<extra></extra>",
        )
    rows = buckets["pipeline"].nunique() if len(buckets) else 1
    fig.update_layout(
        height=90 + 45 * rows, margin={**MARGINS, "l": 120, "t": 30},
        plot_bgcolor="#fff", paper_bgcolor="#fff",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        xaxis={"type": "date", "range": [_naive(start), _naive(as_of)]},
        yaxis={"type": "category"},
    )
    return fig


def duration_chart_buckets(buckets: pd.DataFrame, size: timedelta) -> go.Figure:
    """A long range's durations (`kpis.run_buckets.duration_buckets`): the longest
    successful run of each bucket as dots, the rolling median at its last run as a line."""
    fig = go.Figure()
    label = bucket_label(size)
    for i, (name, rows) in enumerate(buckets.groupby("pipeline", sort=True)):
        x = naive_utc(rows["bucket"])
        colour = PIPELINE_COLOURS[i % len(PIPELINE_COLOURS)]
        fig.add_scatter(name=f"{name} longest run per {label}", x=x, y=rows["longest_s"] / 60,
                        mode="markers", marker={"size": 4, "opacity": 0.5, "color": colour},
                        customdata=rows[["runs"]].to_numpy(),
                        hovertemplate="%{x|%d %b %H:%M}: longest %{y:.1f} min of "
                        "%{customdata[0]} runs<extra></extra>")
        fig.add_scatter(name=f"{name} rolling median", x=x, y=rows["rolling_median_s"] / 60,
                        mode="lines", line={"width": 2, "color": colour},
                        hovertemplate="median %{y:.1f} min<extra></extra>")
    return _duration_layout(fig)
