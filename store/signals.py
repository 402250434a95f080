"""The one query path of health signals: what each signal is measured on.

Objectives on every page and alert conditions read their data here and nowhere else, so a
datum has one source (a drift signal reads drift reports, never a copy of their share in
the points table). `kpis.signals.read_signal` measures what this returns.

Reads are bounded by the signal's window where it has one: `as_of - window - history`,
where `history` is how much earlier data a caller also wants (a 28-day sparkline).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pandas as pd

from config.signals import (
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
from store import queries, windows
from store.db import Store
from store.records import SeriesKind

FRESHNESS_LOOKBACK = timedelta(days=90)
"""How far back freshness looks for a pipeline's last success; older counts as never."""
SLACK = timedelta(days=1)  # runs that ended in the window may have started before it

EMPTY_POINTS = pd.DataFrame({"ts": pd.Series([], dtype="datetime64[ns, UTC]"),
                             "value": pd.Series([], dtype=float)})


def signal_frame(store: Store, product: str, signal: Signal, *, as_of: datetime,
                 history: timedelta = timedelta(0),
                 instants: Sequence[datetime] | None = None) -> pd.DataFrame:
    """The frame `kpis.signals.read_signal` measures `signal` on, at `as_of` and back to
    `history` before it.

    `instants`: the only instants the caller reads it at (a sparkline's days); a latest
    value without a window then reads just the newest point at or before each, however
    long the series. Data after `as_of` is never read: no reading uses it."""
    match signal:
        case ModelMetricSignal():
            return _model_metric(store, product, signal, _since(signal, as_of, history),
                                 as_of, instants)
        case DriftSignal():
            return _after(queries.drift_reports(store, product, signal.dataset), "window_end",
                          _since(signal, as_of, history))
        case FeatureDriftSignal():
            return queries.drift_features(store, product, signal.dataset)
        case DataQualitySignal():
            return _after(queries.data_quality(store, product, signal.dataset), "ts",
                          _since(signal, as_of, history))
        case PipelineSuccessSignal() | PipelineFailuresSignal():
            since = as_of - signal.window - history - SLACK
            return queries.pipeline_runs(store, product, since=since)
        case PipelineFreshnessSignal():
            return queries.pipeline_runs(store, product,
                                         since=as_of - FRESHNESS_LOOKBACK - history)
        case UsageSignal():
            start = _since(signal, as_of, history)
            lower = start - SLACK if start else None
            window = _rolled_up_window(signal, instants)
            if window is not None and instants is not None:
                return windows.series_windowed(
                    store, product, SeriesKind.USAGE, signal.kpi, start=lower, end=as_of,
                    windows=windows.Windows(window, [*instants, as_of]))
            return queries.series_points(store, product, SeriesKind.USAGE, signal.kpi,
                                         start=lower, end=as_of)
        case UsageChangeSignal():
            start = as_of - 2 * signal.window - history - SLACK
            if instants is not None:  # two means back to back: rollups serve both
                return windows.series_windowed(
                    store, product, SeriesKind.USAGE, signal.kpi, start=start, end=as_of,
                    windows=windows.Windows(signal.window, [*instants, as_of], count=2,
                                            finite_anchor=True))
            return queries.series_points(store, product, SeriesKind.USAGE, signal.kpi,
                                         start=start, end=as_of)
    raise TypeError(f"unknown signal {type(signal).__name__}")


def _rolled_up_window(signal: ModelMetricSignal | UsageSignal,
                      instants: Sequence[datetime] | None) -> timedelta | None:
    """The signal's window when its readings at `instants` can come from hour rollups
    (a windowed mean, sum, count, min or max: `store/windows.py`), else None."""
    window, how = window_and_aggregation(signal)
    return window if instants is not None and how in windows.ROLLED_UP else None


def _since(signal: ModelMetricSignal | DriftSignal | DataQualitySignal | UsageSignal,
           as_of: datetime, history: timedelta) -> datetime | None:
    """Where the signal's window (and the caller's history) starts; None without a window:
    'last' of all values needs the latest one, however old."""
    window, _ = window_and_aggregation(signal)
    return None if window is None else as_of - window - history


def _after(frame: pd.DataFrame, column: str, since: datetime | None) -> pd.DataFrame:
    if since is None or frame.empty:
        return frame
    return frame.loc[frame[column] > pd.Timestamp(since)].reset_index(drop=True)


def _model_metric(store: Store, product: str, s: ModelMetricSignal, since: datetime | None,
                  as_of: datetime, instants: Sequence[datetime] | None) -> pd.DataFrame:
    """Points of the version the alias (or version) names, with each point's run link;
    `attrs['version']` says which version that was."""
    version = queries.resolve_version(store, product, s.model, alias=s.alias, version=s.version)
    if version is None:
        return EMPTY_POINTS.copy()
    points = None
    window = _rolled_up_window(s, instants)
    if window is not None and instants is not None:
        points = windows.model_metric_windowed(store, product, s.model, version, s.metric,
                                               since=since, end=as_of, window=window,
                                               instants=[*instants, as_of])
    elif instants is not None and window_and_aggregation(s) == (None, "last"):
        points = queries.model_metric_latest(store, product, s.model, version, s.metric,
                                             [*instants, as_of])
        if points["value"].isna().any():  # 'last' skips a NaN for an older value: read all
            points = None
    if points is None:
        points = queries.model_metric_points(store, product, s.model, version, s.metric,
                                             start=since, end=as_of)
        points = _after(points, "ts", since)
    urls = queries.run_urls(store, points["run_id"].dropna().tolist()) if len(points) else {}
    points["run_url"] = [urls.get(r) for r in points["run_id"]] if len(points) else []
    points.attrs["version"] = version
    return points
