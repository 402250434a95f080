"""Two evaluators at once (two threads, each with its own engine and connections) on
SQLite and PostgreSQL: one alert row, one transition, one outbox create, one ticket.

A barrier holds both evaluators right after they read the alert, so both decide on the
same stale state and the compare-and-set (not luck in scheduling) has to settle it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from alert_world import MIN, T0, MemoryTracker, config, dau, rule, seed

from alerts import engine
from alerts.delivery import build_sinks, deliver
from store import alerts as store_alerts
from store import queries
from store.db import Store


def _race(store: Store, monkeypatch: pytest.MonkeyPatch, work) -> list:
    barrier = threading.Barrier(2, timeout=20)
    local = threading.local()
    real = store_alerts.get_alert

    def get_alert_then_wait(session, fp):
        found = real(session, fp)
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait()
        return found

    monkeypatch.setattr(store_alerts, "get_alert", get_alert_then_wait)
    stores = [Store(store.url), Store(store.url)]
    try:
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(work, stores))
    finally:
        for s in stores:
            s.dispose()


def test_two_evaluators_at_once_make_one_alert_one_create_one_ticket(store, monkeypatch):
    cfg = config(rule(sinks=["backlog", "tracker"]),
                 sinks=[{"name": "tracker", "kind": "webhook", "url": "http://unused.test"}])
    seed(store, cfg)
    dau(store, T0, 50)
    tracker = MemoryTracker()
    now = T0 + MIN

    def evaluate_and_deliver(s: Store):
        outcomes = [o for r in engine.evaluate(s, cfg, now) for o in r.outcomes]
        sinks = {**build_sinks(s, cfg, lambda: now), "tracker": tracker}
        return outcomes, deliver(s, sinks, now)

    results = _race(store, monkeypatch, evaluate_and_deliver)
    transitions = sorted(str(o.transition) for outcomes, _ in results for o in outcomes)
    assert transitions == ["None", "fired"]  # one evaluator fired it, the other found it done
    assert len(queries.alerts(store)) == 1
    assert queries.alert_events(store)["to_state"].tolist() == ["firing"]
    box = queries.outbox(store, pending_only=False)
    assert sorted(box["action"] + "@" + box["sink"]) == ["create@backlog", "create@tracker"]
    assert box["delivered_at"].notna().all()
    assert queries.backlog_items(store, "churn")["key"].tolist() == ["ALERT-1"]
    assert list(tracker.tickets) == ["T-1"]
    assert sorted(queries.alert_tickets(store)["key"]) == ["ALERT-1", "T-1"]


def test_two_evaluators_resolving_at_once_resolve_once(store, monkeypatch):
    cfg = config(rule())
    seed(store, cfg)
    dau(store, T0, 50)
    engine.evaluate(store, cfg, T0 + MIN)
    deliver(store, build_sinks(store, cfg, lambda: T0 + MIN), T0 + MIN)
    dau(store, T0 + 2 * MIN, 150)
    now = T0 + 3 * MIN

    def evaluate_and_deliver(s: Store):
        engine.evaluate(s, cfg, now)
        return deliver(s, build_sinks(s, cfg, lambda: now), now)

    _race(store, monkeypatch, evaluate_and_deliver)
    assert queries.alert_events(store)["to_state"].tolist() == ["firing", "normal"]
    box = queries.outbox(store, pending_only=False)
    assert box["action"].tolist() == ["create", "resolve"]
    assert len(queries.item_comments(store, "churn")) == 1
    assert queries.backlog_items(store, "churn")["status"].tolist() == ["Done"]
