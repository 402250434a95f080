"""Read the drift summary out of Evidently report JSON, in the three shapes teams save.

Pure dict-in, summary-out code (no Evidently import, which costs seconds), used for both
the reports dspo computes and those it imports. The shapes:

* **0.7 results** (`snapshot.dict()`, `.json()`, `.save_json()`): `{"metrics": [...],
  "tests": [...]}`. A `DriftedColumnsCount` entry has `value = {"count", "share"}` and
  `config.drift_share`; one `ValueDrift` entry per column has `config.{column, method,
  threshold}` and the score as `value`. Tags, metadata and timestamp are NOT in this shape.
* **0.7 snapshot** (`snapshot.dumps()`, `dump_dict()`, the Evidently workspace's files):
  `metric_results` by id, `top_level_metrics`, plus `metadata`, `tags` and `timestamp`.
* **legacy** (`evidently.legacy.report.Report(...).json()` / `.save_json()`): `{"version",
  "timestamp", "metrics": [{"metric": "DataDriftTable", "result": {"drift_by_columns":
  ...}}]}` where every column already carries `drift_detected`.

Where Evidently states a verdict we keep it: the legacy `drift_detected`/`dataset_drift`
flags, and in 0.7 the test results present when the report ran with `include_tests=True`
(a `ValueDrift` test FAILs when its column drifted; the `DriftedColumnsCount` test is
"share < drift_share" and FAILs on dataset drift). Without them the verdict is rebuilt the
way Evidently's stat tests compute it: p-value methods drift when the score is below the
threshold (K-S and Cramér-von Mises at or below), distance methods when it is at or above
(energy distance and the text-drift classifiers strictly above); the dataset drifts when
the drifted share reaches `drift_share` (0.5 by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store.records import DriftFeature, utc

# Evidently's method names (display name as results show them, and the short name a user
# may pass as `method=`), with the comparison its stat test uses to flag drift.
_P_VALUE_STRICT = ("K-S p_value", "ks", "Cramer-von Mises", "cramer_von_mises")  # score <= t
_P_VALUE = (
    "chi-square p_value",
    "chisquare",
    "Z-test p_value",
    "z",
    "Anderson-Darling",
    "anderson",
    "Epps-Singleton",
    "es",
    "Fisher's Exact test",
    "fisher_exact",
    "g_test",
    "Mann-Whitney U-rank test",
    "mannw",
    "empirical_mmd",
    "t_test",
    "Total-Variation-Distance",
    "TVD",
)  # score < threshold
_DISTANCE = (
    "Wasserstein distance (normed)",
    "wasserstein",
    "Jensen-Shannon distance",
    "jensenshannon",
    "PSI",
    "psi",
    "Kullback-Leibler divergence",
    "kl_div",
    "Hellinger distance",
    "hellinger",
)  # score >= threshold
_DISTANCE_STRICT = (
    "Energy-distance",
    "ed",
    "Percentile text content drift",
    "perc_text_content_drift",
    "Absolute text content drift",
    "abs_text_content_drift",
)  # score > threshold
_RULES: dict[str, str] = {
    **dict.fromkeys(_P_VALUE_STRICT, "<="),
    **dict.fromkeys(_P_VALUE, "<"),
    **dict.fromkeys(_DISTANCE, ">="),
    **dict.fromkeys(_DISTANCE_STRICT, ">"),
}


class ReportFormatError(ValueError):
    """The JSON is not a data-drift report dspo can read; the caller names the file."""


@dataclass(frozen=True)
class DriftSummary:
    features: tuple[DriftFeature, ...]
    drifted_count: int
    column_count: int
    drifted_share: float
    dataset_drift: bool
    metadata: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    timestamp: datetime | None = None


def is_drifted(method: str, score: float, threshold: float) -> bool:
    """The column verdict of Evidently's stat test `method`, from its score and threshold."""
    rule = _RULES.get(method)
    if rule is None:
        if "p_value" in method.lower():
            rule = "<"
        else:
            raise ReportFormatError(
                f"unknown drift method {method!r}: cannot tell whether its score is a "
                "p-value or a distance (run the report with include_tests=True)"
            )
    return {
        "<": score < threshold,
        "<=": score <= threshold,
        ">=": score >= threshold,
        ">": score > threshold,
    }[rule]


def summarize(data: Any) -> DriftSummary:
    """Summarize any of the three shapes; raise ReportFormatError on anything else."""
    if not isinstance(data, dict):
        raise ReportFormatError("expected a JSON object")
    if "metric_results" in data:
        return _from_snapshot(data)
    metrics = data.get("metrics")
    if not isinstance(metrics, list):
        raise ReportFormatError(
            "no 'metrics' list and no 'metric_results': not an Evidently report"
        )
    if any(isinstance(m, dict) and "result" in m and "metric" in m for m in metrics):
        return _from_legacy(data)
    return _from_results(metrics, data.get("tests") or [])


