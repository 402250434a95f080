"""Measuring a health signal at an instant: the one computation behind objectives, alert
rules and the pages' health figures.

`read_signal(signal, frame, as_of=...)` takes the frame `store.signals` reads for the
signal and returns one `Reading` per instance (one for most kinds; one per pipeline or per
column for the kinds that watch several). Data after `as_of` is ignored, windows are
half-open (as_of - window, as_of], and each reading says in words what it measured, so a
tile, a ticket and a test can all quote the same sentence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from config.base import format_duration
from config.signals import (
    AggregatedSignal,
    DataQualitySignal,
    DriftSignal,
    FeatureDriftSignal,
    ModelMetricSignal,
    PipelineFailuresSignal,
    PipelineFreshnessSignal,
    PipelineSuccessSignal,
    Signal,
    UsageChangeSignal,
    UsageSignal,
    window_and_aggregation,
)
from kpis._time import utc_timestamp

FINISHED_STATES = ("success", "failed")


@dataclass(frozen=True)
class Reading:
    """One instance of a signal measured at an instant; `value` None when there is nothing
    to judge (no data, or too little: `insufficient`)."""

    labels: Mapping[str, str]
    value: float | None
    observed_at: datetime | None
    detail: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    insufficient: bool = False


def _fmt(ts: pd.Timestamp) -> str:
    return f"{ts:%Y-%m-%d %H:%M} UTC"


# ------------------------------------------------------------ aggregation


def aggregate(values: np.ndarray, how: str) -> float | None:
    """`how` of `values` (oldest first): last, mean, median, min, max, sum, count, pNN."""
    finite = values[~np.isnan(values)]
    if how == "count":
        return float(len(finite))
    if len(finite) == 0:
        return None
    if how == "last":
        return float(finite[-1])
    if how.startswith("p"):
        return float(np.percentile(finite, float(how[1:])))
    ops: dict[str, Callable[[np.ndarray], Any]] = {
        "mean": np.mean, "median": np.median, "min": np.min, "max": np.max, "sum": np.sum,
    }
    return float(ops[how](finite))


def aggregate_rolled_up(rows: pd.DataFrame, how: str) -> float | None:
    """`aggregate` of the values that rows [n, total, lo, hi] stand for: raw points (n 1,
    or 0 when NaN) and hours rolled up by the store (`store/windows.py`); mean, sum, count,
    min and max only, the aggregations a count, a sum and extremes give exactly."""
    n = int(rows["n"].sum())
    if how == "count":
        return float(n)
    if n == 0:
        return None
    if how == "mean":
        return float(rows["total"].sum()) / n
    if how == "sum":
        return float(rows["total"].sum())
    if how in ("min", "max"):
        return float(rows["lo"].min() if how == "min" else rows["hi"].max())
    raise ValueError(f"{how} cannot be computed from rollups")


def _measured(rows: pd.DataFrame, value: str, how: str) -> tuple[float | None, int]:
    """The window's aggregate and how many values (not NaN) it was taken over."""
    if "n" in rows.columns:  # a frame of raw points and rolled-up hours
        return aggregate_rolled_up(rows, how), int(rows["n"].sum())
    values = rows[value].to_numpy(dtype=float)
    return aggregate(values, how), int(np.count_nonzero(~np.isnan(values)))


def _window_rows(frame: pd.DataFrame, ts: str, at: pd.Timestamp,
                 window: timedelta | None) -> pd.DataFrame:
    """Rows with `ts` in (at - window, at] (or at or before `at` with no window), oldest
    first."""
    if frame.empty:
        return frame
    mask = frame[ts].notna() & (frame[ts] <= at)
    if window is not None:
        mask &= frame[ts] > at - window
    return frame.loc[mask].sort_values(ts, kind="stable")


def _over(window: timedelta | None, how: str, at: pd.Timestamp) -> str:
    if window is None:
        return "latest value" if how == "last" else f"{how} of all values"
    return f"{how} over the {format_duration(window)} to {_fmt(at)}"


def _anchor(frame: pd.DataFrame, ts: str, at: pd.Timestamp) -> pd.Timestamp:
    """Where a window ends: at the newest value at or before `at` (or `at` with none).

    A daily KPI stamped at midnight then always has the same number of values in a 7-day
    window, whatever the hour: a window ending at Monday 09:00 would hold six days (the
    previous Monday's point falls just outside and today's is not in yet), two of them a
    weekend, and the mean would dip every Monday. How old that newest value is, is the
    collector's freshness (Sources page), not a health verdict.
    """
    seen = frame.loc[frame[ts].notna() & (frame[ts] <= at), ts] if len(frame) else frame
    return pd.Timestamp(seen.max()) if len(seen) else at


