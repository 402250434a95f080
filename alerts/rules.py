"""Evaluating alert rules on frames: pure, no store, no clock (habit 8).

A rule's settings are `config.alerting.AlertRule`; this module turns the frame its condition
reads (fetched by `alerts.inputs`) into alert *instances*: one per identity the condition
watches (one per column of a feature-drift rule, one per pipeline of a pipeline rule),
each with its value (None for no data), whether the condition holds, and the evidence a
ticket shows (when the value was measured, over which window, the run or report it came
from). Everything is judged as of an explicit `now`: data stamped after it is ignored, so
an evaluation at a controlled instant is reproducible.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from config.alerting import (
    AlertRule,
    DataQualityCondition,
    DriftCondition,
    FeatureDriftCondition,
    ModelMetricCondition,
    PipelineFailuresCondition,
    PipelineFreshnessCondition,
    UsageChangeCondition,
    UsageCondition,
)
from config.base import Op, format_duration
from kpis._time import utc_timestamp
from kpis.health import latest_value


@dataclass(frozen=True)
class Instance:
    """One alert instance's reading at `now`."""

    labels: dict[str, str]
    value: float | None
    holds: bool | None  # None when there is no value
    evidence: dict[str, str] = field(default_factory=dict)


def fingerprint(rule: str, labels: Mapping[str, str]) -> str:
    """Stable id of an alert instance: the rule name and its sorted labels, hashed.

    Written into every tracker as a label, so it must never change for the same instance:
    it depends on nothing but the rule's name and the label values.
    """
    text = json.dumps([rule, sorted(labels.items())], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def holds(value: float, op: Op, threshold: float) -> bool:
    """Whether `value op threshold` (the condition is a problem when it holds)."""
    if op == ">=":
        return value >= threshold
    if op == ">":
        return value > threshold
    if op == "<=":
        return value <= threshold
    if op == "<":
        return value < threshold
    raise ValueError(f"unknown op {op!r}")


def static_labels(rule: AlertRule) -> dict[str, str]:
    """The labels known without data: the rule's own and the condition's fixed ones."""
    c = rule.condition
    labels = dict(rule.labels)
    match c:
        case ModelMetricCondition():
            labels["model"] = c.model
            if c.version is None:
                labels["alias"] = str(c.alias)
            else:
                labels["version"] = c.version
            labels["metric"] = c.metric
        case DriftCondition() | FeatureDriftCondition():
            labels["dataset"] = c.dataset
        case DataQualityCondition():
            labels["dataset"] = c.dataset
            labels["metric"] = c.metric
        case PipelineFailuresCondition() | PipelineFreshnessCondition():
            if c.pipeline is not None:
                labels["pipeline"] = c.pipeline
        case UsageCondition() | UsageChangeCondition():
            labels["kpi"] = c.kpi
    return labels


def _instance(rule: AlertRule, labels: Mapping[str, str], value: float | None,
              **evidence: object) -> Instance:
    if value is not None and math.isnan(value):
        value = None
    verdict = None if value is None else holds(value, rule.condition.op, rule.condition.threshold)
    shown = {k: _text(v) for k, v in evidence.items() if v is not None and not _missing(v)}
    return Instance(dict(labels), value, verdict, shown)


def _missing(value: object) -> bool:
    return bool(value is pd.NaT or (isinstance(value, float) and math.isnan(value)))


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return pd.Timestamp(value).isoformat()
    return str(value)


def _upto(df: pd.DataFrame, column: str, now: pd.Timestamp) -> pd.DataFrame:
    return df.loc[df[column].notna() & (df[column] <= now)] if len(df) else df


def evaluate(rule: AlertRule, frame: pd.DataFrame, *, now: datetime) -> list[Instance]:
    """The rule's instances at `now`, from the frame `alerts.inputs.fetch` read for it."""
    at = utc_timestamp(now, name="now")
    base = static_labels(rule)
    c = rule.condition
    match c:
        case ModelMetricCondition():
            return [_latest_point(rule, base, frame, at)]
        case UsageCondition():
            return [_latest_point(rule, base, frame, at)]
        case DriftCondition():
            reports = _upto(frame, "window_end", at).sort_values("window_end", kind="stable")
            if reports.empty:
                return [_instance(rule, base, None)]
            last = reports.iloc[-1]
            return [_instance(rule, base, float(last["drifted_share"]),
                              observed_at=last["window_end"],
                              window=f"{_text(last['window_start'])} to "
                                    f"{_text(last['window_end'])}",
                              drifted=f"{int(last['drifted_count'])} of "
                                      f"{int(last['column_count'])} columns",
                              report_path=last["report_path"])]
        case FeatureDriftCondition():
            return _feature_drift(rule, c, base, frame, at)
        case DataQualityCondition():
            rows = _upto(frame, "ts", at).sort_values("ts", kind="stable")
            if rows.empty:
                return [_instance(rule, base, None)]
            last = rows.iloc[-1]
            return [_instance(rule, base, float(last[c.metric]), observed_at=last["ts"])]
        case PipelineFailuresCondition():
            return _pipeline_failures(rule, c, base, frame, at)
        case PipelineFreshnessCondition():
            return _pipeline_freshness(rule, c, base, frame, at)
        case UsageChangeCondition():
            return [_usage_change(rule, c, base, frame, at)]
    raise TypeError(f"unknown condition {type(c).__name__}")


def _latest_point(rule: AlertRule, base: dict[str, str], points: pd.DataFrame,
                  at: pd.Timestamp) -> Instance:
    latest = latest_value(_upto(points, "ts", at))
    if latest is None:
        return _instance(rule, base, None)
    ts, value = latest
    row = points.loc[points["ts"] == ts].iloc[-1]
    return _instance(rule, base, value, observed_at=ts, version=points.attrs.get("version"),
                     run_id=row.get("run_id"), run_url=row.get("run_url"))


def _feature_drift(rule: AlertRule, c: FeatureDriftCondition, base: dict[str, str],
                   features: pd.DataFrame, at: pd.Timestamp) -> list[Instance]:
    seen = _upto(features, "window_end", at)
    latest = seen.loc[seen["window_end"] == seen["window_end"].max()] if len(seen) else seen
    found = sorted(set(latest["column"])) if len(latest) else []
    columns = list(c.columns) or found
    out = []
    for column in columns:
        row = latest.loc[latest["column"] == column] if len(latest) else latest
        labels = {**base, "column": column}
        if row.empty:
            out.append(_instance(rule, labels, None))
            continue
        first = row.iloc[0]
        out.append(_instance(rule, labels, float(first["score"]), observed_at=first["window_end"],
                             method=first["method"], drifted=bool(first["drifted"])))
    return out


def _pipelines(c: PipelineFailuresCondition | PipelineFreshnessCondition,
               runs: pd.DataFrame) -> list[str]:
    if c.pipeline is not None:
        return [c.pipeline]
    return sorted(set(runs["pipeline"].dropna())) if len(runs) else []


def _pipeline_failures(rule: AlertRule, c: PipelineFailuresCondition, base: dict[str, str],
                       runs: pd.DataFrame, at: pd.Timestamp) -> list[Instance]:
    """Failed runs per pipeline whose end (or start, while unfinished) lies in
    (now - window, now]; a pipeline with no failure there counts 0."""
    if len(runs):
        when = runs["end"].fillna(runs["start"])
        runs = runs.assign(_at=when).loc[(when > at - c.window) & (when <= at)]
    out = []
    for pipeline in _pipelines(c, runs):
        mine = runs.loc[runs["pipeline"] == pipeline] if len(runs) else runs
        failed = mine.loc[mine["state"] == "failed"] if len(mine) else mine
        last_url = failed.sort_values("_at")["url"].dropna().iloc[-1] \
            if len(failed) and failed["url"].notna().any() else None
        out.append(_instance(rule, {**base, "pipeline": pipeline}, float(len(failed)),
                             window=format_duration(c.window), runs=len(mine), run_url=last_url))
    return out


def _pipeline_freshness(rule: AlertRule, c: PipelineFreshnessCondition,
                        base: dict[str, str], runs: pd.DataFrame,
                        at: pd.Timestamp) -> list[Instance]:
    """Hours since each pipeline's last successful run ended. A pipeline that never
    succeeded counts from its first run's start (a lower bound on how stale it is)."""
    runs = _upto(runs, "start", at)
    out = []
    for pipeline in _pipelines(c, runs):
        mine = runs.loc[runs["pipeline"] == pipeline] if len(runs) else runs
        ok = mine.loc[(mine["state"] == "success") & mine["end"].notna()
                      & (mine["end"] <= at)] if len(mine) else mine
        labels = {**base, "pipeline": pipeline}
        if len(ok):
            last = ok["end"].max()
            out.append(_instance(rule, labels, (at - last).total_seconds() / 3600,
                                 last_success=last))
        elif len(mine):
            first = mine["start"].min()
            out.append(_instance(rule, labels, (at - first).total_seconds() / 3600,
                                 last_success="never", first_run=first))
        else:
            out.append(_instance(rule, labels, None))
    return out


def _usage_change(rule: AlertRule, c: UsageChangeCondition, base: dict[str, str],
                  points: pd.DataFrame, at: pd.Timestamp) -> Instance:
    """(mean of (now-w, now] - mean of (now-2w, now-w]) / |previous mean|; None when a
    window is empty or the previous mean is 0."""
    values = points.loc[points["value"].notna()] if len(points) else points
    this = values.loc[(values["ts"] > at - c.window) & (values["ts"] <= at)] if len(values) \
        else values
    before = values.loc[(values["ts"] > at - 2 * c.window) & (values["ts"] <= at - c.window)] \
        if len(values) else values
    if this.empty or before.empty or float(before["value"].mean()) == 0:
        return _instance(rule, base, None, window=format_duration(c.window))
    previous, current = float(before["value"].mean()), float(this["value"].mean())
    return _instance(rule, base, (current - previous) / abs(previous),
                     window=format_duration(c.window), current_mean=round(current, 4),
                     previous_mean=round(previous, 4), observed_at=this["ts"].max())

