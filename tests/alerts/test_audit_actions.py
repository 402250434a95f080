"""Every PO action on alerts is in the audit log, named after who did it, in the same
transaction as the action (the page and the CLI call the same functions)."""

from __future__ import annotations

from alert_world import MIN, T0, config, dau, rule, run, seed

from alerts import deadletters, engine
from store import queries
from store.audit import audit_events


def test_acknowledge_and_silence_are_audited(store):  # type: ignore[no-untyped-def]
    cfg = config(rule())
    seed(store, cfg)
    dau(store, T0, 50)
    [fired] = run(store, cfg, T0 + MIN)
    fp = queries.alerts(store)["fingerprint"].iloc[0]
    assert engine.acknowledge(store, fp, "ana", T0 + 2 * MIN)
    engine.silence(store, product="churn", rule="dau-low", matchers={}, starts_at=T0 + 3 * MIN,
                   ends_at=T0 + 63 * MIN, reason="maintenance", by="ana")
    events = audit_events(store)
    assert events[["actor", "action", "target"]].values.tolist() == [
        ["ana", "alert-silence", "dau-low"], ["ana", "alert-acknowledge", fp]]
    assert events["detail"].iloc[0]["reason"] == "maintenance"
    assert fired.after == "firing"


def test_a_retry_or_discard_of_nothing_audits_nothing(store):  # type: ignore[no-untyped-def]
    assert deadletters.retry(store, [999], "ana", T0) == []
    assert deadletters.discard(store, [999], "ana", T0) == []
    assert audit_events(store).empty
