"""Read the drift summary and data quality out of Evidently report JSON, in the shapes
teams save.

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
* **legacy snapshot** (`evidently.legacy` `report.save()`, workspaces of Evidently before
  0.7): `{"id", "timestamp", "metadata", "tags", "suite": {"metrics": [configs],
  "metric_results": [results]}}`, read as the legacy shape.

Data quality is read where the report has it: 0.7 `RowCount` and
`DatasetMissingValueCount` (with `ColumnCount`; all three are in `DataSummaryPreset`), or
legacy `DatasetSummaryMetric`. A report may hold drift, data quality, both, or neither
(`read_report` says which; `summarize` insists on drift).

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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
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
    """The JSON is not a report dspo can read; the caller names the file."""


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


@dataclass(frozen=True)
class QualitySummary:
    """Dataset-level data quality of the current data: rows, columns, missing cells.

    `missing_share` is missing cells / (rows x columns), as dspo computes it for its own
    reports; Evidently's `DatasetMissingValueCount.share` divides by rows only."""

    rows: int
    columns: int
    missing_share: float


@dataclass(frozen=True)
class ReportContent:
    """What dspo reads from one report: its drift and data quality (either may be absent)
    and the report's own identity (metadata, tags, timestamp; name of 0.7 snapshots)."""

    drift: DriftSummary | None
    quality: QualitySummary | None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    timestamp: datetime | None = None
    name: str | None = None


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
    """The drift summary of any shape; ReportFormatError when there is none."""
    content = read_report(data)
    if content.drift is None:
        raise ReportFormatError(
            "no DriftedColumnsCount or ValueDrift metric: not a drift report"
        )
    return content.drift


def read_report(data: Any, tz: tzinfo = UTC) -> ReportContent:
    """Drift and data quality of any of the shapes; ReportFormatError on anything else.
    The report's own timestamp, when it has no offset, is taken to be in `tz`."""
    if not isinstance(data, dict):
        raise ReportFormatError("expected a JSON object")
    if isinstance(data.get("suite"), dict):  # a legacy snapshot (report.save(), old workspaces)
        return _from_legacy(_legacy_snapshot_as_report(data), identity=data, tz=tz)
    if "metric_results" in data:
        snapshot_metrics, tests = _snapshot_metrics(data)
        return _from_results(snapshot_metrics, tests, identity=data, tz=tz)
    metrics = data.get("metrics")
    if not isinstance(metrics, list):
        raise ReportFormatError(
            "no 'metrics' list and no 'metric_results': not an Evidently report"
        )
    if any(isinstance(m, dict) and "result" in m and "metric" in m for m in metrics):
        return _from_legacy(data, identity=data, tz=tz)
    return _from_results(metrics, data.get("tests") or [], identity=data, tz=tz)


def _content(
    drift: DriftSummary | None,
    quality: QualitySummary | None,
    identity: dict[str, Any],
    tz: tzinfo,
) -> ReportContent:
    """Attach the report's own metadata, tags, timestamp and name (absent in some shapes)."""
    metadata = identity.get("metadata") or {}
    tags = identity.get("tags") or []
    if not isinstance(metadata, dict) or not isinstance(tags, list):
        raise ReportFormatError("report metadata must be an object and tags a list")
    texts = tuple(str(t) for t in tags)
    timestamp = parse_time(identity.get("timestamp"), tz)
    if drift is not None:
        drift = replace(drift, metadata=metadata, tags=texts, timestamp=timestamp)
    name = identity.get("name")
    return ReportContent(
        drift=drift,
        quality=quality,
        metadata=metadata,
        tags=texts,
        timestamp=timestamp,
        name=name if isinstance(name, str) and name else None,
    )


def _from_results(
    metrics: list[Any], tests: list[Any], identity: dict[str, Any], tz: tzinfo
) -> ReportContent:
    drift = _drift(metrics, tests)
    return _content(drift, _quality(metrics, drift), identity, tz)


