"""Pure rule evaluation: each condition kind on hand-made frames, at an explicit instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from alerts.rules import evaluate, fingerprint, static_labels
from config.alerting import AlertRule

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _rule(condition: dict[str, Any], **extra: Any) -> AlertRule:
    return AlertRule.model_validate({"name": "r", "product": "churn", "condition": condition,
                                     "backlog": {"title": "t"}, **extra})


def _ts(*offsets: timedelta) -> pd.Series:
    return pd.Series([pd.Timestamp(NOW - o) for o in offsets], dtype="datetime64[ns, UTC]")


def _points(values: list[float], offsets: list[timedelta]) -> pd.DataFrame:
    return pd.DataFrame({"ts": _ts(*offsets), "value": values})


def test_fingerprint_is_stable_and_order_free() -> None:
    a = fingerprint("rule", {"b": "2", "a": "1"})
    assert a == fingerprint("rule", {"a": "1", "b": "2"})
    assert a != fingerprint("rule", {"a": "1", "b": "3"})
    assert a != fingerprint("other", {"a": "1", "b": "2"})
    assert len(a) == 32 and a.isalnum()


def test_usage_latest_value_up_to_now_with_rule_labels() -> None:
    rule = _rule({"kind": "usage", "kpi": "dau", "op": "<", "threshold": 100,
                  "aggregation": "last"}, labels={"team": "growth"})
    points = _points([50, 120, 10], [2 * DAY, DAY, -DAY])  # the last is after now
    [inst] = evaluate(rule, points, now=NOW)
    assert inst.labels == {"team": "growth", "kpi": "dau"}
    assert (inst.value, inst.holds) == (120, False)
    assert inst.evidence["observed_at"].startswith("2026-03-09T12:00")


def test_usage_is_judged_on_its_7_day_mean_by_default() -> None:
    """A weekend dip does not fire a usage rule: its default is the mean of the last 7 days.
    Points 8 days ago (outside), then 1000, 1000, 1000, 1000, 1000, 650, 700 on the last
    7 days: mean (5 x 1000 + 650 + 700) / 7 = 6350 / 7 = 907.14..., not Sunday's 700."""
    rule = _rule({"kind": "usage", "kpi": "dau", "op": "<", "threshold": 900})
    values = [10.0, 1000, 1000, 1000, 1000, 1000, 650, 700]
    offsets = [8 * DAY, *(d * DAY for d in range(6, -1, -1))]
    [inst] = evaluate(rule, _points(values, offsets), now=NOW)
    assert inst.value == pytest.approx(6350 / 7)
    assert inst.holds is False
    assert inst.evidence["window"] == "1w"


def test_no_points_is_no_data() -> None:
    rule = _rule({"kind": "usage", "kpi": "dau", "op": "<", "threshold": 100})
    [inst] = evaluate(rule, _points([], []), now=NOW)
    assert (inst.value, inst.holds) == (None, None)


def test_model_metric_carries_version_and_run() -> None:
    rule = _rule({"kind": "model_metric", "model": "clf", "metric": "auc", "op": "<",
                  "threshold": 0.8})
    points = _points([0.85, 0.78], [2 * DAY, DAY]).assign(run_id=["a", "b"],
                                                          run_url=["u/a", "u/b"])
    points.attrs["version"] = "3"
    [inst] = evaluate(rule, points, now=NOW)
    assert inst.labels == {"model": "clf", "alias": "champion", "metric": "auc"}
    assert inst.holds is True and inst.value == pytest.approx(0.78)
    assert (inst.evidence["version"], inst.evidence["run_id"], inst.evidence["run_url"]) \
        == ("3", "b", "u/b")


def test_drift_uses_the_latest_report_by_window_end() -> None:
    rule = _rule({"kind": "drift", "dataset": "f", "op": ">", "threshold": 0.3})
    reports = pd.DataFrame({
        "window_start": _ts(14 * DAY, 7 * DAY), "window_end": _ts(7 * DAY, 0 * DAY),
        "drifted_share": [0.1, 0.83], "drifted_count": [1, 5], "column_count": [6, 6],
        "report_path": [None, "/r/2.json"],
    })
    [inst] = evaluate(rule, reports, now=NOW)
    assert inst.labels == {"dataset": "f"}
    assert (inst.value, inst.holds) == (0.83, True)
    assert inst.evidence["drifted"] == "5 of 6 columns"
    assert inst.evidence["report_path"] == "/r/2.json"


