"""Delivery through the outbox: outages, reopen windows, ignored resolutions, silences,
acknowledgement and a lost store. SQLite and PostgreSQL (`store`)."""

from __future__ import annotations

from datetime import timedelta

from alert_world import MIN, NO_WAIT, T0, MemoryTracker, config, dau, rule, run, seed, send

from alerts import engine
from alerts.delivery import build_sinks, deliver
from store import alert_items, queries
from store.db import Store
from store.records import StatusCategory

TRACKER = [{"name": "tracker", "kind": "webhook", "url": "http://unused.test"}]


def _tracked(**extra):
    return config(rule(sinks=["tracker"], **extra), sinks=TRACKER)


def _deliver(store, tracker, now):
    tracker.now = now
    return deliver(store, {"tracker": tracker}, now, rng=NO_WAIT)  # due again at once


def _fire(store, cfg, at, value=50.0):
    dau(store, at - MIN, value)
    return run(store, cfg, at)


def test_a_sink_down_for_several_evaluations_files_exactly_one_ticket(store):
    cfg, tracker = _tracked(), MemoryTracker()
    seed(store, cfg)
    tracker.down = 1000
    _fire(store, cfg, T0 + MIN)
    for i in range(1, 4):
        run(store, cfg, T0 + (i + 1) * MIN)
        report = _deliver(store, tracker, T0 + (i + 1) * MIN)
        assert report.delivered == [] and "503" in report.failed[0]
    _fire(store, cfg, T0 + 6 * MIN, value=150)  # resolves while the tracker is down
    _deliver(store, tracker, T0 + 6 * MIN)
    pending = queries.outbox(store)
    assert list(pending["action"]) == ["create", "resolve"]
    assert pending["attempts"].tolist() == [4, 0]  # the resolve waits behind the create
    assert "503" in pending["last_error"].iloc[0]
    tracker.down = 0
    report = _deliver(store, tracker, T0 + 7 * MIN)
    assert [d.split()[0] for d in report.delivered] == ["create@tracker", "resolve@tracker"]
    assert list(tracker.tickets) == ["T-1"] and tracker.tickets["T-1"]["closed"]
    assert queries.outbox(store).empty
    assert queries.alert_tickets(store)["key"].tolist() == ["T-1"]


def test_native_backlog_item_with_evidence_and_resolution(store):
    cfg = config(rule(keep_firing_for="0s"))
    seed(store, cfg)
    _fire(store, cfg, T0 + MIN)
    send(store, cfg, T0 + MIN)
    [item] = queries.backlog_items(store, "churn").to_dict("records")
    assert (item["key"], item["origin"], item["source"], item["points"]) == \
        ("ALERT-1", "alert", "dspo-alerts", 2.0)
    assert item["title"] == "DAU of churn down to 50"
    assert item["url"].startswith("http://dspo.test/alerts?product=churn&fingerprint=")
    [alert] = queries.alerts(store).to_dict("records")
    assert alert["backlog_key"] == "ALERT-1"
    _fire(store, cfg, T0 + 2 * MIN, value=150)
    send(store, cfg, T0 + 2 * MIN)
    [item] = queries.backlog_items(store, "churn").to_dict("records")
    assert (item["status"], item["status_category"]) == ("Done", "done")
    events = queries.item_events(store, "churn")
    assert set(zip(events["field"], events["to_value"], strict=True)) == \
        {("status", "Done"), ("status_category", "done")}
    assert "Resolved at" in queries.item_comments(store, "churn")["text"].iloc[0]


def test_description_carries_the_evidence(store):
    cfg = config(rule(**{"for": "2m"}))
    seed(store, cfg)
    _fire(store, cfg, T0 + MIN)
    run(store, cfg, T0 + 3 * MIN)
    [row] = queries.outbox(store).to_dict("records")
    text = row["payload"]["spec"]["description"]
    assert "value 50." in text and "usage < 100" in text
    assert f"Holding since {(T0 + MIN).isoformat()}" in text
    assert f"firing since {(T0 + 3 * MIN).isoformat()}" in text
    assert "dspo page: http://dspo.test/usage?product=churn" in text
    assert "Fingerprint: " in text


def _cycle(store, cfg, tracker, fire_at, resolve_at):
    _fire(store, cfg, fire_at)
    _deliver(store, tracker, fire_at)
    _fire(store, cfg, resolve_at, value=150)
    _deliver(store, tracker, resolve_at)


def test_refire_within_the_reopen_window_reopens_after_it_opens_a_new_ticket(store):
    cfg, tracker = _tracked(reopen_window="1d"), MemoryTracker()
    seed(store, cfg)
    _cycle(store, cfg, tracker, T0 + MIN, T0 + 10 * MIN)
    _cycle(store, cfg, tracker, T0 + 2 * 60 * MIN, T0 + 3 * 60 * MIN)  # within a day
    assert list(tracker.tickets) == ["T-1"]
    assert ("reopen", "T-1") in tracker.calls
    later = T0 + timedelta(days=3)
    _fire(store, cfg, later)
    _deliver(store, tracker, later)
    assert list(tracker.tickets) == ["T-1", "T-2"]
    assert tracker.tickets["T-1"]["closed"] and not tracker.tickets["T-2"]["closed"]
    assert queries.alert_tickets(store)["key"].tolist() == ["T-1", "T-2"]


