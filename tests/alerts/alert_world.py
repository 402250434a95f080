"""Shared helpers of the alert tests: a config of rules, usage points at controlled times.

Usage rules are the simplest condition to drive: a test writes the point it wants the
next evaluation to see, then evaluates at an explicit instant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alerts import engine
from alerts.delivery import DeliveryReport, build_sinks, deliver
from alerts.sinks.base import Sink, SinkError, TicketRef, TicketSpec, fingerprint_label
from config.schema import DspoConfig
from store import records as r
from store.db import Store
from store.writer import sync_products, write_records

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def rule(name: str = "dau-low", **extra: Any) -> dict[str, Any]:
    """A usage rule: fires when the latest DAU is below 100 (`last`: these tests drive the
    state machine one point at a time, not the default 7-day mean)."""
    base: dict[str, Any] = {
        "name": name, "product": "churn",
        "condition": {"kind": "usage", "kpi": "dau", "op": "<", "threshold": 100,
                      "aggregation": "last"},
        "backlog": {"title": "DAU of {product} down to {value:.0f}", "points": 2,
                    "labels": ["usage"]},
    }
    base.update(extra)
    return base


def config(*rules: dict[str, Any], sinks: list[dict[str, Any]] | None = None,
           base_url: str | None = "http://dspo.test") -> DspoConfig:
    return DspoConfig.model_validate({
        "products": [{"key": "churn", "name": "Churn"}],
        "dashboard": {"base_url": base_url},
        "alerts": list(rules) or [rule()],
        "sinks": sinks or [],
    })


def seed(store: Store, cfg: DspoConfig) -> None:
    with store.session() as s:
        sync_products(s, cfg.products)


def dau(store: Store, ts: datetime, value: float, kpi: str = "dau") -> None:
    """Write one usage point (the value the next evaluation sees)."""
    with store.session() as s:
        write_records(s, "usage", [r.Point("churn", r.SeriesKind.USAGE, kpi, ts, value)])


def run(store: Store, cfg: DspoConfig, now: datetime) -> list[engine.Outcome]:
    """Evaluate every rule at `now`; the outcomes of all rules in one list."""
    return [o for res in engine.evaluate(store, cfg, now) for o in res.outcomes]


class Jitter:
    """A random source that is not random: `uniform(a, b)` is always the same fraction of
    the way from a to b, so a test can hand-compute each backoff wait."""

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction
        self.draws: list[tuple[float, float]] = []  # (a, b) of each draw, to check ceilings

    def uniform(self, a: float, b: float) -> float:
        self.draws.append((a, b))
        return a + self.fraction * (b - a)


NO_WAIT = Jitter(0.0)
"""Every backoff wait is 0: a failed row is due again at the next delivery, as tests of
outages that span evaluations (not of backoff itself) want."""


def send(store: Store, cfg: DspoConfig, now: datetime,
         sinks: dict[str, Sink] | None = None) -> DeliveryReport:
    return deliver(store, sinks or build_sinks(store, cfg, lambda: now), now, rng=NO_WAIT)


class MemoryTracker(Sink):
    """A tracker kept in memory, outside the store (so it survives a lost store), that
    can be taken down: while `down` > 0 every call fails as a 503 would."""

    kind = "memory"

    def __init__(self, name: str = "tracker") -> None:
        self.name = name
        self.tickets: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.down = 0
        self.now = T0  # when resolve closes a ticket; tests move it with their clock

    def _call(self, what: str, key: str = "") -> None:
        self.calls.append((what, key))
        if self.down > 0:
            self.down -= 1
            raise SinkError(self.name, "http://tracker.test", "503 Service Unavailable",
                            retriable=True)

    def _ref(self, key: str) -> TicketRef:
        t = self.tickets[key]
        return TicketRef(self.name, key, f"http://tracker.test/{key}", t["closed"],
                         t["resolution"], t["closed_at"])

    def find(self, fingerprint: str) -> TicketRef | None:
        self._call("find")
        label = fingerprint_label(fingerprint)
        mine = [k for k, t in self.tickets.items() if label in t["labels"]]
        mine.sort(key=lambda k: (not self.tickets[k]["closed"], int(k.split("-")[1])))
        return self._ref(mine[-1]) if mine else None

    def create(self, spec: TicketSpec) -> TicketRef:
        self._call("create")
        key = f"T-{len(self.tickets) + 1}"
        self.tickets[key] = {"title": spec.title, "labels": [fingerprint_label(spec.fingerprint)],
                             "closed": False, "resolution": None, "closed_at": None,
                             "comments": [], "description": spec.description}
        return self._ref(key)

    def comment(self, ref: TicketRef, text: str) -> None:
        self._call("comment", ref.key)
        self.tickets[ref.key]["comments"].append(text)

    def resolve(self, ref: TicketRef, text: str) -> TicketRef:
        self._call("resolve", ref.key)
        self.close(ref.key, "Done", self.now)
        self.tickets[ref.key]["comments"].append(text)
        return self._ref(ref.key)

    def reopen(self, ref: TicketRef, text: str) -> TicketRef:
        self._call("reopen", ref.key)
        self.tickets[ref.key].update(closed=False, resolution=None, closed_at=None)
        self.tickets[ref.key]["comments"].append(text)
        return self._ref(ref.key)

    def is_ignored(self, ref: TicketRef) -> bool:
        return ref.closed and ref.resolution == "Won't Fix"

    def close(self, key: str, resolution: str, at: datetime) -> None:
        """What a human (or resolve) does in the tracker."""
        self.tickets[key].update(closed=True, resolution=resolution, closed_at=at)
