"""The Alerts page's service without a browser: dead letters with what waits behind them,
pending deliveries, and the actions' messages (a bad silence duration is a message, never
an exception). SQLite and PostgreSQL (`store`)."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))

from alert_world import MIN, T0, MemoryTracker, config, dau, rule, run, seed

from alerts.delivery import deliver, retry_policies
from dashboard.services.alerts import (
    build_alerts,
    discard_delivery,
    retry_delivery,
    silence_rule,
)
from store import queries

SEC = timedelta(seconds=1)
SINKS = [{"name": "tracker", "kind": "webhook", "url": "http://unused.test", "max_attempts": 1}]


def _world(store):  # type: ignore[no-untyped-def]
    """Two alerts to a tracker that is down (max_attempts 1: dead at the first failure).
    dau-low's creation dies, then its resolution queues behind it (1 behind); wau-low's
    creation dies with nothing behind; a third rule's creation to dspo's own backlog stays
    pending (these runs deliver to the tracker only)."""
    cfg = config(rule(sinks=["tracker"]),
                 rule("wau-low", sinks=["tracker"],
                      condition={"kind": "usage", "kpi": "wau", "op": "<", "threshold": 100,
                                 "aggregation": "last"}),
                 rule("mau-low", condition={"kind": "usage", "kpi": "mau", "op": "<",
                                            "threshold": 100, "aggregation": "last"}),
                 sinks=SINKS)
    seed(store, cfg)
    for kpi in ("dau", "wau", "mau"):
        dau(store, T0 - MIN, 50, kpi=kpi)
    run(store, cfg, T0)
    tracker = MemoryTracker()
    tracker.down = 10
    # A 503 rests the tracker for the rest of a run: one creation dies per run (1 of 1).
    for second in (0, 1):
        deliver(store, {"tracker": tracker}, T0 + second * SEC, policies=retry_policies(cfg))
    dau(store, T0 + MIN, 150)
    run(store, cfg, T0 + 2 * MIN)  # dau-low resolves: its resolution waits behind
    return cfg


def test_dead_letters_and_what_waits(store):
    cfg = _world(store)
    view = build_alerts(store, cfg, cfg.products[0], as_of=T0 + 3 * MIN)
    dead = view.dead.set_index("rule")
    assert sorted(dead.index) == ["dau-low", "wau-low"]
    assert dead.loc["dau-low", "behind"] == 1 and dead.loc["wau-low", "behind"] == 0
    assert (dead["action"] == "create").all() and (dead["attempts"] == 1).all()
    assert dead["last_error"].str.endswith("(gave up after 1 attempts)").all()
    # Pending: mau-low's creation (backlog) and dau-low's resolution (behind the dead one).
    assert sorted(zip(view.waiting["rule"], view.waiting["action"], strict=True)) == \
        [("dau-low", "resolve"), ("mau-low", "create")]


def test_the_tiles_count_active_alerts_per_state_and_silenced(store):
    """The world of `_world` as of T0 + 3 min: dau-low resolved at T0 + 2 min (its DAU back
    at 150), wau-low and mau-low still firing (50 < 100), nothing pending or recovering.
    Silencing wau-low leaves it firing: 2 firing, 1 of them silenced."""
    cfg = _world(store)
    view = build_alerts(store, cfg, cfg.products[0], as_of=T0 + 3 * MIN)
    assert view.counts == {"firing": 2, "pending": 0, "recovering": 0, "silenced": 0}
    message, done = silence_rule(store, "churn", "wau-low", "1h", "deploy", "ana",
                                 T0 + 3 * MIN)
    assert done, message
    view = build_alerts(store, cfg, cfg.products[0], as_of=T0 + 4 * MIN)
    assert view.counts == {"firing": 2, "pending": 0, "recovering": 0, "silenced": 1}


def test_retry_and_discard_messages(store):
    cfg = _world(store)
    view = build_alerts(store, cfg, cfg.products[0], as_of=T0 + 3 * MIN)
    first, second = (int(i) for i in view.dead["id"])
    at = T0 + 4 * MIN
    assert retry_delivery(store, first, " ", at).startswith("Type your name first")
    assert retry_delivery(store, first, "ana", at).startswith(f"Delivery #{first} will be")
    assert retry_delivery(store, first, "ana", at) == \
        f"Delivery #{first} is no longer a dead letter."
    assert discard_delivery(store, second, "ana", at).startswith(f"Delivery #{second} discarded")
    states = queries.outbox(store, pending_only=False).set_index("id")["state"]
    assert (states[first], states[second]) == ("pending", "discarded")


@pytest.mark.parametrize(("typed", "says"), [
    ("-2h", "Not silenced: a silence cannot last a negative time ('-2h'): e.g. 90m"),
    ("abc", "Not silenced: 'abc' is not a duration"),
    ("400d", "Not silenced: a silence lasts at most 90 days, not 400d"),
    (None, "Not silenced: say how long the silence lasts"),
    ({"forged": 1}, "Not silenced: \"{'forged': 1}\" is not a duration"),
])
def test_a_bad_silence_duration_is_a_message(store, typed, says):
    cfg = config(rule())
    seed(store, cfg)
    message, done = silence_rule(store, "churn", "dau-low", typed, "deploy", "ana", T0)
    assert message.startswith(says) and not done, message
    assert queries.silences(store).empty


def test_a_good_silence(store):
    cfg = config(rule())
    seed(store, cfg)
    message, done = silence_rule(store, "churn", "dau-low", "90m", "deploy", "ana", T0)
    assert message.startswith("Rule dau-low silenced for 90m") and done
    [row] = queries.silences(store).to_dict("records")
    assert (row["starts_at"], row["ends_at"]) == (T0, T0 + timedelta(minutes=90))


def test_the_history_is_the_newest_transitions_read_with_a_limit(store):
    """The page's history reads only its rows, newest first: in `_world` the newest
    transition is dau-low resolving at T0 + 2 min (its DAU back at 150)."""
    cfg = _world(store)
    full = queries.alert_events(store, product="churn")  # oldest first
    newest = queries.alert_events(store, product="churn", newest=2)
    columns = ["rule", "ts", "to_state"]
    assert len(full) > 2
    assert newest[columns].values.tolist() == full[columns].iloc[::-1].head(2).values.tolist()
    assert newest[columns].iloc[0].tolist() == ["dau-low", T0 + 2 * MIN, "normal"]
    view = build_alerts(store, cfg, cfg.products[0], as_of=T0 + 3 * MIN)
    assert view.history[columns].values.tolist() == full[columns].iloc[::-1].values.tolist()
