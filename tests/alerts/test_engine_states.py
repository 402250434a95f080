"""Every state transition with controlled time, on SQLite and PostgreSQL (`store`)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from alert_world import MIN, T0, config, dau, rule, run, seed

from alerts import engine
from store import queries


def _states(store) -> list[tuple[str | None, str]]:
    events = queries.alert_events(store)
    return list(zip(events["from_state"], events["to_state"], strict=True))


def test_pending_then_firing_after_for_then_recovering_then_normal(store):
    cfg = config(rule(**{"for": "5m", "keep_firing_for": "10m"}))
    seed(store, cfg)
    dau(store, T0, 50)
    [o] = run(store, cfg, T0 + MIN)
    assert (o.before, o.after, o.transition, o.actions) == ("normal", "pending", "pending", ())
    [o] = run(store, cfg, T0 + 5 * MIN)  # held 4 min: still pending
    assert (o.after, o.transition) == ("pending", None)
    [o] = run(store, cfg, T0 + 6 * MIN)  # held 5 min: fires
    assert (o.after, o.transition, o.actions) == ("firing", "fired", ("create@backlog",))
    dau(store, T0 + 7 * MIN, 150)
    [o] = run(store, cfg, T0 + 8 * MIN)
    assert (o.after, o.transition, o.actions) == ("recovering", "recovering", ())
    [o] = run(store, cfg, T0 + 17 * MIN)  # cleared 9 min < keep_firing_for
    assert o.after == "recovering"
    [o] = run(store, cfg, T0 + 18 * MIN)
    assert (o.after, o.transition, o.actions) == ("normal", "resolved", ("resolve@backlog",))
    assert _states(store) == [("normal", "pending"), ("pending", "firing"),
                              ("firing", "recovering"), ("recovering", "normal")]
    [row] = queries.alerts(store).to_dict("records")
    assert row["fired_at"] == T0 + 6 * MIN and row["resolved_at"] == T0 + 18 * MIN
    assert pd.isna(row["pending_since"])


def test_pending_cancelled_files_nothing(store):
    cfg = config(rule(**{"for": "1h"}))
    seed(store, cfg)
    dau(store, T0, 50)
    run(store, cfg, T0 + MIN)
    dau(store, T0 + 2 * MIN, 150)
    [o] = run(store, cfg, T0 + 3 * MIN)
    assert (o.before, o.after, o.transition) == ("pending", "normal", "cancelled")
    assert queries.outbox(store, pending_only=False).empty


def test_for_zero_fires_at_once_and_healthy_instances_leave_no_row(store):
    cfg = config(rule())
    seed(store, cfg)
    dau(store, T0, 150)
    [o] = run(store, cfg, T0 + MIN)
    assert (o.after, o.transition) == ("normal", None)
    assert queries.alerts(store).empty
    dau(store, T0 + 2 * MIN, 50)
    [o] = run(store, cfg, T0 + 3 * MIN)
    assert (o.before, o.after, o.transition) == ("normal", "firing", "fired")


def test_recovering_that_holds_again_refires_with_a_comment(store):
    cfg = config(rule(keep_firing_for="1h"))
    seed(store, cfg)
    dau(store, T0, 50)
    run(store, cfg, T0 + MIN)
    dau(store, T0 + 2 * MIN, 150)
    run(store, cfg, T0 + 3 * MIN)
    dau(store, T0 + 4 * MIN, 40)
    [o] = run(store, cfg, T0 + 5 * MIN)
    assert (o.before, o.after, o.transition, o.actions) == \
        ("recovering", "firing", "refired", ("comment@backlog",))


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("ok", ("normal", "resolved")), ("alerting", ("firing", None)),
     ("keep_state", ("firing", None))],
)
def test_no_data_mapping(store, setting, expected):
    cfg = config(rule(no_data=setting, condition={"kind": "usage", "kpi": "dau", "op": "<",
                                                  "threshold": 100}))
    seed(store, cfg)
    dau(store, T0, 50)
    run(store, cfg, T0 + MIN)
    # The KPI's points vanish from the window the rule reads: no data.
    [o] = run(store, cfg, T0 + timedelta(days=200))
    assert o.observation == "no_data"
    assert (o.after, o.transition) == expected


def test_no_data_alerting_fires_a_never_seen_instance(store):
    cfg = config(rule(no_data="alerting"))
    seed(store, cfg)
    [o] = run(store, cfg, T0)
    assert (o.observation, o.after, o.value) == ("no_data", "firing", None)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("ok", "normal"), ("alerting", "firing"), ("keep_state", "firing")],
)
def test_error_mapping(store, monkeypatch, setting, expected):
    cfg = config(rule(on_error=setting))
    seed(store, cfg)
    dau(store, T0, 50)
    run(store, cfg, T0 + MIN)

    def broken(*_args, **_kwargs):
        raise RuntimeError("source table gone")

    monkeypatch.setattr(engine, "fetch", broken)
    [result] = engine.evaluate(store, cfg, T0 + 2 * MIN)
    assert result.error == "RuntimeError: source table gone"
    [o] = result.outcomes
    assert (o.observation, o.after) == ("error", expected)


def test_evaluating_twice_at_one_instant_changes_nothing(store):
    cfg = config(rule(**{"for": "2m"}))
    seed(store, cfg)
    dau(store, T0, 50)
    for now in (T0 + MIN, T0 + 3 * MIN):
        run(store, cfg, now)
        before = (queries.alerts(store).drop(columns="silenced"), queries.alert_events(store),
                  queries.outbox(store, pending_only=False))
        [again] = run(store, cfg, now)
        assert again.skipped and again.transition is None
        after = (queries.alerts(store).drop(columns="silenced"), queries.alert_events(store),
                 queries.outbox(store, pending_only=False))
        for a, b in zip(before, after, strict=True):
            assert a.equals(b)
    assert len(queries.outbox(store, pending_only=False)) == 1


def test_dry_run_writes_nothing(store):
    cfg = config(rule())
    seed(store, cfg)
    dau(store, T0, 50)
    [result] = engine.evaluate(store, cfg, T0 + MIN, dry_run=True)
    assert [o.actions for o in result.outcomes] == [("create@backlog",)]
    assert queries.alerts(store).empty and queries.outbox(store).empty
