"""Evaluating alert rules on frames: pure, no store, no clock (habit 8).

A rule's settings are `config.alerting.AlertRule`; this module turns the frame its signal
reads (fetched by `alerts.inputs`) into alert *instances*: one per reading of the signal
(one per column of a feature-drift rule, one per pipeline of a pipeline rule), each with
its value (None for no data), whether the condition holds, and the evidence a ticket shows
(what was measured over which window, the run or report it came from). The measurement is
`kpis.signals.read_signal`, the same one objectives are judged on, so a rule over a signal
and an objective over it agree at every instant. Everything is judged as of an explicit
`now`: data stamped after it is ignored, so an evaluation at a controlled instant is
reproducible.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from config.alerting import AlertRule, ObjectiveCondition
from config.base import Op
from config.signals import signal_label_names
from kpis._time import utc_timestamp
from kpis.signals import read_signal


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
    """The labels known without data: the rule's own and the signal's fixed ones (and, for
    an objective condition, the objective's name)."""
    c = rule.condition
    labels = dict(rule.labels)
    if isinstance(c, ObjectiveCondition):
        labels["objective"] = c.objective
    signal = rule.signal
    for name in signal_label_names(signal):
        value = getattr(signal, name, None)
        if value is not None:
            labels[name] = str(value)
    return labels


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return pd.Timestamp(value).isoformat()
    return str(value)


def _missing(value: object) -> bool:
    return bool(value is None or value is pd.NaT
                or (isinstance(value, float) and math.isnan(value)))


def evaluate(rule: AlertRule, frame: pd.DataFrame, *, now: datetime) -> list[Instance]:
    """The rule's instances at `now`, from the frame `alerts.inputs.fetch` read for it: one
    per reading of its signal (`kpis.signals`, the objectives' own measurement)."""
    base = static_labels(rule)
    c = rule.condition
    out = []
    for reading in read_signal(rule.signal, frame, as_of=utc_timestamp(now, name="now")):
        value = reading.value
        verdict = None if value is None else holds(value, c.op, c.threshold)
        evidence = {k: _text(v) for k, v in reading.evidence.items() if not _missing(v)}
        evidence["measured"] = reading.detail
        out.append(Instance({**base, **reading.labels}, value, verdict, evidence))
    return out
