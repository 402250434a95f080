"""Health signals: what is measured, over which window, aggregated how. One definition for
the health objectives of a product and the conditions of its alert rules.

An objective is a signal judged against a threshold (and a warning band); an alert
condition is a signal compared with a threshold, or an objective's status itself
(`kind: objective`). Both are read through `store.signals` and measured by
`kpis.signals`, so a page and an alert on the same signal can never disagree.

Each kind has a default window and aggregation, chosen so a signal does not flip on noise:

| kind | value | window | aggregation |
|---|---|---|---|
| model_metric | a metric of the version an alias names | all its points | last |
| drift | drifted share of the dataset's reports | none | last |
| feature_drift | each column's score in the latest report, per column | none | last |
| data_quality | rows or missing share of the dataset | none | last |
| pipeline_success_rate | finished runs that succeeded | 7d | share |
| pipeline_failures | failed runs, per pipeline | 1d | count |
| pipeline_freshness | hours since the last success, per pipeline | none | none |
| usage | a usage KPI | 7d | mean |
| usage_change | change of a usage KPI's mean against the window before | 7d | mean |

A drift report over fewer current rows than `min_rows` is insufficient data, not a verdict.
A window is trailing and half-open and ends at the signal's newest value at or before the
instant judged, (newest - window, newest], so a daily KPI's 7-day mean always covers seven
daily values whatever the hour (freshness is the Sources page's business); an aggregation
over an empty window gives no value.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, model_validator

from config.base import Duration, Strict

Aggregation = Literal["last", "mean", "median", "min", "max", "sum", "count", "p90", "p95",
                      "p99"]
AGGREGATIONS: tuple[str, ...] = ("last", "mean", "median", "min", "max", "sum", "count", "p90",
                                 "p95", "p99")
DEFAULT_MIN_ROWS = 200


class AggregatedSignal(Strict):
    """A point series aggregated over a trailing window."""

    window: Duration | None = Field(
        default=None,
        description="Trailing window the value is aggregated over, e.g. 7d; default per kind "
        "(see docs/configuration.md, Health signals).",
    )
    aggregation: Aggregation | None = Field(
        default=None,
        description="last, mean, median, min, max, sum, count, p90, p95 or p99 of the "
        "window's values; default per kind.",
    )

    @model_validator(mode="after")
    def _positive_window(self) -> AggregatedSignal:
        if self.window is not None and self.window <= timedelta(0):
            raise ValueError("window must be positive")
        return self


class ModelMetricSignal(AggregatedSignal):
    kind: Literal["model_metric"] = Field(description="A metric of a registered model version.")
    model: str = Field(description="Registered model name, as in the MLflow registry.")
    alias: str | None = Field(default="champion", description="Alias naming the version.")
    version: str | None = Field(default=None, description="A fixed version instead of an alias.")
    metric: str = Field(description="Metric key logged by the model's runs, e.g. auc.")


class DriftSignal(AggregatedSignal):
    kind: Literal["drift"] = Field(description="Drifted share of columns in a dataset's reports.")
    dataset: str = Field(description="Dataset name as configured in an evidently source.")
    min_rows: int = Field(
        default=DEFAULT_MIN_ROWS, ge=0,
        description="A report over fewer current rows is 'insufficient data', not a drift "
        "verdict (statistical tests on a handful of rows mostly say drifted).",
    )


class FeatureDriftSignal(Strict):
    kind: Literal["feature_drift"] = Field(
        description="Drift score of each column in the latest report: one instance per column."
    )
    dataset: str = Field(description="Dataset name of an evidently source.")
    columns: list[str] = Field(default_factory=list, description="Columns; empty means all.")
    min_rows: int = Field(default=DEFAULT_MIN_ROWS, ge=0,
                          description="Fewer current rows: insufficient data.")


class DataQualitySignal(AggregatedSignal):
    kind: Literal["data_quality"] = Field(description="Data quality of a dataset.")
    dataset: str = Field(description="Dataset name of an evidently source.")
    metric: Literal["rows", "missing_share"] = Field(description="rows or missing_share.")


class PipelineSuccessSignal(Strict):
    kind: Literal["pipeline_success_rate"] = Field(
        description="Share of finished pipeline runs that succeeded in a trailing window."
    )
    pipeline: str | None = Field(default=None, description="One pipeline; omit for all.")
    window: Duration = Field(default=timedelta(days=7), description="Trailing window, e.g. 7d.")
    window_days: int | None = Field(
        default=None, ge=1, description="Deprecated: the window in days; use window."
    )

    @model_validator(mode="before")
    @classmethod
    def _window_days_is_window(cls, data: Any) -> Any:
        """Configs from before `window` keep loading: `window_days: 7` means `window: 7d`."""
        if isinstance(data, dict) and data.get("window_days") is not None:
            if "window" in data:
                raise ValueError("give window (e.g. 7d), not also window_days")
            return {**data, "window": timedelta(days=int(data["window_days"]))}
        return data


class PipelineFailuresSignal(Strict):
    kind: Literal["pipeline_failures"] = Field(
        description="Failed runs in a trailing window: one instance per pipeline."
    )
    pipeline: str | None = Field(default=None, description="One pipeline; omit for each.")
    window: Duration = Field(default=timedelta(days=1), description="Trailing window, e.g. 1d.")


class PipelineFreshnessSignal(Strict):
    kind: Literal["pipeline_freshness"] = Field(
        description="Hours since the last successful run: one instance per pipeline."
    )
    pipeline: str | None = Field(default=None, description="One pipeline; omit for each.")


class UsageSignal(AggregatedSignal):
    kind: Literal["usage"] = Field(
        description="A usage KPI, by default its mean over the last 7 days."
    )
    kpi: str = Field(description="Query name of a sql_kpis source.")


class UsageChangeSignal(Strict):
    kind: Literal["usage_change"] = Field(
        description="Relative change of a usage KPI's mean: last window against the one "
        "before (-0.2 = down 20%)."
    )
    kpi: str = Field(description="Query name of a sql_kpis source.")
    window: Duration = Field(default=timedelta(days=7), description="Window length, e.g. 7d.")


Signal = (
    ModelMetricSignal | DriftSignal | FeatureDriftSignal | DataQualitySignal
    | PipelineSuccessSignal | PipelineFailuresSignal | PipelineFreshnessSignal | UsageSignal
    | UsageChangeSignal
)
SIGNAL_KINDS = ("model_metric", "drift", "feature_drift", "data_quality",
                "pipeline_success_rate", "pipeline_failures", "pipeline_freshness", "usage",
                "usage_change")

DEFAULTS: dict[str, tuple[timedelta | None, str]] = {
    "model_metric": (None, "last"),
    "drift": (None, "last"),
    "data_quality": (None, "last"),
    "usage": (timedelta(days=7), "mean"),
}
"""(window, aggregation) of each aggregated kind when the config gives none."""


def window_and_aggregation(signal: AggregatedSignal) -> tuple[timedelta | None, str]:
    """The window and aggregation a signal is measured with: its own, else its kind's."""
    window, aggregation = DEFAULTS[getattr(signal, "kind")]  # noqa: B009 - every kind has one
    return (signal.window if signal.window is not None else window,
            signal.aggregation or aggregation)


def signal_label_names(signal: Any) -> tuple[str, ...]:
    """The labels that identify one instance of a signal (and so an alert's fingerprint)."""
    match signal:
        case ModelMetricSignal():
            return ("model", "alias" if signal.version is None else "version", "metric")
        case DriftSignal():
            return ("dataset",)
        case FeatureDriftSignal():
            return ("dataset", "column")
        case DataQualitySignal():
            return ("dataset", "metric")
        case PipelineFailuresSignal() | PipelineFreshnessSignal() | PipelineSuccessSignal():
            return ("pipeline",)
        case UsageSignal() | UsageChangeSignal():
            return ("kpi",)
    raise TypeError(f"unknown signal {type(signal).__name__}")
