"""Objective classification, success rate windows, objective evaluation, product status."""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import pytest
from kpis_frames import points_frame, run, runs_frame, t

from config.schema import (
    DriftObjective,
    ModelMetricObjective,
    PipelineSuccessObjective,
    UsageObjective,
)
from kpis.health import (
    ObjectiveResult,
    Status,
    classify,
    evaluate_objective,
    latest_value,
    product_status,
    success_rate,
)

G, A, R, U = Status.GREEN, Status.AMBER, Status.RED, Status.UNKNOWN


# Each row: value, op, threshold (red boundary), warning (amber boundary), expected status.
# Green: value `op` warning holds; amber: value `op` threshold holds but not vs warning;
# red: value `op` threshold fails; unknown: no value.
@pytest.mark.parametrize(
    ("value", "op", "threshold", "warning", "expected"),
    [
        # op >=, threshold 0.80, warning 0.85 (e.g. AUC)
        pytest.param(0.90, ">=", 0.80, 0.85, G, id="ge-well-above-warning"),
        pytest.param(0.85, ">=", 0.80, 0.85, G, id="ge-at-warning-is-green"),
        pytest.param(0.849, ">=", 0.80, 0.85, A, id="ge-just-below-warning-amber"),
        pytest.param(0.80, ">=", 0.80, 0.85, A, id="ge-at-threshold-amber"),
        pytest.param(0.799, ">=", 0.80, 0.85, R, id="ge-below-threshold-red"),
        # op >, threshold 0.80, warning 0.85: the boundaries themselves fail
        pytest.param(0.86, ">", 0.80, 0.85, G, id="gt-above-warning"),
        pytest.param(0.85, ">", 0.80, 0.85, A, id="gt-at-warning-amber"),
        pytest.param(0.81, ">", 0.80, 0.85, A, id="gt-inside-band-amber"),
        pytest.param(0.80, ">", 0.80, 0.85, R, id="gt-at-threshold-red"),
        # op <=, threshold 0.30, warning 0.20 (e.g. drifted share)
        pytest.param(0.10, "<=", 0.30, 0.20, G, id="le-well-below-warning"),
        pytest.param(0.20, "<=", 0.30, 0.20, G, id="le-at-warning-is-green"),
        pytest.param(0.25, "<=", 0.30, 0.20, A, id="le-inside-band-amber"),
        pytest.param(0.30, "<=", 0.30, 0.20, A, id="le-at-threshold-amber"),
        pytest.param(0.31, "<=", 0.30, 0.20, R, id="le-above-threshold-red"),
        # op <, threshold 0.30, warning 0.20
        pytest.param(0.19, "<", 0.30, 0.20, G, id="lt-below-warning"),
        pytest.param(0.20, "<", 0.30, 0.20, A, id="lt-at-warning-amber"),
        pytest.param(0.30, "<", 0.30, 0.20, R, id="lt-at-threshold-red"),
        # no warning: green or red only
        pytest.param(0.80, ">=", 0.80, None, G, id="no-warning-at-threshold-green"),
        pytest.param(0.79, ">=", 0.80, None, R, id="no-warning-below-red"),
        # warning equal to threshold: no amber band
        pytest.param(0.80, ">=", 0.80, 0.80, G, id="warning-equals-threshold"),
        # no value
        pytest.param(None, ">=", 0.80, 0.85, U, id="none-is-unknown"),
        pytest.param(math.nan, "<=", 0.30, 0.20, U, id="nan-is-unknown"),
    ],
)
def test_classify(
    value: float | None, op, threshold: float, warning: float | None, expected: Status
) -> None:
    assert classify(value, op, threshold, warning) is expected