def _from_snapshot(data: dict[str, Any]) -> DriftSummary:
    results, order = data.get("metric_results"), data.get("top_level_metrics")
    if not isinstance(results, dict) or not isinstance(order, list):
        raise ReportFormatError("snapshot without metric_results/top_level_metrics")
    metrics: list[dict[str, Any]] = []
    tests: list[Any] = []
    for metric_id in order:
        result = _obj(results.get(metric_id), f"metric_results[{metric_id!r}]")
        location = _obj(result.get("metric_value_location"), "metric_value_location")
        config = _obj(_obj(location.get("metric"), "metric").get("params"), "metric params")
        if "share" in result and "count" in result:  # CountValue
            value: Any = {
                "count": _obj(result["count"], "count").get("value"),
                "share": _obj(result["share"], "share").get("value"),
            }
        else:
            value = result.get("value")
        metrics.append({"id": metric_id, "config": config, "value": value})
        tests.extend(result.get("tests") or [])
    summary = _from_results(metrics, tests)
    metadata = data.get("metadata") or {}
    tags = data.get("tags") or []
    if not isinstance(metadata, dict) or not isinstance(tags, list):
        raise ReportFormatError("snapshot metadata must be an object and tags a list")
    return DriftSummary(
        features=summary.features,
        drifted_count=summary.drifted_count,
        column_count=summary.column_count,
        drifted_share=summary.drifted_share,
        dataset_drift=summary.dataset_drift,
        metadata=metadata,
        tags=tuple(str(t) for t in tags),
        timestamp=parse_time(data.get("timestamp")),
    )


def _from_results(metrics: list[Any], tests: list[Any]) -> DriftSummary:
    verdicts = _test_verdicts(tests)
    features: list[DriftFeature] = []
    count: dict[str, Any] | None = None
    for entry in metrics:
        metric = _obj(entry, "metrics entry")
        config = _obj(metric.get("config"), "metric config")
        kind = str(config.get("type", ""))
        if kind.endswith(":DriftedColumnsCount"):
            count = {
                **_obj(metric.get("value"), "DriftedColumnsCount value"),
                **config,
                "verdict": verdicts.get(str(metric.get("id"))),
            }
        elif kind.endswith(":ValueDrift"):
            column, method = config.get("column"), config.get("method")
            score, threshold = _num(metric.get("value")), _num(config.get("threshold"))
            if not isinstance(column, str) or not isinstance(method, str):
                raise ReportFormatError(f"ValueDrift without column or method: {config}")
            verdict = verdicts.get(str(metric.get("id")))
            drifted = is_drifted(method, score, threshold) if verdict is None else verdict
            features.append(DriftFeature(column, method, score, threshold, drifted))
    if count is None and not features:
        raise ReportFormatError("no DriftedColumnsCount or ValueDrift metric: not a drift report")
    n_drifted = sum(f.drifted for f in features)
    share = n_drifted / len(features) if features else 0.0
    drift_share = 0.5
    verdict = None
    if count is not None:
        n_drifted, share = int(_num(count.get("count"))), _num(count.get("share"))
        drift_share = _num(count.get("drift_share", 0.5))
        verdict = count["verdict"]
    return DriftSummary(
        features=tuple(features),
        drifted_count=n_drifted,
        column_count=len(features),
        drifted_share=share,
        dataset_drift=share >= drift_share if verdict is None else verdict,
    )


def _test_verdicts(tests: list[Any]) -> dict[str, bool]:
    """metric id -> True when its test failed; ERROR/other states give no verdict."""
    verdicts: dict[str, bool] = {}
    for test in tests:
        test = _obj(test, "tests entry")
        status = test.get("status")
        metric_id = (test.get("metric_config") or {}).get("metric_id")
        if metric_id is not None and status in ("SUCCESS", "FAIL"):
            verdicts[str(metric_id)] = status == "FAIL"
    return verdicts


def _from_legacy(data: dict[str, Any]) -> DriftSummary:
    table = dataset = None
    for entry in data["metrics"]:
        entry = _obj(entry, "metrics entry")
        result = entry.get("result")
        if isinstance(result, dict) and isinstance(result.get("drift_by_columns"), dict):
            table = table or result
        elif entry.get("metric") == "DatasetDriftMetric" and isinstance(result, dict):
            dataset = dataset or result
    summary_source = table or dataset
    if summary_source is None:
        raise ReportFormatError("legacy report without DataDriftTable or DatasetDriftMetric")
    features = tuple(
        DriftFeature(
            column=str(col.get("column_name", name)),
            method=str(col.get("stattest_name", "")),
            score=_num(col.get("drift_score")),
            threshold=_num(col.get("stattest_threshold")),
            drifted=bool(col.get("drift_detected")),
        )
        for name, col in (
            (n, _obj(c, f"drift_by_columns[{n!r}]"))
            for n, c in (table or {}).get("drift_by_columns", {}).items()
        )
    )
    return DriftSummary(
        features=features,
        drifted_count=int(_num(summary_source.get("number_of_drifted_columns"))),
        column_count=int(_num(summary_source.get("number_of_columns"))),
        drifted_share=_num(summary_source.get("share_of_drifted_columns")),
        dataset_drift=bool(summary_source.get("dataset_drift")),
        timestamp=parse_time(data.get("timestamp")),
    )


def parse_time(value: Any) -> datetime | None:
    """ISO text (naive means UTC, as Evidently writes naive local-less timestamps)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ReportFormatError(f"timestamp {value!r} is not text")
    try:
        return utc(datetime.fromisoformat(value))
    except ValueError:
        raise ReportFormatError(f"unparseable timestamp {value!r}") from None


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ReportFormatError(f"{what} is not an object")
    return value


def _num(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReportFormatError(f"expected a number, got {value!r}")
    return float(value)