def test_native_reopen_within_the_window(store):
    cfg = config(rule(reopen_window="1d"))
    seed(store, cfg)
    for start in (T0 + MIN, T0 + 60 * MIN):
        _fire(store, cfg, start)
        send(store, cfg, start)
        _fire(store, cfg, start + 10 * MIN, value=150)
        send(store, cfg, start + 10 * MIN)
    _fire(store, cfg, T0 + 2 * 60 * MIN)
    send(store, cfg, T0 + 2 * 60 * MIN)
    items = queries.backlog_items(store, "churn")
    assert items["key"].tolist() == ["ALERT-1"] and items["status"].tolist() == ["To Do"]


def test_ignored_resolution_is_never_reopened_nor_refiled(store):
    cfg, tracker = _tracked(reopen_window="1d"), MemoryTracker()
    seed(store, cfg)
    _fire(store, cfg, T0 + MIN)
    _deliver(store, tracker, T0 + MIN)
    tracker.close("T-1", "Won't Fix", T0 + 2 * MIN)  # a human decides it is not work
    _cycle(store, cfg, tracker, T0 + 3 * MIN, T0 + 4 * MIN)  # only resolves it again
    _fire(store, cfg, T0 + 5 * MIN)  # within the window: would reopen
    report = _deliver(store, tracker, T0 + 5 * MIN)
    assert "not reopened: T-1 was closed as Won't Fix" in report.delivered[0]
    _fire(store, cfg, T0 + 6 * MIN, value=150)
    _fire(store, cfg, T0 + timedelta(days=5))  # long after: would file a new one
    _deliver(store, tracker, T0 + timedelta(days=5))
    assert list(tracker.tickets) == ["T-1"]
    calls = [what for what, _ in tracker.calls]
    assert calls.count("create") == 1 and "reopen" not in calls
    assert tracker.tickets["T-1"]["resolution"] == "Won't Fix"


def test_native_item_closed_as_wont_do_is_not_reopened(store):
    cfg = config(rule(reopen_window="1d"))
    seed(store, cfg)
    _fire(store, cfg, T0 + MIN)
    send(store, cfg, T0 + MIN)
    with store.session() as s:
        alert_items.set_item_status(s, "ALERT-1", "Won't Do", StatusCategory.DONE, T0 + 2 * MIN)
    _fire(store, cfg, T0 + 3 * MIN, value=150)
    _fire(store, cfg, T0 + 4 * MIN)
    send(store, cfg, T0 + 4 * MIN)
    items = queries.backlog_items(store, "churn")
    assert items["key"].tolist() == ["ALERT-1"] and items["status"].tolist() == ["Won't Do"]


def test_silenced_alert_changes_state_but_files_nothing(store):
    cfg = config(rule(), rule("dau-very-low", condition={"kind": "usage", "kpi": "dau",
                                                           "op": "<", "threshold": 60}))
    seed(store, cfg)
    engine.silence(store, product="churn", rule="dau-low", matchers={"kpi": "dau"},
                   starts_at=T0, ends_at=T0 + 60 * MIN, reason="known outage", by="ana")
    outcomes = {o.rule: o for o in _fire(store, cfg, T0 + MIN)}
    assert outcomes["dau-low"].after == "firing" and outcomes["dau-low"].silenced
    assert outcomes["dau-low"].actions == ()
    assert outcomes["dau-very-low"].actions == ("create@backlog",)  # not matched
    alerts = queries.alerts(store, at=T0 + MIN).set_index("rule")
    assert alerts.loc["dau-low", "silenced"] and not alerts.loc["dau-very-low", "silenced"]
    assert queries.outbox(store)["fingerprint"].tolist() == [outcomes["dau-very-low"].fingerprint]
    assert len(queries.silences(store, active_at=T0 + MIN)) == 1
    assert queries.silences(store, active_at=T0 + 2 * 60 * MIN).empty


def test_acknowledgement_is_recorded_and_commented(store):
    cfg = config(rule())
    seed(store, cfg)
    [o] = _fire(store, cfg, T0 + MIN)
    send(store, cfg, T0 + MIN)
    assert engine.acknowledge(store, o.fingerprint, "ana", T0 + 2 * MIN)
    assert engine.acknowledge(store, o.fingerprint, "ana", T0 + 2 * MIN)  # idempotent
    assert not engine.acknowledge(store, "nope", "ana", T0 + 2 * MIN)
    send(store, cfg, T0 + 2 * MIN)
    [alert] = queries.alerts(store).to_dict("records")
    assert (alert["acknowledged_by"], alert["acknowledged_at"]) == ("ana", T0 + 2 * MIN)
    comments = queries.item_comments(store, "churn", "ALERT-1")
    assert comments["text"].tolist() == [f"Acknowledged by ana at {(T0 + 2 * MIN).isoformat()}."]


def test_a_lost_store_finds_the_existing_ticket(store, tmp_path):
    cfg, tracker = _tracked(), MemoryTracker()
    seed(store, cfg)
    _fire(store, cfg, T0 + MIN)
    _deliver(store, tracker, T0 + MIN)
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.upgrade()
    seed(fresh, cfg)
    try:
        [o] = _fire(fresh, cfg, T0 + 2 * MIN)
        assert o.actions == ("create@tracker",)  # the new store knows no ticket...
        report = _deliver(fresh, tracker, T0 + 2 * MIN)
        assert list(tracker.tickets) == ["T-1"]  # ...the tracker does
        assert "commented on open T-1" in report.delivered[0]
        assert queries.alert_tickets(fresh)["key"].tolist() == ["T-1"]
    finally:
        fresh.dispose()


def test_build_sinks_has_the_native_backlog(store):
    sinks = build_sinks(store, config(rule()), lambda: T0)
    assert list(sinks) == ["backlog"]