# Rule: the worst *known* status; unknown only when nothing is known.
@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        pytest.param([], U, id="no-objectives-unknown"),
        pytest.param([U, U], U, id="all-unknown"),
        pytest.param([G], G, id="green"),
        pytest.param([G, U], G, id="green-and-unknown-is-green"),
        pytest.param([R, U], R, id="red-and-unknown-is-red"),
        pytest.param([A, U, G], A, id="amber-unknown-green-is-amber"),
        pytest.param([G, A, R], R, id="red-is-worst"),
    ],
)
def test_product_status(statuses: list[Status], expected: Status) -> None:
    assert product_status(statuses) is expected


def test_product_status_takes_objective_results() -> None:
    def result(status: Status) -> ObjectiveResult:
        return ObjectiveResult("x", "usage", None, status, 1.0, None, ">=", None, "")

    assert product_status([result(G), result(A)]) is A


def test_status_rank_orders_unknown_between_green_and_amber() -> None:
    assert sorted([R, U, A, G], key=lambda s: s.rank) == [G, U, A, R]


# Window for as_of 03-08 00:00 and 7 days: (03-01 00:00, 03-08 00:00].
RUNS = runs_frame(
    [
        run("r1", "success", "2024-03-01 00:00:00"),  # exactly as_of - 7 d: excluded
        run("r2", "failed", "2024-03-01 00:00:01"),  # one second inside: included
        run("r3", "success", "2024-03-05 12:00"),  # included
        run("r4", "success", "2024-03-08 00:00:00"),  # exactly as_of: included
        run("r5", "success", "2024-03-08 00:00:01"),  # after as_of: excluded
        run("r6", "running", None, start="2024-03-07 23:00"),  # not finished
        run("r7", "cancelled", "2024-03-06 00:00"),  # not an outcome
        run("r8", "queued", None, start="2024-03-07 23:30"),  # not finished
        run("r9", "failed", "2024-03-06 00:00", pipeline="score"),  # other pipeline
    ]
)
AS_OF = t("2024-03-08 00:00")


@pytest.mark.parametrize(
    ("window_days", "pipeline", "expected"),
    [
        # all pipelines: r2 F, r3 S, r4 S, r9 F -> 2 / 4
        pytest.param(7, None, 0.5, id="all-pipelines-window-edges"),
        # train: r2 F, r3 S, r4 S -> 2 / 3
        pytest.param(7, "train", 2 / 3, id="one-pipeline"),
        # score: r9 F -> 0 / 1
        pytest.param(7, "score", 0.0, id="all-failed"),
        # 1 day, (03-07 00:00, 03-08 00:00]: r4 S only -> 1 / 1
        pytest.param(1, None, 1.0, id="one-day-window"),
        # no run of this pipeline finished -> None
        pytest.param(7, "export", None, id="no-finished-run"),
    ],
)
def test_success_rate(window_days: int, pipeline: str | None, expected: float | None) -> None:
    got = success_rate(RUNS, as_of=AS_OF, window_days=window_days, pipeline=pipeline)
    assert got == (None if expected is None else pytest.approx(expected))


def test_success_rate_of_no_runs_is_none() -> None:
    assert success_rate(runs_frame([]), as_of=AS_OF, window_days=7) is None


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([], None, id="empty"),
        pytest.param([("2024-03-01", None)], None, id="only-nan"),
        # frame not in time order; the newest value 0.7 (03-09) wins, the NaN on 03-10 is skipped
        pytest.param(
            [("2024-03-09", 0.7), ("2024-03-01", 0.9), ("2024-03-10", None)],
            ("2024-03-09", 0.7),
            id="newest-non-nan",
        ),
    ],
)
def test_latest_value(rows: list, expected: tuple[str, float] | None) -> None:
    got = latest_value(points_frame(rows))
    assert got == (None if expected is None else (t(expected[0]), expected[1]))


AUC = ModelMetricObjective(
    kind="model_metric", name="AUC", model="churn", metric="auc",
    op=">=", threshold=0.80, warning=0.85,
)  # fmt: skip
AUC_POINTS = points_frame(
    [("2024-03-01 00:00", 0.90), ("2024-03-05 00:00", 0.82), ("2024-03-09 00:00", 0.70)]
)
DRIFT = DriftObjective(
    kind="drift", name="Drift", dataset="scoring", op="<=", threshold=0.3, warning=0.2
)
USAGE = UsageObjective(kind="usage", name="Daily users", kpi="dau", op=">=", threshold=100)
PIPELINES = PipelineSuccessObjective(
    kind="pipeline_success_rate", name="Pipelines", op=">=", threshold=0.9, warning=0.95,
)  # fmt: skip


