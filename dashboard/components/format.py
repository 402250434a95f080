"""How numbers and times read on the page; tests format expected values the same way."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

PERCENT_KINDS = {"drift", "pipeline_success_rate"}
COUNT_KINDS = {"usage", "pipeline_failures"}


def objective_value(kind: str, value: float | None, metric: str | None = None) -> str:
    """A signal's value as its kind reads: shares as percentages, a change with its sign,
    hours since the last success in hours, counts whole, model metrics and drift scores
    to three decimals. `metric` tells a data_quality signal's rows from its missing share.
    """
    if value is None or pd.isna(value):
        return "no data"
    if kind in PERCENT_KINDS or (kind == "data_quality" and metric == "missing_share"):
        return f"{value:.1%}"
    if kind == "usage_change":
        return f"{value:+.1%}"
    if kind == "pipeline_freshness":
        return f"{value:.1f} h"
    if kind in COUNT_KINDS or kind == "data_quality":
        return f"{value:,.0f}"
    return f"{value:.3f}"


def threshold_text(kind: str, op: str, threshold: float, metric: str | None = None) -> str:
    return f"{op} {objective_value(kind, threshold, metric)}"


def points(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.1f}"


def ago(then: datetime | None, now: datetime) -> str:
    """'3 min ago' reads faster than a timestamp when checking freshness."""
    if then is None or pd.isna(then):
        return "never"
    seconds = max(0.0, (now - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def local_time(ts: datetime | None, timezone: str) -> str:
    if ts is None or pd.isna(ts):
        return "–"
    return pd.Timestamp(ts).tz_convert(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def percent(value: float | None, digits: int = 1) -> str:
    """0.8333 -> '83.3%'; a dash for no value."""
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}%}"


def change(value: float | None) -> str:
    """A relative change with its sign: 0.052 -> '+5.2%'; a dash for no value."""
    return "–" if value is None or pd.isna(value) else f"{value:+.1%}"


def number(value: float | None) -> str:
    """1234.4 -> '1,234'; a dash for no value."""
    return "–" if value is None or pd.isna(value) else f"{value:,.0f}"


def duration(seconds: float | None) -> str:
    """How long, in the largest unit that reads well: '45 s', '8.5 min', '6.3 h', '2.1 d'."""
    if seconds is None or pd.isna(seconds):
        return "–"
    if seconds == float("inf"):
        return "never"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def span(window: timedelta) -> str:
    """A window as a caption says it: '7 d', '36 h', '90 min'."""
    seconds = window.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return duration(seconds)
