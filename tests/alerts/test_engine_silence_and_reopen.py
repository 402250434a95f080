"""A silence that ends while its alert fires files the item at that evaluation; a reopened
item says why it reopened (the new window, value and report). Controlled time, SQLite and
PostgreSQL (`store`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alert_world import MIN, T0, MemoryTracker, config, dau, rule, run, seed, send

from alerts import engine
from alerts.delivery import deliver
from alerts.engine import LATE_NOTE
from alerts.rules import Instance
from alerts.states import FIRING
from alerts.tickets import Links, plan
from store import queries
from store import records as r
from store.db import Store
from store.outbox import TicketRow
from store.writer import write_records

DAY = timedelta(days=1)


def _silence(store: Store, until: datetime) -> None:
    engine.silence(store, product="churn", rule="dau-low", matchers={}, starts_at=T0,
                   ends_at=until, reason="planned migration", by="ana")


def test_a_silence_that_ends_while_firing_files_at_that_evaluation(store):
    """Silenced from T0 to T0+30m; DAU 50 < 100 from T0+1m on. Fired at T0+1m (nothing
    filed), still silenced at T0+29m; at T0+30m the silence is over (it is active while
    starts_at <= t < ends_at) and that evaluation files ALERT-1, saying when it fired and
    when it was filed; T0+31m files nothing more; the resolution at T0+40m closes it."""
    cfg = config(rule())
    seed(store, cfg)
    _silence(store, T0 + 30 * MIN)
    dau(store, T0, 50)
    [fired] = run(store, cfg, T0 + MIN)
    assert (fired.transition, fired.silenced, fired.actions) == ("fired", True, ())
    [held] = run(store, cfg, T0 + 29 * MIN)
    assert (held.after, held.silenced, held.actions) == ("firing", True, ())
    [filed] = run(store, cfg, T0 + 30 * MIN)
    assert (filed.after, filed.transition, filed.silenced, filed.actions) == \
        ("firing", None, False, ("create@backlog",))
    send(store, cfg, T0 + 30 * MIN)
    [item] = queries.backlog_items(store, "churn").to_dict("records")
    assert item["key"] == "ALERT-1" and item["created"] == T0 + 30 * MIN
    [row] = queries.outbox(store, pending_only=False).to_dict("records")
    text = row["payload"]["spec"]["description"]  # what the item was filed with
    assert f"firing since {(T0 + MIN).isoformat()}" in text
    assert f"Filed at {(T0 + 30 * MIN).isoformat()}, not when it fired" in text
    [again] = run(store, cfg, T0 + 31 * MIN)
    assert again.actions == ()
    assert len(queries.outbox(store, pending_only=False)) == 1
    notes = queries.alert_events(store)[["ts", "note"]].values.tolist()
    assert [T0 + 30 * MIN, LATE_NOTE] in [[ts.to_pydatetime(), n] for ts, n in notes]
    dau(store, T0 + 39 * MIN, 150)
    [resolved] = run(store, cfg, T0 + 40 * MIN)
    assert resolved.actions == ("resolve@backlog",)
    send(store, cfg, T0 + 40 * MIN)
    assert queries.backlog_items(store, "churn")["status"].tolist() == ["Done"]


def test_an_alert_that_resolves_under_its_silence_files_nothing_ever(store):
    """Fired and resolved while silenced: neither the firing nor the resolution is filed,
    and the end of the silence finds nothing to file (the alert is normal)."""
    cfg = config(rule())
    seed(store, cfg)
    _silence(store, T0 + 30 * MIN)
    dau(store, T0, 50)
    run(store, cfg, T0 + MIN)
    dau(store, T0 + 5 * MIN, 150)
    [o] = run(store, cfg, T0 + 10 * MIN)
    assert (o.transition, o.actions) == ("resolved", ())
    [o] = run(store, cfg, T0 + 31 * MIN)
    assert (o.after, o.actions) == ("normal", ())
    assert queries.outbox(store, pending_only=False).empty


def test_a_silence_that_ends_while_recovering_files_only_if_it_holds_again(store):
    """keep_firing_for 1h. Fired silenced at T0+1m, cleared at T0+10m (recovering); the
    silence ends at T0+30m: a recovering alert files nothing (its condition no longer
    holds); it holds again at T0+40m, and that re-fire files the item (not a comment on an
    item that does not exist)."""
    cfg = config(rule(keep_firing_for="1h"))
    seed(store, cfg)
    _silence(store, T0 + 30 * MIN)
    dau(store, T0, 50)
    run(store, cfg, T0 + MIN)
    dau(store, T0 + 9 * MIN, 150)
    [o] = run(store, cfg, T0 + 10 * MIN)
    assert o.after == "recovering"
    [o] = run(store, cfg, T0 + 31 * MIN)
    assert (o.after, o.actions) == ("recovering", ())
    dau(store, T0 + 39 * MIN, 40)
    [o] = run(store, cfg, T0 + 40 * MIN)
    assert (o.transition, o.actions) == ("refired", ("create@backlog",))


def test_a_tracker_gets_the_late_filing_once(store):
    cfg = config(rule(sinks=["tracker"]),
                 sinks=[{"name": "tracker", "kind": "webhook", "url": "http://unused.test"}])
    tracker = MemoryTracker()
    seed(store, cfg)
    _silence(store, T0 + 30 * MIN)
    dau(store, T0, 50)
    run(store, cfg, T0 + MIN)
    for minutes in (30, 31, 45):
        run(store, cfg, T0 + minutes * MIN)
        deliver(store, {"tracker": tracker}, T0 + minutes * MIN)
    assert list(tracker.tickets) == ["T-1"]
    assert "not when it fired" in tracker.tickets["T-1"]["description"]


# ------------------------------------------------------------ why a reopened item reopened

START = datetime(2026, 2, 16, tzinfo=UTC)


def _report(store: Store, start: datetime, days: int, share: float, drifted: int,
            path: str) -> None:
    with store.session() as s:
        write_records(s, "evidently", [r.DriftReport(
            "churn", "churn-features", start, start + days * DAY, share > 0.3, share, drifted,
            10, report_path=path)])


def test_a_reopened_item_says_why_it_reopened(store):
    """Report A (16-23 Feb, 50% drifted) fires and files ALERT-1; report B (23 Feb-2 Mar,
    10%) resolves it at 2 Mar 10:00; report C (2-5 Mar, 70%, 7 of 10 columns) fires again
    on 5 Mar 10:00, within the 7-day reopen window (3 days after resolution), so ALERT-1
    reopens, and its reopening comment carries C's window, value and report, not A's."""
    cfg = config(rule("drift-high", condition={"kind": "drift", "dataset": "churn-features",
                                               "op": ">", "threshold": 0.3},
                      reopen_window="7d", backlog={"title": "Drift {value:.0%}"}))
    seed(store, cfg)
    _report(store, START, 7, 0.5, 5, "/reports/a.html")
    run(store, cfg, START + 7 * DAY + MIN)
    send(store, cfg, START + 7 * DAY + MIN)
    _report(store, START + 7 * DAY, 7, 0.1, 1, "/reports/b.html")
    resolved_at = START + 14 * DAY + 10 * 60 * MIN
    [o] = run(store, cfg, resolved_at)
    assert o.transition == "resolved"
    send(store, cfg, resolved_at)
    _report(store, START + 14 * DAY, 3, 0.7, 7, "/reports/c.html")
    refired_at = START + 17 * DAY + 10 * 60 * MIN
    [o] = run(store, cfg, refired_at)
    assert o.actions == ("reopen@backlog",)
    send(store, cfg, refired_at)
    items = queries.backlog_items(store, "churn")
    assert items["key"].tolist() == ["ALERT-1"] and items["status"].tolist() == ["To Do"]
    reopening = queries.item_comments(store, "churn", "ALERT-1")["text"].iloc[-1]
    assert reopening.startswith(f"Fired again at {refired_at.isoformat()}: value 0.7 > 0.3.")
    assert "Window: 2026-03-02T00:00:00+00:00 to 2026-03-05T00:00:00+00:00." in reopening
    assert "Drifted: 7 of 10 columns" in reopening
    assert "Evidently report file: /reports/c.html" in reopening
    assert "a.html" not in reopening and "2026-02-16" not in reopening


def test_plan_puts_the_new_evidence_in_the_reopening_text():
    """The pure planner, without a store: a closed ticket, resolved 2 days before a re-fire
    (window 7 days), is reopened with this reading's window, value, report and run."""
    cfg = config(rule(reopen_window="7d"))
    [rule_] = cfg.alerts
    now = datetime(2026, 3, 9, 12, tzinfo=UTC)
    inst = Instance({"kpi": "dau"}, 42.0, True,
                    {"window": "2026-03-02 to 2026-03-09", "report_path": "/r/new.html",
                     "run_url": "http://mlflow.test/runs/7"})
    closed = TicketRow("fp", "backlog", "ALERT-1", None, True, "Done", now - 9 * DAY,
                       now - 2 * DAY)
    [entry] = plan(rule_, "fp", FIRING, "fired", inst, now=now, started=now, fired=now,
                   last_resolved=now - 2 * DAY, tickets={"backlog": closed}, filed=set(),
                   links=Links(base_url="http://dspo.test"))
    assert entry.action == "reopen"
    text = entry.payload["text"]
    assert text.splitlines()[0] == f"Fired again at {now.isoformat()}: value 42 < 100."
    assert "Window: 2026-03-02 to 2026-03-09." in text
    assert "Evidently report file: /r/new.html" in text
    assert "MLflow run: http://mlflow.test/runs/7" in text
