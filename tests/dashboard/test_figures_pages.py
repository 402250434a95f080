"""Figures of the Data & drift, Pipelines and Usage pages: pure, so tested without a browser."""

from __future__ import annotations

import pandas as pd

from dashboard.figures.data import INSUFFICIENT, feature_heatmap
from dashboard.figures.pipelines import runs_timeline
from dashboard.figures.usage import DOWNSAMPLED_NOTE, usage_chart
from kpis.data import feature_drift_matrix

T = pd.Timestamp("2024-03-04", tz="UTC")


def _usage_points() -> pd.DataFrame:
    ts = pd.date_range("2024-03-01", periods=3, freq="D", tz="UTC")
    return pd.DataFrame({"ts": ts, "value": [1.0, 2.0, 3.0], "rolling_mean": [1.0, 1.5, 2.0]})


def test_downsampled_series_says_so() -> None:
    fig = usage_chart(_usage_points(), unit="users", target=2, warning=None, downsampled=True)
    assert DOWNSAMPLED_NOTE in [a.text for a in fig.layout.annotations]
    plain = usage_chart(_usage_points(), unit="users", target=None, warning=None,
                        downsampled=False)
    assert DOWNSAMPLED_NOTE not in [a.text for a in plain.layout.annotations]


def test_usage_chart_x_is_naive_utc() -> None:
    fig = usage_chart(_usage_points(), unit="", target=None, warning=None, downsampled=False)
    assert pd.Timestamp(fig.data[0].x[0]).tzinfo is None


def test_heatmap_colours_the_drifted_flag_and_prints_the_score() -> None:
    features = pd.DataFrame({
        "window_end": [T, T], "column": ["a", "b"], "method": ["m", "m"],
        "score": [0.5, 0.01], "threshold": [0.1, 0.1], "drifted": [True, False],
    })
    fig = feature_heatmap(feature_drift_matrix(features, as_of=T))
    assert list(fig.data[0].y) == ["a", "b"]
    assert [row[0] for row in fig.data[0].z] == [1.0, 0.0]
    assert [row[0] for row in fig.data[0].text] == ["0.50", "0.01"]


def test_heatmap_greys_a_week_too_thin_to_judge() -> None:
    later = T + pd.Timedelta(days=7)
    features = pd.DataFrame({
        "window_end": [T, later], "column": ["a", "a"], "method": ["m", "m"],
        "score": [0.5, 0.6], "threshold": [0.1, 0.1], "drifted": [True, True],
        "rows": [40.0, 900.0],
    })
    fig = feature_heatmap(feature_drift_matrix(features, as_of=later))
    # 40 rows < 200: the first week's cell is the grey middle value, not red
    assert list(fig.data[0].z[0]) == [INSUFFICIENT, 1.0]
    assert list(fig.data[0].x) == ["04 Mar (too few rows)", "11 Mar"]


def test_timeline_has_a_tick_per_run_coloured_by_state() -> None:
    timeline = pd.DataFrame({
        "pipeline": ["p", "p"], "run_id": ["1", "2"], "state": ["success", "failed"],
        "start": [T, T + pd.Timedelta(hours=6)],
        "end": [T + pd.Timedelta(minutes=10), T + pd.Timedelta(hours=6, minutes=3)],
        "open": [False, False], "duration_s": [600.0, 180.0],
    })
    fig = runs_timeline(timeline, as_of=T + pd.Timedelta(days=1), start=T)
    ticks = [trace for trace in fig.data if trace.type == "scatter"]
    assert sorted(trace.name for trace in ticks) == ["failed", "success"]
    assert sum(len(trace.x) for trace in ticks) == 2