def test_feature_drift_one_instance_per_column() -> None:
    rule = _rule({"kind": "feature_drift", "dataset": "f", "op": ">", "threshold": 0.2})
    features = pd.DataFrame({
        "window_end": _ts(7 * DAY, DAY, DAY), "column": ["a", "a", "b"],
        "method": ["psi"] * 3, "score": [0.9, 0.1, 0.4], "threshold": [0.2] * 3,
        "drifted": [True, False, True],
    })
    got = {i.labels["column"]: i.holds for i in evaluate(rule, features, now=NOW)}
    assert got == {"a": False, "b": True}
    only = _rule({"kind": "feature_drift", "dataset": "f", "columns": ["c"], "op": ">",
                  "threshold": 0.2})
    [inst] = evaluate(only, features, now=NOW)
    assert inst.labels["column"] == "c" and inst.value is None


def test_data_quality_metric() -> None:
    rule = _rule({"kind": "data_quality", "dataset": "f", "metric": "missing_share",
                  "op": ">", "threshold": 0.05})
    quality = pd.DataFrame({"ts": _ts(2 * DAY, DAY), "rows": [10, 12],
                            "missing_share": [0.01, 0.07]})
    [inst] = evaluate(rule, quality, now=NOW)
    assert (inst.value, inst.holds, inst.labels["metric"]) == (0.07, True, "missing_share")


def _runs(rows: list[tuple[str, str, timedelta, timedelta | None]]) -> pd.DataFrame:
    return pd.DataFrame({
        "pipeline": [p for p, *_ in rows], "state": [s for _, s, *_ in rows],
        "start": _ts(*(st for *_, st, _ in rows)),
        "end": pd.Series([pd.Timestamp(NOW - e) if e is not None else pd.NaT
                          for *_, e in rows], dtype="datetime64[ns, UTC]"),
        "url": [None] * len(rows),
    })


def test_pipeline_failures_per_pipeline_in_the_window() -> None:
    rule = _rule({"kind": "pipeline_failures", "window": "1d", "op": ">=", "threshold": 2})
    h = timedelta(hours=1)
    runs = _runs([("a", "failed", 3 * h, 2 * h), ("a", "failed", 5 * h, 4 * h),
                  ("a", "failed", 30 * h, 29 * h), ("b", "success", 2 * h, h),
                  ("b", "failed", 2 * DAY, 2 * DAY)])
    got = {i.labels["pipeline"]: (i.value, i.holds) for i in evaluate(rule, runs, now=NOW)}
    assert got == {"a": (2.0, True), "b": (0.0, False)}


def test_pipeline_freshness_hours_since_last_success() -> None:
    rule = _rule({"kind": "pipeline_freshness", "op": ">", "threshold": 26})
    h = timedelta(hours=1)
    runs = _runs([("a", "success", 31 * h, 30 * h), ("a", "failed", 3 * h, 2 * h),
                  ("b", "failed", 10 * h, 9 * h)])
    got = {i.labels["pipeline"]: (i.value, i.holds) for i in evaluate(rule, runs, now=NOW)}
    assert got == {"a": (30.0, True), "b": (10.0, False)}


def test_usage_change_week_over_week() -> None:
    rule = _rule({"kind": "usage_change", "kpi": "dau", "window": "7d", "op": "<=",
                  "threshold": -0.2})
    points = _points([100, 100, 70, 70], [13 * DAY, 8 * DAY, 6 * DAY, DAY])
    [inst] = evaluate(rule, points, now=NOW)
    assert inst.value == pytest.approx(-0.3) and inst.holds is True
    assert inst.evidence["window"] == "1w"
    [empty] = evaluate(rule, points.iloc[2:], now=NOW)
    assert empty.value is None


def test_static_labels_of_a_fixed_version() -> None:
    rule = _rule({"kind": "model_metric", "model": "clf", "version": "3", "metric": "auc",
                  "op": "<", "threshold": 0.8})
    assert static_labels(rule) == {"model": "clf", "version": "3", "metric": "auc"}
