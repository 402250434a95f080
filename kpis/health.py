"""Product health: each objective green, amber, red or unknown, and the product the worst.

The objective's *settings* (op, threshold, warning, what to read) live in `config.schema`;
this module only computes (habit 9). Callers fetch the frame an objective needs from the
store (a points frame [ts, value] for model_metric / drift / usage, a pipeline-runs frame
for pipeline_success_rate) and pass it in with an explicit `as_of`.

The rule for `unknown` (no value to judge): the product takes the worst of its *known*
statuses (red > amber > green); it is `unknown` only when no objective has a value. A
product with one red and one unknown objective is red; with green and unknown it is green.
We chose this because a product that is new, or whose usage KPI has not been collected yet,
should still show what is known, and the unknown objective stays visible on its own tile.
Missing data is a freshness problem, reported by the collectors' run status, not a health
verdict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pandas as pd

from config.schema import (
    DriftObjective,
    ModelMetricObjective,
    Op,
    PipelineSuccessObjective,
    UsageObjective,
)
from kpis._time import utc_timestamp

ObjectiveSettings = (
    ModelMetricObjective | DriftObjective | PipelineSuccessObjective | UsageObjective
)

POINT_KINDS = ("model_metric", "drift", "usage")
FINISHED_STATES = ("success", "failed")


class Status(StrEnum):
    """Health of one objective or one product."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Sort key, worst last: green 0 < unknown 1 < amber 2 < red 3.

        Unknown sits above green (something to look at) and below red (nothing is known
        to be failing). `product_status` does not use this order for unknown; see there.
        """
        return _RANK[self]


_RANK = {Status.GREEN: 0, Status.UNKNOWN: 1, Status.AMBER: 2, Status.RED: 3}


def _meets(value: float, op: Op, bound: float) -> bool:
    if op == ">=":
        return value >= bound
    if op == ">":
        return value > bound
    if op == "<=":
        return value <= bound
    if op == "<":
        return value < bound
    raise ValueError(f"unknown op {op!r}")


def classify(value: float | None, op: Op, threshold: float, warning: float | None) -> Status:
    """Green when `value op warning` holds (or `value op threshold` with no warning); amber
    when it meets the threshold but not the warning; red when it fails the threshold;
    unknown when there is no value (None or NaN)."""
    if value is None or math.isnan(value):
        return Status.UNKNOWN
    if not _meets(value, op, threshold):
        return Status.RED
    if warning is not None and not _meets(value, op, warning):
        return Status.AMBER
    return Status.GREEN


@dataclass(frozen=True)
class ObjectiveResult:
    """One evaluated objective, ready for a tile or an alert rule.

    `as_of` is when the value was measured: the latest point's timestamp for series
    objectives, the end of the trailing window for pipeline success rate; None when there
    is no value.
    """

    name: str
    kind: str
    value: float | None
    status: Status
    threshold: float
    warning: float | None
    op: Op
    as_of: datetime | None
    detail: str


def latest_value(points: pd.DataFrame) -> tuple[pd.Timestamp, float] | None:
    """The newest (ts, value) of a points frame, ignoring NaN values; None when empty.

    With several points at the newest instant, the last one in the frame wins.
    """
    valid = points.loc[points["value"].notna()] if not points.empty else points
    if valid.empty:
        return None
    row = valid.sort_values("ts", kind="stable").iloc[-1]
    return pd.Timestamp(row["ts"]), float(row["value"])


def _finished_runs(
    runs: pd.DataFrame, *, as_of: pd.Timestamp, window_days: int, pipeline: str | None
) -> pd.DataFrame:
    if runs.empty:
        return runs
    window_start = as_of - timedelta(days=window_days)
    mask = (
        runs["state"].isin(FINISHED_STATES)
        & runs["end"].notna()
        & (runs["end"] > window_start)
        & (runs["end"] <= as_of)
    )
    if pipeline is not None:
        mask &= runs["pipeline"] == pipeline
    return runs.loc[mask]


def success_rate(
    pipeline_runs: pd.DataFrame,
    *,
    as_of: datetime,
    window_days: int,
    pipeline: str | None = None,
) -> float | None:
    """Share of finished runs (success or failed) that succeeded, over runs whose end lies in
    (as_of - window_days, as_of]. Queued, running and cancelled runs are not outcomes and
    are left out. None when no run finished in the window."""
    finished = _finished_runs(
        pipeline_runs, as_of=utc_timestamp(as_of), window_days=window_days, pipeline=pipeline
    )
    if finished.empty:
        return None
    return float((finished["state"] == "success").sum() / len(finished))


def _fmt(ts: pd.Timestamp) -> str:
    return f"{ts:%Y-%m-%d %H:%M} UTC"


def evaluate_objective(
    objective: ObjectiveSettings, frame: pd.DataFrame, *, as_of: datetime
) -> ObjectiveResult:
    """Evaluate one objective on its frame as of `as_of` (later data is ignored).

    model_metric, drift, usage: `frame` is a points frame [ts, value]; the latest value at
    or before `as_of` is judged. pipeline_success_rate: `frame` is a pipeline-runs frame.
    """
    at = utc_timestamp(as_of)
    value: float | None
    measured: datetime | None
    if isinstance(objective, PipelineSuccessObjective):
        finished = _finished_runs(
            frame, as_of=at, window_days=objective.window_days, pipeline=objective.pipeline
        )
        succeeded = int((finished["state"] == "success").sum()) if len(finished) else 0
        value = succeeded / len(finished) if len(finished) else None
        measured = at.to_pydatetime()
        scope = f"pipeline {objective.pipeline}" if objective.pipeline else "all pipelines"
        detail = (
            f"{succeeded} of {len(finished)} finished runs succeeded ({scope}, "
            f"{objective.window_days} days to {_fmt(at)})"
            if len(finished)
            else f"no finished run ({scope}) in the {objective.window_days} days to {_fmt(at)}"
        )
    elif objective.kind in POINT_KINDS:
        upto = frame.loc[frame["ts"] <= at] if not frame.empty else frame
        latest = latest_value(upto)
        if latest is None:
            value, measured = None, None
            detail = f"no value at or before {_fmt(at)}"
        else:
            ts, value = latest
            measured = ts.to_pydatetime()
            detail = f"{value:.4g} at {_fmt(ts)}"
    else:  # pragma: no cover - the config schema admits no other kind
        raise ValueError(f"unknown objective kind {objective.kind!r}")
    return ObjectiveResult(
        name=objective.name,
        kind=objective.kind,
        value=value,
        status=classify(value, objective.op, objective.threshold, objective.warning),
        threshold=objective.threshold,
        warning=objective.warning,
        op=objective.op,
        as_of=measured,
        detail=detail,
    )


def product_status(results: Iterable[ObjectiveResult | Status]) -> Status:
    """Worst known status (red > amber > green); unknown only if none is known (or none given)."""
    statuses = [r.status if isinstance(r, ObjectiveResult) else Status(r) for r in results]
    known = [s for s in statuses if s is not Status.UNKNOWN]
    if not known:
        return Status.UNKNOWN
    return max(known, key=lambda s: s.rank)
