"""How each signal's value reads on a page: one case per kind, formatted by hand."""

from __future__ import annotations

import pytest

from dashboard.components import format as fmt


@pytest.mark.parametrize(
    ("kind", "value", "metric", "shown"),
    [
        pytest.param("model_metric", 0.8612, None, "0.861", id="model-metric"),
        pytest.param("feature_drift", 0.0432, None, "0.043", id="feature-drift-score"),
        pytest.param("drift", 0.25, None, "25.0%", id="drifted-share"),
        pytest.param("pipeline_success_rate", 5 / 7, None, "71.4%", id="success-rate"),
        pytest.param("usage", 6700 / 7, None, "957", id="usage"),
        pytest.param("usage", 12345.6, None, "12,346", id="usage-thousands"),
        pytest.param("usage_change", 700 / 6000, None, "+11.7%", id="change-up"),
        pytest.param("usage_change", -0.2, None, "-20.0%", id="change-down"),
        pytest.param("pipeline_freshness", 163.99999, None, "164.0 h", id="hours-since"),
        pytest.param("pipeline_failures", 2.0, None, "2", id="failed-runs"),
        pytest.param("data_quality", 1200.0, "rows", "1,200", id="rows"),
        pytest.param("data_quality", 0.02, "missing_share", "2.0%", id="missing-share"),
        pytest.param("usage", None, None, "no data", id="none"),
        pytest.param("drift", float("nan"), None, "no data", id="nan"),
    ],
)
def test_objective_value(kind: str, value: float | None, metric: str | None,
                         shown: str) -> None:
    assert fmt.objective_value(kind, value, metric) == shown


def test_threshold_text_reads_like_the_value() -> None:
    assert fmt.threshold_text("pipeline_freshness", "<=", 168) == "<= 168.0 h"
    assert fmt.threshold_text("usage_change", ">=", -0.2) == ">= -20.0%"
    assert fmt.threshold_text("data_quality", ">=", 1000, "rows") == ">= 1,000"


@pytest.mark.parametrize(("days", "hours", "minutes", "shown"), [
    (7, 0, 0, "7 d"), (0, 36, 0, "36 h"), (0, 0, 90, "90 min"), (0, 1, 30, "90 min"),
])
def test_span(days: int, hours: int, minutes: int, shown: str) -> None:
    from datetime import timedelta

    assert fmt.span(timedelta(days=days, hours=hours, minutes=minutes)) == shown
