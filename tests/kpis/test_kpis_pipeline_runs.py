"""Runs with their own durations and failed tasks' names (the Pipelines page's run tables)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from kpis_frames import run, runs_frame, t

from kpis.pipelines import (
    RECENT_RUN_COLUMNS,
    duration_trend,
    recent_runs,
    run_durations,
    task_label,
)


def with_own(frame: pd.DataFrame, durations: list[float | None],
             run_types: list[str | None]) -> pd.DataFrame:
    """Add the system's own duration and run type, as store.queries.pipeline_runs reads."""
    return frame.assign(duration=[math.nan if d is None else d for d in durations],
                        run_type=run_types)


# a1: Airflow says 50 s of a 60 s span (it sat queued 10 s); a2 failed; m1 is a system
# without its own figure (10 min span); a3 still runs.
RUNS = with_own(runs_frame([
    run("a1", "success", "2024-03-01 00:01", start="2024-03-01 00:00"),
    run("a2", "failed", "2024-03-01 06:02", start="2024-03-01 06:00"),
    run("m1", "success", "2024-03-01 12:10", pipeline="score", start="2024-03-01 12:00"),
    run("a3", "running", None, start="2024-03-01 18:00"),
]), [50.0, 100.0, None, None], ["scheduled", "manual", None, "backfill"])

FAILED_TASKS = pd.DataFrame({
    "pipeline": ["train", "train", "train"],
    "run_id": ["a2", "a2", "a2"],
    "task_id": ["train", "score", "score"],
    "map_index": [-1, 0, 3],
})


def test_run_durations_prefer_the_systems_own() -> None:
    got = run_durations(RUNS).tolist()
    assert got[:3] == [50.0, 100.0, 600.0]
    assert math.isnan(got[3])  # no end, no figure: unknown, not zero


def test_run_durations_without_the_column_are_end_minus_start() -> None:
    frame = runs_frame([run("x", "success", "2024-03-01 00:05", start="2024-03-01 00:00")])
    assert run_durations(frame).tolist() == [300.0]


def test_duration_trend_uses_the_systems_figure() -> None:
    got = duration_trend(RUNS, as_of=t("2024-03-02 00:00"))
    assert got.set_index("run_id")["duration_s"].to_dict() == {"m1": 600.0, "a1": 50.0}


def test_recent_runs_newest_first_with_failed_task_names() -> None:
    got = recent_runs(RUNS, FAILED_TASKS, start=t("2024-03-01 03:00"),
                      as_of=t("2024-03-01 20:00"))
    assert list(got.columns) == RECENT_RUN_COLUMNS
    assert got["run_id"].tolist() == ["a3", "m1", "a2"]  # a1 started before the range
    assert got["failed_tasks"].tolist() == [[], [], ["train", "score[0]", "score[3]"]]
    assert got["own_duration"].tolist() == [False, False, True]
    assert got["run_type"].tolist() == ["backfill", None, "manual"]
    assert got.loc[2, "duration_s"] == 100.0 and got.loc[1, "duration_s"] == 600.0


@pytest.mark.parametrize(("limit", "expected"), [(1, ["a3"]), (2, ["a3", "m1"])])
def test_recent_runs_limit(limit: int, expected: list[str]) -> None:
    got = recent_runs(RUNS, FAILED_TASKS.iloc[0:0], start=t("2024-03-01 00:00"),
                      as_of=t("2024-03-02 00:00"), limit=limit)
    assert got["run_id"].tolist() == expected


def test_recent_runs_of_nothing() -> None:
    got = recent_runs(RUNS.iloc[0:0], FAILED_TASKS, start=t("2024-03-01 00:00"),
                      as_of=t("2024-03-02 00:00"))
    assert got.empty and list(got.columns) == RECENT_RUN_COLUMNS


@pytest.mark.parametrize(("task_id", "map_index", "expected"),
                         [("train", -1, "train"), ("score", 0, "score[0]")])
def test_task_label(task_id: str, map_index: int, expected: str) -> None:
    assert task_label(task_id, map_index) == expected