def _aggregated(signal: AggregatedSignal, frame: pd.DataFrame, value: str, ts: str,
                at: pd.Timestamp, labels: Mapping[str, str],
                evidence: Callable[[pd.Series], dict[str, Any]] | None = None) -> Reading:
    window, how = window_and_aggregation(signal)
    if window is not None:
        at = _anchor(frame, ts, at)
    rows = _window_rows(frame, ts, at, window)
    result, count = _measured(rows, value, how) if len(rows) else (None, 0)
    if how == "count" and result is None:
        result = 0.0
    if result is None:
        where = f"in the {format_duration(window)} to" if window else "at or before"
        return Reading(labels, None, None, f"no value {where} {_fmt(at)}")
    last = rows.iloc[-1]
    when = pd.Timestamp(last[ts])
    detail = (f"{result:.4g} at {_fmt(when)}" if how == "last"
              else f"{result:.4g}, {_over(window, how, at)} ({count} values)")
    extra = evidence(last) if evidence else {}
    return Reading(labels, result, when.to_pydatetime(), detail,
                   {"observed_at": when, **({"window": format_duration(window)} if window
                                            else {}), **extra})


# ------------------------------------------------------------ kinds


def _model_metric(s: ModelMetricSignal, points: pd.DataFrame, at: pd.Timestamp
                  ) -> list[Reading]:
    def evidence(row: pd.Series) -> dict[str, Any]:
        return {"version": points.attrs.get("version"), "run_id": row.get("run_id"),
                "run_url": row.get("run_url")}
    return [_aggregated(s, points, "value", "ts", at, {}, evidence)]


def _usage(s: UsageSignal, points: pd.DataFrame, at: pd.Timestamp) -> list[Reading]:
    return [_aggregated(s, points, "value", "ts", at, {})]


def _data_quality(s: DataQualitySignal, rows: pd.DataFrame, at: pd.Timestamp
                  ) -> list[Reading]:
    return [_aggregated(s, rows, s.metric, "ts", at, {})]


def _sufficient(reports: pd.DataFrame, min_rows: int) -> pd.Series:
    """Reports over at least `min_rows` current rows; an unknown row count is not held
    against a report (imported reports may not say)."""
    if "rows" not in reports:
        return pd.Series(True, index=reports.index)
    return reports["rows"].isna() | (reports["rows"] >= min_rows)


def _drift(s: DriftSignal, reports: pd.DataFrame, at: pd.Timestamp) -> list[Reading]:
    window, how = window_and_aggregation(s)
    seen = _window_rows(reports, "window_end", at, window)
    if seen.empty:
        return [Reading({}, None, None, f"no drift report by {_fmt(at)}")]
    ok = _sufficient(seen, s.min_rows)
    judged = seen.loc[ok] if how != "last" else seen.iloc[[-1]].loc[ok.iloc[[-1]]]
    if judged.empty:
        last = seen.iloc[-1]
        rows = int(last["rows"])
        return [Reading({}, None, pd.Timestamp(last["window_end"]).to_pydatetime(),
                        f"insufficient data: {rows} rows in the window to "
                        f"{_fmt(pd.Timestamp(last['window_end']))}, fewer than {s.min_rows}",
                        {"rows": rows, "min_rows": s.min_rows}, insufficient=True)]
    value = aggregate(judged["drifted_share"].to_numpy(dtype=float), how)
    last = judged.iloc[-1]
    end = pd.Timestamp(last["window_end"])
    detail = (f"{value:.4g}: {int(last['drifted_count'])} of {int(last['column_count'])} "
              f"columns drifted in the window to {_fmt(end)}" if how == "last"
              else f"{value:.4g}, {_over(window, how, at)} ({len(judged)} reports)")
    return [Reading({}, value, end.to_pydatetime(), detail, {
        "observed_at": end,
        "window": f"{pd.Timestamp(last['window_start']).isoformat()} to {end.isoformat()}",
        "drifted": f"{int(last['drifted_count'])} of {int(last['column_count'])} columns",
        "report_path": last.get("report_path"),
    })]


