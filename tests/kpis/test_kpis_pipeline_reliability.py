"""The Pipelines page's KPIs: run timeline, success rate per pipeline, durations, freshness."""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import pytest
from kpis_frames import run, runs_frame, t

from kpis.health import Status
from kpis.pipelines import (
    TIMELINE_COLUMNS,
    duration_trend,
    freshness,
    median_interval,
    run_timeline,
    success_rates,
)

# "score" runs every 6 h from 03-01 00:00; the 03-02 00:00 run is still running.
# "train" runs every 12 h and has never succeeded; "once" ran a single time.
RUNS = runs_frame([
    run("s1", "success", "2024-03-01 00:10", pipeline="score", start="2024-03-01 00:00"),
    run("s2", "failed", "2024-03-01 06:20", pipeline="score", start="2024-03-01 06:00"),
    run("s3", "success", "2024-03-01 12:30", pipeline="score", start="2024-03-01 12:00"),
    run("s4", "success", "2024-03-01 18:10", pipeline="score", start="2024-03-01 18:00"),
    run("s5", "running", None, pipeline="score", start="2024-03-02 00:00"),
    run("t1", "failed", "2024-03-01 01:05", pipeline="train", start="2024-03-01 01:00"),
    run("t2", "failed", "2024-03-01 13:05", pipeline="train", start="2024-03-01 13:00"),
    run("o1", "success", "2024-03-01 02:10", pipeline="once", start="2024-03-01 02:00"),
])
AS_OF = t("2024-03-02 00:30")


def test_timeline_running_run_ends_at_as_of() -> None:
    got = run_timeline(RUNS, as_of=AS_OF)
    assert list(got.columns) == TIMELINE_COLUMNS
    assert got["pipeline"].tolist() == ["once"] + ["score"] * 5 + ["train"] * 2
    s5 = got.set_index("run_id").loc["s5"]
    # started 00:00, still running at 00:30: bar to as_of, 30 min = 1800 s
    assert (s5["state"], s5["end"], bool(s5["open"]), s5["duration_s"]) == (
        "running", AS_OF, True, 1800.0)
    # s3: 12:00 -> 12:30 = 1800 s, closed
    s3 = got.set_index("run_id").loc["s3"]
    assert (s3["state"], bool(s3["open"]), s3["duration_s"]) == ("success", False, 1800.0)


def test_timeline_replay_shows_later_outcome_as_running() -> None:
    # at 12:15 s3 (12:00 -> 12:30, success) had no outcome yet: running, 15 min = 900 s;
    # s4 and s5 had not started
    got = run_timeline(RUNS, as_of=t("2024-03-01 12:15")).set_index("run_id")
    assert (got.loc["s3", "state"], got.loc["s3", "duration_s"]) == ("running", 900.0)
    assert "s4" not in got.index and "s5" not in got.index


@pytest.mark.parametrize(
    ("window_days", "expected"),
    [
        # window (03-01 00:30, 03-02 00:30]: score's s1 ended 00:10, outside; s2 failed,
        # s3 and s4 succeeded -> 2/3; the running s5 is no outcome. train: t1, t2 failed
        # -> 0/2. once: o1 -> 1/1.
        pytest.param(1, {"once": (1.0, 1, 1), "score": (2 / 3, 3, 2), "train": (0.0, 2, 0)},
                     id="one-day"),
        # two days: s1 counts too -> 3/4
        pytest.param(2, {"once": (1.0, 1, 1), "score": (0.75, 4, 3), "train": (0.0, 2, 0)},
                     id="two-days"),
    ],
)
def test_success_rates(window_days: int, expected: dict[str, tuple]) -> None:
    got = success_rates(RUNS, as_of=AS_OF, window=timedelta(days=window_days)).set_index("pipeline")
    assert sorted(got.index) == sorted(expected)
    for name, (rate, finished, succeeded) in expected.items():
        assert got.loc[name, "success_rate"] == pytest.approx(rate)
        assert (got.loc[name, "finished"], got.loc[name, "succeeded"]) == (finished, succeeded)


