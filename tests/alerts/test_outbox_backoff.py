"""The outbox backs off and gives up: waits hand-computed from the policy with the jitter
pinned, Retry-After honoured, a dead letter after the last attempt, the rows behind a dead
one held until a PO retries or discards it. SQLite and PostgreSQL (`store`)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from alert_world import MIN, NO_WAIT, T0, Jitter, MemoryTracker, config, dau, rule, run, seed

from alerts import deadletters
from alerts.backoff import RetryPolicy
from alerts.delivery import deliver, retry_policies
from store import queries

SEC = timedelta(seconds=1)
TRACKER = [{"name": "tracker", "kind": "webhook", "url": "http://unused.test",
            "max_attempts": 4, "backoff_base": "1m", "backoff_cap": "3m"}]


def _cfg(*rules):
    return config(*(rules or [rule(sinks=["tracker"])]), sinks=TRACKER)


def _fire(store, cfg, at, value=50.0, kpi="dau"):
    dau(store, at - MIN, value, kpi=kpi)
    return run(store, cfg, at)


def _row(store, i=0) -> dict:
    return queries.outbox(store, pending_only=False).iloc[i].to_dict()


@pytest.mark.parametrize(("attempts", "minutes"), [
    (1, 1),    # base x 2^0 = 1 min
    (2, 2),    # 1 x 2^1
    (3, 4),    # 1 x 2^2
    (6, 32),   # 1 x 2^5
    (7, 60),   # 1 x 2^6 = 64 min, capped at 60
    (100, 60),  # capped (and 2^99 minutes would not fit a timedelta)
], ids=lambda v: str(v))
def test_ceiling_doubles_from_the_base_up_to_the_cap(attempts, minutes):
    assert RetryPolicy().ceiling(attempts) == timedelta(minutes=minutes)


def test_wait_is_the_jitter_fraction_of_the_ceiling_or_retry_after():
    policy = RetryPolicy(max_attempts=5, base=timedelta(seconds=10), cap=timedelta(minutes=1))
    quarter = Jitter(0.25)
    assert policy.wait(3, quarter) == timedelta(seconds=10)  # ceiling 10 x 2² = 40 s; ¼ = 10 s
    assert quarter.draws == [(0.0, 40.0)]
    assert policy.wait(3, quarter, retry_after=120) == timedelta(seconds=120)  # as asked
    assert policy.wait(3, quarter, retry_after=10**9) == timedelta(days=1)  # bounded
    assert not policy.gives_up(4, retriable=True) and policy.gives_up(5, retriable=True)
    assert policy.gives_up(1, retriable=False)  # a fatal answer stops at once


def test_settings_come_from_the_sink_config():
    assert retry_policies(_cfg()) == {"tracker": RetryPolicy(4, MIN, 3 * MIN)}
    default = config(rule(), sinks=[{"name": "chat", "kind": "webhook", "url": "http://x.test"}])
    assert retry_policies(default) == {"chat": RetryPolicy(30, MIN, 60 * MIN)}


def test_backoff_timing_then_dead_letter_then_retry(store):
    """max_attempts 4, base 1 min, cap 3 min, jitter pinned at half the ceiling:
    attempt 1 at T0 fails, waits ½ x 1 min = 30 s        -> next T0+30s
    attempt 2 at T0+30s fails, waits ½ x 2 min = 60 s    -> next T0+90s
    attempt 3 at T0+90s fails, waits ½ x min(3, 4) = 90 s -> next T0+180s
    attempt 4 at T0+180s fails: the 4th of 4, so the row is dead."""
    cfg, tracker, half = _cfg(), MemoryTracker(), Jitter(0.5)
    policies = retry_policies(cfg)
    seed(store, cfg)
    tracker.down = 1000
    _fire(store, cfg, T0)

    def attempt(at):
        return deliver(store, {"tracker": tracker}, at, policies=policies, rng=half)

    expected = [(T0, T0 + 30 * SEC), (T0 + 30 * SEC, T0 + 90 * SEC),
                (T0 + 90 * SEC, T0 + 180 * SEC)]
    for n, (at, next_at) in enumerate(expected, start=1):
        if n > 1:  # a second before it is due: nothing is sent
            calls = len(tracker.calls)
            early = attempt(at - SEC)
            assert len(tracker.calls) == calls and early.failed == [] and early.waiting == 1
        report = attempt(at)
        assert f"attempt {n} of 4, next at {next_at.isoformat()}" in report.failed[0]
        row = _row(store)
        assert (row["state"], row["attempts"], row["next_attempt_at"]) == \
            ("pending", n, next_at)
    assert half.draws == [(0.0, 60.0), (0.0, 120.0), (0.0, 180.0)]
    report = attempt(T0 + 180 * SEC)
    row = _row(store)
    assert (row["state"], row["attempts"]) == ("dead", 4) and pd.isna(row["next_attempt_at"])
    assert row["last_error"].endswith("503 Service Unavailable (gave up after 4 attempts)")
    assert report.failed == [] and report.dead == [f"#{row['id']} create@tracker: "
                                                   f"{row['last_error']}"]
    calls = len(tracker.calls)
    later = attempt(T0 + timedelta(days=1))
    assert len(tracker.calls) == calls and later.dead == report.dead  # dead: never sent

    # A resolution queued meanwhile waits behind the dead creation...
    _fire(store, cfg, T0 + timedelta(days=1), value=150)
    tracker.down = 0
    held = attempt(T0 + timedelta(days=1))
    assert held.delivered == [] and held.waiting == 2
    # ...until a PO retries it: due at once with a fresh count, then both go, in order.
    [revived] = deadletters.retry(store, None, "ana", T0 + timedelta(days=1, minutes=1))
    assert (revived.state, revived.attempts) == ("pending", 0)
    done = attempt(T0 + timedelta(days=1, minutes=1))
    assert [d.split()[0] for d in done.delivered] == ["create@tracker", "resolve@tracker"]
    assert queries.outbox(store).empty and tracker.tickets["T-1"]["closed"]
    notes = queries.alert_events(store)["note"].tolist()
    assert "delivery create@tracker retried by ana" in notes


def test_a_tracker_that_is_down_costs_one_attempt_per_run(store):
    """Two alerts' creations for one sink: the first fails with a 503, so the second is not
    tried in that run (attempts 1 and 0) and both are tried at the next."""
    cfg = _cfg(rule(sinks=["tracker"]),
               rule("wau-low", sinks=["tracker"],
                    condition={"kind": "usage", "kpi": "wau", "op": "<", "threshold": 100}))
    tracker = MemoryTracker()
    seed(store, cfg)
    _fire(store, cfg, T0, kpi="wau")
    dau(store, T0 - MIN, 50)
    run(store, cfg, T0 + SEC)
    tracker.down = 1
    report = deliver(store, {"tracker": tracker}, T0 + SEC, rng=NO_WAIT)
    assert len(report.failed) == 1 and report.waiting == 2
    assert queries.outbox(store)["attempts"].tolist() == [1, 0]
    report = deliver(store, {"tracker": tracker}, T0 + 2 * SEC, rng=NO_WAIT)
    assert len(report.delivered) == 2 and list(tracker.tickets) == ["T-1", "T-2"]


def test_discard_releases_the_rows_behind_and_is_recorded(store):
    cfg, tracker = _cfg(), MemoryTracker()
    seed(store, cfg)
    _fire(store, cfg, T0)
    tracker.down = 4
    for i in range(4):
        deliver(store, {"tracker": tracker}, T0 + i * MIN, policies=retry_policies(cfg),
                rng=NO_WAIT)
    assert _row(store)["state"] == "dead"
    _fire(store, cfg, T0 + 10 * MIN, value=150)  # resolves: the resolution waits
    with pytest.raises(ValueError, match="say who"):
        deadletters.discard(store, [int(_row(store)["id"])], " ", T0 + 11 * MIN)
    [gone] = deadletters.discard(store, [int(_row(store)["id"])], "ana", T0 + 11 * MIN)
    assert gone.state == "discarded"
    assert deadletters.discard(store, [gone.id], "ana", T0 + 12 * MIN) == []  # not dead now
    report = deliver(store, {"tracker": tracker}, T0 + 12 * MIN, rng=NO_WAIT)
    assert report.delivered == ["resolve@tracker (no ticket to resolve)"]
    first = _row(store)
    assert (first["state"], first["discarded_by"], first["discarded_at"]) == \
        ("discarded", "ana", T0 + 11 * MIN)
    assert tracker.tickets == {}  # the creation was given up: nothing was filed
    notes = queries.alert_events(store)["note"].tolist()
    assert "delivery create@tracker discarded by ana" in notes