def _latest_report(features: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """The feature rows of the newest report at or before `at`, the first row of each
    column, indexed by column (one pass: a sparkline asks this at 29 instants of a
    history of thousands of rows)."""
    if features.empty:
        return features.set_index("column") if "column" in features else features
    ends = features["window_end"]
    seen = ends.notna() & (ends <= at)
    if not seen.any():
        return features.iloc[0:0].set_index("column")
    latest = features.loc[ends == ends[seen].max()]
    return latest.drop_duplicates("column", keep="first").set_index("column", drop=False)


def _feature_drift(s: FeatureDriftSignal, features: pd.DataFrame, at: pd.Timestamp
                   ) -> list[Reading]:
    latest = _latest_report(features, at)
    columns = list(s.columns) or sorted(latest.index)
    sufficient = _sufficient(latest, s.min_rows) if len(latest) else latest
    out = []
    for column in columns:
        labels = {"column": column}
        if column not in latest.index:
            out.append(Reading(labels, None, None, f"no report with column {column!r}"))
            continue
        first = latest.loc[column]
        end = pd.Timestamp(first["window_end"])
        if not sufficient.loc[column]:
            out.append(Reading(labels, None, end.to_pydatetime(),
                               f"insufficient data: {int(first['rows'])} rows, fewer than "
                               f"{s.min_rows}", insufficient=True))
            continue
        out.append(Reading(labels, float(first["score"]), end.to_pydatetime(),
                           f"score {float(first['score']):.4g} ({first['method']}) in the "
                           f"window to {_fmt(end)}",
                           {"observed_at": end, "method": first["method"],
                            "drifted": bool(first["drifted"])}))
    return out


def finished_runs(runs: pd.DataFrame, at: pd.Timestamp, window: timedelta,
                  pipeline: str | None) -> pd.DataFrame:
    """Runs that succeeded or failed with an end in (at - window, at]."""
    if runs.empty:
        return runs
    mask = (runs["state"].isin(FINISHED_STATES) & runs["end"].notna()
            & (runs["end"] > at - window) & (runs["end"] <= at))
    if pipeline is not None:
        mask &= runs["pipeline"] == pipeline
    return runs.loc[mask]


def _success_rate(s: PipelineSuccessSignal, runs: pd.DataFrame, at: pd.Timestamp
                  ) -> list[Reading]:
    finished = finished_runs(runs, at, s.window, s.pipeline)
    scope = f"pipeline {s.pipeline}" if s.pipeline else "all pipelines"
    labels = {"pipeline": s.pipeline} if s.pipeline else {}
    span = f"{format_duration(s.window)} to {_fmt(at)}"
    if finished.empty:
        return [Reading(labels, None, at.to_pydatetime(),
                        f"no finished run ({scope}) in the {span}")]
    ok = int((finished["state"] == "success").sum())
    return [Reading(labels, ok / len(finished), at.to_pydatetime(),
                    f"{ok} of {len(finished)} finished runs succeeded ({scope}, {span})",
                    {"window": format_duration(s.window), "runs": len(finished)})]


def _pipelines(pipeline: str | None, runs: pd.DataFrame) -> list[str]:
    if pipeline is not None:
        return [pipeline]
    return sorted(set(runs["pipeline"].dropna())) if len(runs) else []


def _failures(s: PipelineFailuresSignal, runs: pd.DataFrame, at: pd.Timestamp
              ) -> list[Reading]:
    """Failed runs per pipeline whose end (or start, while unfinished) lies in the window;
    a pipeline with no failure there counts 0."""
    if len(runs):
        when = runs["end"].fillna(runs["start"])
        runs = runs.assign(_at=when).loc[(when > at - s.window) & (when <= at)]
    out = []
    for pipeline in _pipelines(s.pipeline, runs):
        mine = runs.loc[runs["pipeline"] == pipeline] if len(runs) else runs
        failed = mine.loc[mine["state"] == "failed"] if len(mine) else mine
        urls = failed.sort_values("_at")["url"].dropna() if len(failed) else failed
        out.append(Reading({"pipeline": pipeline}, float(len(failed)), at.to_pydatetime(),
                           f"{len(failed)} of {len(mine)} runs failed in the "
                           f"{format_duration(s.window)} to {_fmt(at)}",
                           {"window": format_duration(s.window), "runs": len(mine),
                            "run_url": urls.iloc[-1] if len(urls) else None}))
    return out


def _freshness(s: PipelineFreshnessSignal, runs: pd.DataFrame, at: pd.Timestamp
               ) -> list[Reading]:
    """Hours since each pipeline's last successful run ended; a pipeline that never
    succeeded counts from its first run's start (a lower bound on how stale it is)."""
    runs = _window_rows(runs, "start", at, None)
    out = []
    for pipeline in _pipelines(s.pipeline, runs):
        mine = runs.loc[runs["pipeline"] == pipeline] if len(runs) else runs
        ok = mine.loc[(mine["state"] == "success") & mine["end"].notna()
                      & (mine["end"] <= at)] if len(mine) else mine
        labels = {"pipeline": pipeline}
        if len(ok):
            last = pd.Timestamp(ok["end"].max())
            hours = (at - last).total_seconds() / 3600
            out.append(Reading(labels, hours, at.to_pydatetime(),
                               f"{hours:.1f} h since the last success ({_fmt(last)})",
                               {"last_success": last}))
        elif len(mine):
            first = pd.Timestamp(mine["start"].min())
            hours = (at - first).total_seconds() / 3600
            out.append(Reading(labels, hours, at.to_pydatetime(),
                               f"never succeeded; {hours:.1f} h since its first run",
                               {"last_success": "never", "first_run": first}))
        else:
            out.append(Reading(labels, None, None, "no run"))
    return out


def _mean(rows: pd.DataFrame) -> float:
    """Mean of the window's values, NaN left out; from counts and sums when the frame
    holds rolled-up hours."""
    if "n" in rows.columns:
        return float(rows["total"].sum()) / int(rows["n"].sum())
    return float(rows["value"].mean())


def _usage_change(s: UsageChangeSignal, points: pd.DataFrame, at: pd.Timestamp
                  ) -> list[Reading]:
    """(mean of (at-w, at] - mean of (at-2w, at-w]) / |previous mean|; none when a window
    is empty or the previous mean is 0."""
    values = points.loc[points["value"].notna()] if len(points) else points
    at = _anchor(values, "ts", at)
    this = _window_rows(values, "ts", at, s.window)
    before = _window_rows(values, "ts", at - s.window, s.window)
    span = format_duration(s.window)
    if this.empty or before.empty or _mean(before) == 0:
        return [Reading({}, None, None, f"no two {span} windows to compare", {"window": span})]
    previous, current = _mean(before), _mean(this)
    change = (current - previous) / abs(previous)
    return [Reading({}, change, pd.Timestamp(this["ts"].max()).to_pydatetime(),
                    f"{change:+.1%}: mean {current:.4g} over the last {span} against "
                    f"{previous:.4g} the {span} before",
                    {"window": span, "current_mean": round(current, 4),
                     "previous_mean": round(previous, 4),
                     "observed_at": pd.Timestamp(this["ts"].max())})]


_READERS: dict[type, Callable[[Any, pd.DataFrame, pd.Timestamp], list[Reading]]] = {
    ModelMetricSignal: _model_metric,
    DriftSignal: _drift,
    FeatureDriftSignal: _feature_drift,
    DataQualitySignal: _data_quality,
    PipelineSuccessSignal: _success_rate,
    PipelineFailuresSignal: _failures,
    PipelineFreshnessSignal: _freshness,
    UsageSignal: _usage,
    UsageChangeSignal: _usage_change,
}


def read_signal(signal: Signal, frame: pd.DataFrame, *, as_of: datetime) -> list[Reading]:
    """The signal's readings at `as_of` (one per instance) from the frame
    `store.signals.signal_frame` read for it."""
    at = utc_timestamp(as_of)
    for kind, reader in _READERS.items():
        if isinstance(signal, kind):
            return reader(signal, frame, at)
    raise TypeError(f"unknown signal {type(signal).__name__}")


def daily_instants(as_of: datetime, days: int) -> list[pd.Timestamp]:
    """as_of - (days - 1) days, ..., as_of - 1 day, as_of: where `readings_over_days` reads,
    so a store read can be limited to what those readings need."""
    if days <= 0:
        raise ValueError("days must be positive")
    at = utc_timestamp(as_of)
    return [at - timedelta(days=back) for back in range(days - 1, -1, -1)]


def readings_over_days(signal: Signal, frame: pd.DataFrame, *, as_of: datetime, days: int
                       ) -> pd.DataFrame:
    """[ts, value]: the signal as it read at as_of, as_of - 1 day, ... (its first instance),
    so a sparkline shows exactly what was judged; instants without a value are left out."""
    rows = []
    for instant in daily_instants(as_of, days):
        readings = read_signal(signal, frame, as_of=instant)
        if readings and readings[0].value is not None and not math.isnan(readings[0].value):
            rows.append((instant, readings[0].value))
    return pd.DataFrame(rows, columns=["ts", "value"]).astype({"value": float})