def test_success_rate_none_without_finished_runs() -> None:
    # at 03-01 00:05 nothing has finished yet
    got = success_rates(RUNS, as_of=t("2024-03-01 00:05"), window=timedelta(days=1))
    assert got["success_rate"].isna().all()


@pytest.mark.parametrize(
    ("window", "medians"),
    [
        # successful score runs: s1 600 s, s3 1800 s, s4 600 s (failed s2 left out)
        # window 2: 600; median(600, 1800) = 1200; median(1800, 600) = 1200
        pytest.param(2, [600.0, 1200.0, 1200.0], id="window-2"),
        # window 3: 600; 1200; median(600, 1800, 600) = 600
        pytest.param(3, [600.0, 1200.0, 600.0], id="window-3"),
    ],
)
def test_duration_trend(window: int, medians: list[float]) -> None:
    got = duration_trend(RUNS, as_of=AS_OF, window=window)
    score = got[got["pipeline"] == "score"]
    assert score["duration_s"].tolist() == [600.0, 1800.0, 600.0]
    assert score["rolling_median_s"].tolist() == medians
    assert "train" not in set(got["pipeline"])  # never succeeded: no duration


def test_median_interval() -> None:
    # score starts 6 h apart; train 12 h; once has a single run
    assert median_interval(RUNS, as_of=AS_OF, pipeline="score") == timedelta(hours=6)
    assert median_interval(RUNS, as_of=AS_OF, pipeline="train") == timedelta(hours=12)
    assert median_interval(RUNS, as_of=AS_OF, pipeline="once") is None


@pytest.mark.parametrize(
    ("expected", "pipeline", "want"),
    [
        # score: last success s4 18:10 -> age at 00:30 = 6 h 20 min = 22800 s; expected
        # 2 x 6 h = 43200 s: green (age <= expected)
        pytest.param(None, "score", (22800.0, 43200.0, "2x median interval", Status.GREEN),
                     id="score-green"),
        # train never succeeded: infinite age, red against 2 x 12 h
        pytest.param(None, "train", (math.inf, 86400.0, "2x median interval", Status.RED),
                     id="never-succeeded-red"),
        # once: one run, no interval -> unknown; age 03-01 02:10 -> 03-02 00:30 = 80400 s
        pytest.param(None, "once", (80400.0, None, None, Status.UNKNOWN), id="single-run"),
        # once with an objective of 12 h: 43200 < 80400 <= 86400 -> amber
        pytest.param({"once": timedelta(hours=12)}, "once",
                     (80400.0, 43200.0, "objective", Status.AMBER), id="objective-amber"),
        # objective of 10 h: 80400 > 2 x 36000 -> red
        pytest.param({"once": timedelta(hours=10)}, "once",
                     (80400.0, 36000.0, "objective", Status.RED), id="objective-red"),
        # an objective beats the median: score expected every 3 h; 22800 s is beyond
        # 2 x 10800 = 21600 s -> red
        pytest.param({"score": timedelta(hours=3)}, "score",
                     (22800.0, 10800.0, "objective", Status.RED), id="objective-beats-median"),
    ],
)
def test_freshness(expected: dict[str, timedelta] | None, pipeline: str, want: tuple) -> None:
    got = freshness(RUNS, as_of=AS_OF, expected=expected).set_index("pipeline")
    row = got.loc[pipeline]
    expected_s = None if pd.isna(row["expected_s"]) else row["expected_s"]
    assert (row["age_s"], expected_s, row["expected_from"], row["status"]) == want


def test_freshness_last_success_times() -> None:
    got = freshness(RUNS, as_of=AS_OF).set_index("pipeline")
    assert got.loc["score", "last_success"] == t("2024-03-01 18:10")
    assert pd.isna(got.loc["train", "last_success"])
    assert list(got.index) == ["once", "score", "train"]
