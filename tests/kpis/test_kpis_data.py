"""Drift history, the per-feature drift matrix and data quality, on hand-written reports."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from kpis_frames import t

from config.schema import DriftObjective
from kpis.data import (
    HISTORY_COLUMNS,
    data_quality_trend,
    drifted_share_over_time,
    feature_drift_matrix,
    latest_reports,
    most_drifted,
    report_status,
    schema_changes_by_window,
)
from kpis.health import Status

W1, W2, W3 = "2024-03-04 00:00", "2024-03-11 00:00", "2024-03-18 00:00"
OBJECTIVE_A = DriftObjective(name="drift a", kind="drift", dataset="a", op="<=",
                             threshold=0.3, warning=0.2)


def _report(dataset: str, end: str, share: float, drift: bool,
            computed: str = "2024-03-20 00:00") -> dict[str, object]:
    return {
        "dataset": dataset, "model": None, "window_start": t(end) - pd.Timedelta(days=7),
        "window_end": t(end), "dataset_drift": drift, "drifted_share": share,
        "drifted_count": round(share * 4), "column_count": 4,
        "report_path": f"/r/{dataset}/{end[:10]}.json", "computed_at": t(computed),
    }


REPORTS = pd.DataFrame([
    _report("a", W1, 0.0, False),
    _report("a", W2, 0.5, True),
    _report("a", W3, 0.25, False),
    _report("b", W2, 0.6, True),
])


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # a has the objective <= 0.3 (amber above 0.2): 0.0 green, 0.5 red (> 0.3),
        # 0.25 amber (> 0.2, <= 0.3). b has none: Evidently's flag True -> red.
        pytest.param(W3, [("a", W1, 0.0, Status.GREEN), ("a", W2, 0.5, Status.RED),
                          ("a", W3, 0.25, Status.AMBER), ("b", W2, 0.6, Status.RED)],
                     id="all-windows"),
        # windows ending after as_of (a's W3) are not known yet
        pytest.param("2024-03-15 00:00", [("a", W1, 0.0, Status.GREEN),
                                          ("a", W2, 0.5, Status.RED),
                                          ("b", W2, 0.6, Status.RED)], id="replay-before-w3"),
        pytest.param("2024-03-01 00:00", [], id="before-any-window"),
    ],
)
def test_drifted_share_over_time(as_of: str, expected: list[tuple]) -> None:
    got = drifted_share_over_time(REPORTS, as_of=t(as_of), objectives=[OBJECTIVE_A])
    assert list(got.columns) == HISTORY_COLUMNS
    assert [(d, e, s, st) for d, e, s, st in
            zip(got["dataset"], got["window_end"], got["drifted_share"], got["status"],
                strict=True)] == [(d, t(e), s, st) for d, e, s, st in expected]


def test_reimported_window_keeps_the_latest_computation() -> None:
    # a's W2 computed again later with share 0.25: that one wins, amber under the objective
    again = pd.concat([REPORTS, pd.DataFrame([_report("a", W2, 0.25, False,
                                                      computed="2024-03-21 00:00")])])
    got = drifted_share_over_time(again, as_of=t(W2), objectives=[OBJECTIVE_A])
    a = got[got["dataset"] == "a"]
    assert a["drifted_share"].tolist() == [0.0, 0.25]
    assert a["status"].tolist() == [Status.GREEN, Status.AMBER]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # newest per dataset: a's W3 (0.25, amber), b's W2 (0.6, red by its flag)
        pytest.param(W3, [("a", W3, 0.25, Status.AMBER), ("b", W2, 0.6, Status.RED)],
                     id="latest"),
        # on 03-15 a's newest is W2 (0.5 > 0.3: red)
        pytest.param("2024-03-15 00:00", [("a", W2, 0.5, Status.RED),
                                          ("b", W2, 0.6, Status.RED)], id="replay"),
    ],
)
def test_latest_reports(as_of: str, expected: list[tuple]) -> None:
    got = latest_reports(REPORTS, as_of=t(as_of), objectives=[OBJECTIVE_A])
    assert list(zip(got["dataset"], got["window_end"], got["drifted_share"], got["status"],
                    strict=True)) == [(d, t(e), s, st) for d, e, s, st in expected]


@pytest.mark.parametrize(
    ("share", "flag", "objective", "expected"),
    [
        pytest.param(0.1, True, OBJECTIVE_A, Status.GREEN, id="objective-beats-flag"),
        pytest.param(0.1, True, None, Status.RED, id="flag-without-objective"),
        pytest.param(0.9, False, None, Status.GREEN, id="no-flag-without-objective"),
        pytest.param(math.nan, None, OBJECTIVE_A, Status.UNKNOWN, id="no-share"),
    ],
)
def test_report_status(share: float, flag: bool | None, objective: DriftObjective | None,
                       expected: Status) -> None:
    assert report_status(share, flag, objective) is expected


def _feature(end: str, column: str, score: float) -> dict[str, object]:
    # Distances: drift when the score reaches the threshold 0.1.
    return {"window_end": t(end), "column": column, "method": "Wasserstein distance (normed)",
            "score": score, "threshold": 0.1, "drifted": score >= 0.1}


FEATURES = pd.DataFrame([
    # age drifts in W2 and W3; city only exists from W2 and drifts in both; income drifts
    # in W1 only; zip never drifts.
    _feature(W1, "age", 0.05), _feature(W2, "age", 0.20), _feature(W3, "age", 0.30),
    _feature(W2, "city", 0.12), _feature(W3, "city", 0.11),
    _feature(W1, "income", 0.15), _feature(W2, "income", 0.05), _feature(W3, "income", 0.02),
    _feature(W1, "zip", 0.01), _feature(W2, "zip", 0.01), _feature(W3, "zip", 0.02),
])


@pytest.mark.parametrize(
    ("as_of", "order", "counts"),
    [
        # age 2, city 2 (tie broken by name), income 1, zip 0
        pytest.param(W3, ["age", "city", "income", "zip"], [2, 2, 1, 0], id="all-windows"),
        # only W1 known: income drifted once, age and zip never; city not reported yet
        pytest.param(W1, ["income", "age", "zip"], [1, 0, 0], id="first-window-only"),
    ],
)
def test_feature_matrix_orders_by_drift_count(as_of: str, order: list[str],
                                              counts: list[int]) -> None:
    matrix = feature_drift_matrix(FEATURES, as_of=t(as_of))
    assert list(matrix.score.index) == order
    assert matrix.drift_counts.tolist() == counts
    assert list(matrix.drifted.index) == order


def test_feature_matrix_cells() -> None:
    matrix = feature_drift_matrix(FEATURES, as_of=t(W3))
    assert list(matrix.score.columns) == [t(W1), t(W2), t(W3)]
    assert matrix.score.loc["age"].tolist() == [0.05, 0.20, 0.30]
    assert matrix.drifted.loc["age"].tolist() == [False, True, True]
    # city has no W1 report: NaN score, not drifted
    assert math.isnan(matrix.score.loc["city", t(W1)])
    assert matrix.drifted.loc["city"].tolist() == [False, True, True]
    assert matrix.methods["zip"] == "Wasserstein distance (normed)"


def test_feature_matrix_counts_only_windows_with_enough_rows() -> None:
    # W1 held 50 current rows, W2 500, W3 an unknown count (not held against it). With
    # min_rows 100, W1 is too thin to judge: income's only drift (W1) no longer counts;
    # age and city keep their 2 (W2, W3); income and zip tie at 0 (by name). W1's flags
    # stay in `drifted`, as the report said them.
    rows = {t(W1): 50.0, t(W2): 500.0, t(W3): math.nan}
    features = FEATURES.assign(rows=FEATURES["window_end"].map(rows))
    matrix = feature_drift_matrix(features, as_of=t(W3), min_rows=100)
    assert matrix.judged.tolist() == [False, True, True]
    assert matrix.drift_counts.to_dict() == {"age": 2, "city": 2, "income": 0, "zip": 0}
    assert matrix.drifted.loc["income", t(W1)]
    # with the default min_rows (200) the same: 50 < 200 <= 500
    assert feature_drift_matrix(features, as_of=t(W3)).drift_counts["income"] == 0


def test_most_drifted() -> None:
    # age 2, city 2, income 1, zip 0 (see above): the top two by count, then by name;
    # zip never drifted, so even n=4 leaves it out
    matrix = feature_drift_matrix(FEATURES, as_of=t(W3))
    assert most_drifted(matrix, 2) == ["age", "city"]
    assert most_drifted(matrix, 4) == ["age", "city", "income"]
    assert most_drifted(feature_drift_matrix(FEATURES.iloc[:0], as_of=t(W3))) == []


def test_feature_matrix_empty() -> None:
    assert feature_drift_matrix(FEATURES.iloc[:0], as_of=t(W3)).empty


QUALITY = pd.DataFrame([
    {"dataset": "a", "ts": t(W1), "rows": 500, "columns": 4, "missing_share": 0.0,
     "schema_changes": []},
    {"dataset": "a", "ts": t(W2), "rows": 480, "columns": 5, "missing_share": 0.02,
     "schema_changes": ["added column city"]},
    {"dataset": "a", "ts": t(W3), "rows": 510, "columns": 4, "missing_share": 0.05,
     "schema_changes": ["added column city", "dropped column fax"]},
])


def test_data_quality_trend() -> None:
    # W3 ends after as_of 03-15: left out
    got = data_quality_trend(QUALITY, as_of=t("2024-03-15 00:00"))
    assert got["rows"].tolist() == [500, 480]
    assert got["missing_share"].tolist() == [0.0, 0.02]


def test_schema_changes_listed_by_window() -> None:
    # W1 none (not listed); W2 city is new; W3 city goes on, fax is new
    got = schema_changes_by_window(QUALITY, as_of=t(W3))
    assert got["ts"].tolist() == [t(W2), t(W3)]
    assert got["changes"].tolist() == [["added column city"],
                                       ["added column city", "dropped column fax"]]
    assert got["new"].tolist() == [["added column city"], ["dropped column fax"]]
