"""The alert state machine, as in Grafana's alerting: pure, one step per evaluation.

    normal --holds--> pending --holds for `for`--> firing --clears--> recovering
       ^                 |                           ^                  |    |
       +-----clears------+                           +------holds-------+    |
       +------------------- clears for `keep_firing_for` (resolved) ---------+

With `for: 0` a holding condition fires at once; with `keep_firing_for: 0` a clearing one
resolves at once. No data and evaluation errors are mapped per rule to `ok` (as if the
condition cleared), `alerting` (as if it held) or `keep_state` (nothing moves).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from config.alerting import AlertRule

Observation = Literal["alerting", "ok", "no_data", "error"]
NORMAL, PENDING, FIRING, RECOVERING = "normal", "pending", "firing", "recovering"

# What a step did; the engine files, comments and resolves tickets on the last three.
PENDING_STARTED = "pending"
PENDING_CANCELLED = "cancelled"
RECOVERING_STARTED = "recovering"
FIRED = "fired"
REFIRED = "refired"
RESOLVED = "resolved"


@dataclass(frozen=True)
class Current:
    """What the state machine needs to know of a stored alert."""

    state: str = NORMAL
    state_since: datetime | None = None
    pending_since: datetime | None = None


@dataclass(frozen=True)
class Step:
    state: str
    transition: str | None = None  # one of the names above; None when nothing moved
    changes: dict[str, Any] = field(default_factory=dict)  # columns of the alert row


def effective(observation: Observation, rule: AlertRule) -> bool | None:
    """True when the condition counts as holding, False when as clear, None to keep state."""
    if observation == "no_data":
        mapped = rule.no_data
    elif observation == "error":
        mapped = rule.on_error
    else:
        mapped = observation
    return {"alerting": True, "ok": False}.get(mapped)


def step(current: Current, observation: Observation, rule: AlertRule, now: datetime) -> Step:
    """The next state of an alert after one evaluation at `now`."""
    held = effective(observation, rule)
    state = current.state
    if held is None:
        return Step(state)
    if state == NORMAL:
        if not held:
            return Step(NORMAL)
        if rule.for_.total_seconds() <= 0:
            return _fire(now, pending_since=now)
        return Step(PENDING, PENDING_STARTED, {"state": PENDING, "state_since": now,
                                               "pending_since": now})
    if state == PENDING:
        if not held:
            return Step(NORMAL, PENDING_CANCELLED, {"state": NORMAL, "state_since": now,
                                                    "pending_since": None})
        since = current.pending_since or current.state_since or now
        if now - since >= rule.for_:
            return _fire(now, pending_since=since)
        return Step(PENDING)
    if state == FIRING:
        if held:
            return Step(FIRING)
        if rule.keep_firing_for.total_seconds() <= 0:
            return _resolve(now)
        return Step(RECOVERING, RECOVERING_STARTED, {"state": RECOVERING, "state_since": now})
    if state == RECOVERING:
        if held:
            return Step(FIRING, REFIRED, {"state": FIRING, "state_since": now})
        if now - (current.state_since or now) >= rule.keep_firing_for:
            return _resolve(now)
        return Step(RECOVERING)
    raise ValueError(f"unknown alert state {state!r}")


def _fire(now: datetime, *, pending_since: datetime) -> Step:
    """A new firing: acknowledgement belongs to the previous one, so it is cleared."""
    return Step(FIRING, FIRED, {"state": FIRING, "state_since": now,
                                "pending_since": pending_since, "fired_at": now,
                                "acknowledged_by": None, "acknowledged_at": None})


def _resolve(now: datetime) -> Step:
    return Step(NORMAL, RESOLVED, {"state": NORMAL, "state_since": now, "resolved_at": now,
                                   "pending_since": None})