def _snapshot_metrics(data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Any]]:
    """A 0.7 snapshot's top-level metrics in the results shape: {id, config, value}."""
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
    return metrics, tests


def _drift(metrics: list[Any], tests: list[Any]) -> DriftSummary | None:
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
        return None
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


def _quality(metrics: list[Any], drift: DriftSummary | None) -> QualitySummary | None:
    """Rows and missing cells from RowCount and DatasetMissingValueCount (both in
    DataSummaryPreset); columns from ColumnCount, else the drift report's column count."""
    rows = columns = missing = None
    for entry in metrics:
        metric = _obj(entry, "metrics entry")
        config = _obj(metric.get("config"), "metric config")
        kind = str(config.get("type", "")).rpartition(":")[2]
        if kind == "RowCount":
            rows = int(_num(metric.get("value")))
        elif kind == "ColumnCount" and config.get("column_type") is None:
            columns = int(_num(metric.get("value")))
        elif kind == "DatasetMissingValueCount":
            missing = _num(_obj(metric.get("value"), "DatasetMissingValueCount value").get("count"))
    if rows is None or missing is None:
        return None
    if columns is None:
        columns = drift.column_count if drift is not None else 0
    cells = rows * columns
    return QualitySummary(rows, columns, missing / cells if cells else 0.0)


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


def _legacy_snapshot_as_report(data: dict[str, Any]) -> dict[str, Any]:
    """A legacy snapshot keeps metric configs and results in two parallel lists."""
    suite = data["suite"]
    configs, results = suite.get("metrics"), suite.get("metric_results")
    if not isinstance(configs, list) or not isinstance(results, list):
        raise ReportFormatError("legacy snapshot without suite.metrics/metric_results")
    return {
        "metrics": [
            {"metric": str(_obj(c, "suite.metrics entry").get("type", "")).rpartition(":")[2],
             "result": r}
            for c, r in zip(configs, results, strict=False)
        ]
    }


def _from_legacy(data: dict[str, Any], identity: dict[str, Any], tz: tzinfo) -> ReportContent:
    table = dataset = summary = None
    for entry in data["metrics"]:
        entry = _obj(entry, "metrics entry")
        result = entry.get("result")
        if not isinstance(result, dict):
            continue
        if isinstance(result.get("drift_by_columns"), dict):
            table = table or result
        elif entry.get("metric") == "DatasetDriftMetric":
            dataset = dataset or result
        elif entry.get("metric") == "DatasetSummaryMetric":
            summary = summary or result
    drift = _legacy_drift(table, dataset) if (table or dataset) is not None else None
    return _content(drift, _legacy_quality(summary), identity, tz)


def _legacy_drift(table: dict[str, Any] | None, dataset: dict[str, Any] | None) -> DriftSummary:
    source = table or dataset
    assert source is not None
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
        drifted_count=int(_num(source.get("number_of_drifted_columns"))),
        column_count=int(_num(source.get("number_of_columns"))),
        drifted_share=_num(source.get("share_of_drifted_columns")),
        dataset_drift=bool(source.get("dataset_drift")),
    )


def _legacy_quality(summary: dict[str, Any] | None) -> QualitySummary | None:
    current = summary.get("current") if summary is not None else None
    if not isinstance(current, dict):
        return None
    rows = int(_num(current.get("number_of_rows")))
    columns = int(_num(current.get("number_of_columns")))
    missing = _num(current.get("number_of_missing_values"))
    cells = rows * columns
    return QualitySummary(rows, columns, missing / cells if cells else 0.0)


def parse_time(value: Any, tz: tzinfo = UTC) -> datetime | None:
    """ISO text; a time without an offset is in `tz` (Evidently writes naive times: the
    local time of the machine that ran the report, unless the caller passed a timestamp)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ReportFormatError(f"timestamp {value!r} is not text")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ReportFormatError(f"unparseable timestamp {value!r}") from None
    return utc(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz))


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ReportFormatError(f"{what} is not an object")
    return value


def _num(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReportFormatError(f"expected a number, got {value!r}")
    return float(value)
