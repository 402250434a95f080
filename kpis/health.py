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

from config.schema import AnyObjective, Op
from kpis._time import utc_timestamp
from kpis.signals import FINISHED_STATES, Reading, finished_runs, read_signal

ObjectiveSettings = AnyObjective
__all__ = ["FINISHED_STATES", "ObjectiveResult", "Status", "classify", "evaluate_objective",
           "judge", "latest_value", "product_status", "success_rate"]


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
    insufficient: bool = False  # the data was too thin to judge (e.g. a drift window's rows)


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
    return finished_runs(runs, as_of, timedelta(days=window_days), pipeline)


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


def judge(reading: Reading, objective: ObjectiveSettings) -> Status:
    """One reading against the objective's bands."""
    return classify(reading.value, objective.op, objective.threshold, objective.warning)


def evaluate_objective(
    objective: ObjectiveSettings, frame: pd.DataFrame, *, as_of: datetime
) -> ObjectiveResult:
    """Evaluate one objective on the frame `store.signals` read for it, as of `as_of` (later
    data is ignored). A signal with several instances (one per pipeline, per column) is as
    healthy as its worst instance, whose value is shown."""
    readings = read_signal(objective, frame, as_of=as_of)
    if not readings:
        readings = [Reading({}, None, None, "nothing to measure yet")]
    judged = [(judge(r, objective), r) for r in readings]
    known = [(s, r) for s, r in judged if s is not Status.UNKNOWN]
    status, reading = max(known, key=lambda sr: sr[0].rank) if known else judged[0]
    detail = reading.detail
    if reading.labels and len(readings) > 1:
        detail = f"{', '.join(reading.labels.values())}: {detail} (worst of {len(readings)})"
    return ObjectiveResult(
        name=objective.name,
        kind=objective.kind,
        value=reading.value,
        status=status,
        threshold=objective.threshold,
        warning=objective.warning,
        op=objective.op,
        as_of=reading.observed_at,
        detail=detail,
        insufficient=reading.insufficient,
    )


def product_status(results: Iterable[ObjectiveResult | Status]) -> Status:
    """Worst known status (red > amber > green); unknown only if none is known (or none given)."""
    statuses = [r.status if isinstance(r, ObjectiveResult) else Status(r) for r in results]
    known = [s for s in statuses if s is not Status.UNKNOWN]
    if not known:
        return Status.UNKNOWN
    return max(known, key=lambda s: s.rank)
