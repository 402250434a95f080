"""Usage KPIs: the latest value, week over week, a 7-day mean, and the objective's verdict.

Inputs are points frames [ts, value] as `store.queries.series_points` returns them for a
`usage` series. The target comes from the product's `usage` objective for that KPI when
there is one; a KPI without an objective still shows its value and trend, with status
unknown, because the PO may track usage before agreeing on a target.

Windows follow `kpis.trend`: (as_of - 7 days, as_of], so the 7-day mean and the current
week of the week-over-week change are the same set of points.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from config.schema import Op, UsageObjective
from config.signals import window_and_aggregation
from kpis._time import utc_timestamp
from kpis.health import ObjectiveResult, Status, evaluate_objective, latest_value
from kpis.trend import trend, week_over_week

ROLLING_COLUMNS = ["ts", "value", "rolling_mean"]


@dataclass(frozen=True)
class UsageKpi:
    """One usage KPI as of an instant; None where there is nothing to show."""

    name: str
    latest: float | None
    latest_ts: datetime | None
    target: float | None  # the objective's threshold (red boundary)
    warning: float | None
    op: Op | None
    status: Status
    week_over_week: float | None
    mean_7d: float | None
    judged: float | None = None  # the value the objective judges (e.g. its 7-day mean)
    judged_as: str = ""  # what that value is, e.g. "7-day mean"
    judged_detail: str = ""


def hourly_rolling_mean(hours: pd.DataFrame, at: pd.Series, *, days: int = 7) -> np.ndarray:
    """At each time of `at`, the mean of the values in the hours that start in (t - days, t]
    (`hours`: bucket, n, total, as rolled up): `rolling_mean` to the hour, for a chart so
    long that its points are downsampled and the line is drawn at that resolution anyway.
    NaN where those hours hold no value."""
    if days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    ordered = hours.sort_values("bucket", kind="stable")
    buckets = ordered["bucket"].to_numpy(dtype="datetime64[ns]")
    counts = np.concatenate([[0], np.cumsum(ordered["n"].to_numpy(dtype=float))])
    totals = np.concatenate([[0.0], np.cumsum(ordered["total"].to_numpy(dtype=float))])
    ends = pd.to_datetime(at, utc=True).dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    hi = np.searchsorted(buckets, ends, side="right")
    lo = np.searchsorted(buckets, ends - np.timedelta64(days, "D"), side="right")
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (totals[hi] - totals[lo]) / np.where(n > 0, n, 1), np.nan)


def rolling_mean(points: pd.DataFrame, *, as_of: datetime, days: int = 7) -> pd.DataFrame:
    """Each point ended by `as_of` with the mean of the points in (ts - days, ts].

    Time-based, not a count of points, so a missing day shortens the window instead of
    stretching it. NaN values are left out of the mean. Columns: ROLLING_COLUMNS.
    """
    if days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    at = utc_timestamp(as_of)
    if points.empty:
        return pd.DataFrame(columns=ROLLING_COLUMNS)
    rows = points.loc[points["ts"] <= at, ["ts", "value"]].sort_values("ts", kind="stable")
    if rows.empty:
        return pd.DataFrame(columns=ROLLING_COLUMNS)
    indexed = rows.set_index("ts")["value"].astype(float)
    mean = indexed.rolling(pd.Timedelta(days=days), closed="right", min_periods=1).mean()
    return pd.DataFrame({
        "ts": rows["ts"].to_numpy(), "value": indexed.to_numpy(), "rolling_mean": mean.to_numpy()
    }, columns=ROLLING_COLUMNS)


def usage_kpi(
    name: str, points: pd.DataFrame, *, as_of: datetime, objective: UsageObjective | None = None,
    judged: ObjectiveResult | None = None, latest: tuple[datetime, float] | None = None,
) -> UsageKpi:
    """The latest value, week over week and 7-day mean of `points`, and the objective's own
    verdict (`judged`: `kpis.health.evaluate_objective` on the objective's signal, e.g. the
    7-day mean, computed from `points` when not given), so the usage page shows the same
    status as the overview.

    `latest`: the newest (ts, value) at or before `as_of` when the caller read it apart (an
    indexed latest-point query); `points` then need only reach back from it."""
    at = utc_timestamp(as_of)
    upto = points.loc[points["ts"] <= at] if not points.empty else points
    found = latest_value(upto) if latest is None else (pd.Timestamp(latest[0]), latest[1])
    value = None if found is None else found[1]
    # weeks end at the newest value, as the objective's window does (`kpis.signals`)
    end = at if found is None else found[0]
    week = trend(upto, as_of=end, days=7)["value"].dropna()
    if judged is None and objective is not None:
        judged = evaluate_objective(objective, points, as_of=as_of)
    status = judged.status if judged is not None else Status.UNKNOWN
    return UsageKpi(
        name=name,
        latest=value,
        latest_ts=None if found is None else found[0].to_pydatetime(),
        target=None if objective is None else objective.threshold,
        warning=None if objective is None else objective.warning,
        op=None if objective is None else objective.op,
        status=status,
        week_over_week=week_over_week(upto, as_of=end),
        mean_7d=float(week.mean()) if len(week) else None,
        judged=None if judged is None else judged.value,
        judged_as="" if objective is None else judged_as(objective),
        judged_detail="" if judged is None else judged.detail,
    )


def judged_as(objective: UsageObjective) -> str:
    """What an objective judges, in words: '7-day mean', 'latest value', '24-hour max'."""
    window, how = window_and_aggregation(objective)
    if window is None:
        return "latest value" if how == "last" else f"{how} of all values"
    days, rest = divmod(window.total_seconds(), 86400)
    span = f"{int(days)}-day" if rest == 0 else f"{window.total_seconds() / 3600:g}-hour"
    return f"{span} {'latest value' if how == 'last' else how}"


def usage_objectives(objectives: Iterable[object]) -> dict[str, UsageObjective]:
    """The first `usage` objective per KPI name among a product's objectives."""
    found: dict[str, UsageObjective] = {}
    for objective in objectives:
        if isinstance(objective, UsageObjective):
            found.setdefault(objective.kpi, objective)
    return found
