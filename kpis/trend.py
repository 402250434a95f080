"""Trends of a series: the trailing window for a sparkline, and week over week.

Windows are half-open, (as_of - days, as_of], the same convention as pipeline success rate:
a point exactly `days` before `as_of` belongs to the previous window, one at `as_of` to
this one, so consecutive windows never count a point twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from kpis._time import utc_timestamp

TREND_COLUMNS = ["ts", "value"]


def _window(points: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    if points.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    mask = (points["ts"] > start) & (points["ts"] <= end)
    return points.loc[mask, TREND_COLUMNS].sort_values("ts", kind="stable")


def trend(points: pd.DataFrame, *, as_of: datetime, days: float) -> pd.DataFrame:
    """Points with ts in (as_of - days, as_of], oldest first: columns [ts, value]."""
    if days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    at = utc_timestamp(as_of)
    return _window(points, at - timedelta(days=days), at).reset_index(drop=True)


def week_over_week(points: pd.DataFrame, *, as_of: datetime) -> float | None:
    """Relative change of the mean of (as_of - 7d, as_of] against (as_of - 14d, as_of - 7d].

    (this - previous) / |previous|, so a rise is positive even for a negative series. None
    when either week has no value, or the previous mean is 0 (no meaningful ratio).
    """
    at = utc_timestamp(as_of)
    week = timedelta(days=7)
    this = _window(points, at - week, at)["value"].dropna()
    previous = _window(points, at - 2 * week, at - week)["value"].dropna()
    if this.empty or previous.empty:
        return None
    before = float(previous.mean())
    if before == 0:
        return None
    return (float(this.mean()) - before) / abs(before)