def reports_frame(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    """Weekly drift reports [(window end, drifted share, current rows)], 10 columns each."""
    ends = [t(end) for end, _, _ in rows]
    return pd.DataFrame({
        "dataset": "scoring", "window_start": [e - pd.Timedelta(days=7) for e in ends],
        "window_end": ends, "drifted_share": [s for _, s, _ in rows],
        "drifted_count": [round(s * 10) for _, s, _ in rows], "column_count": 10,
        "report_path": None, "rows": [float(n) for _, _, n in rows],
    })


@pytest.mark.parametrize(
    ("objective", "frame", "as_of", "value", "status", "measured"),
    [
        # latest AUC at or before 03-08 is 0.82 (03-05): >= 0.80 but < 0.85 -> amber
        pytest.param(AUC, AUC_POINTS, "2024-03-08", 0.82, A, "2024-03-05", id="metric-amber"),
        # by 03-10 the 0.70 of 03-09 is latest: < 0.80 -> red
        pytest.param(AUC, AUC_POINTS, "2024-03-10", 0.70, R, "2024-03-09", id="metric-red"),
        # before the first point: no value -> unknown
        pytest.param(AUC, AUC_POINTS, "2024-02-28", None, U, None, id="metric-no-value"),
        # drifted share 0.25 in the report of the week to 03-07: <= 0.3 but > 0.2 -> amber
        pytest.param(
            DRIFT, reports_frame([("2024-03-07", 0.25, 900)]), "2024-03-08", 0.25, A,
            "2024-03-07", id="drift-amber",
        ),
        # the latest window had 70 current rows, fewer than min_rows 200: insufficient
        # data (unknown), not the 0.83 "drift" a 70-row test reads, and not the older 0.1
        pytest.param(
            DRIFT, reports_frame([("2024-02-29", 0.1, 900), ("2024-03-07", 0.83, 70)]),
            "2024-03-08", None, U, "2024-03-07", id="drift-insufficient",
        ),
        # 120 daily users >= 100, no warning -> green
        pytest.param(
            USAGE, points_frame([("2024-03-07", 120.0)]), "2024-03-08", 120.0, G, "2024-03-07",
            id="usage-green",
        ),
        # success rate over RUNS as of 03-08, 7 days: 2 / 4 = 0.5 < 0.9 -> red;
        # the value is measured at the end of the window
        pytest.param(
            PIPELINES, RUNS, "2024-03-08", 0.5, R, "2024-03-08", id="pipelines-red"
        ),
        pytest.param(
            PIPELINES, runs_frame([]), "2024-03-08", None, U, "2024-03-08",
            id="pipelines-no-runs",
        ),
    ],
)  # fmt: skip
def test_evaluate_objective(
    objective, frame, as_of: str, value: float | None, status: Status, measured: str | None
) -> None:
    result = evaluate_objective(objective, frame, as_of=t(as_of))
    assert result.value == (None if value is None else pytest.approx(value))
    assert result.status is status
    assert result.as_of == (None if measured is None else t(measured))
    assert (result.name, result.kind, result.op) == (objective.name, objective.kind, objective.op)
    assert (result.threshold, result.warning) == (objective.threshold, objective.warning)
    assert result.detail


def test_pipeline_detail_counts_runs() -> None:
    result = evaluate_objective(PIPELINES, RUNS, as_of=AS_OF)
    assert result.detail.startswith("2 of 4 finished runs succeeded")


def test_naive_as_of_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_objective(AUC, AUC_POINTS, as_of=datetime(2024, 3, 8))  # noqa: DTZ001
