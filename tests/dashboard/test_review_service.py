"""The sprint review pack's service on the small world (tests/world/small.py) plus three
items and three alerts written here; SQLite and PostgreSQL (`store`). Every figure is
worked out by hand from the stories below.

Sprint 2 runs Mon 2 Mar 09:00 -> its close Fri 13 Mar 17:00 (window (start, close]).
Added to the small world's backlog, each in Sprint 2 from its creation (10 Feb):
SHOP-8 Report 2 pts, done Wed 11 Mar 10:00; SHOP-9 Analysis 1 pt, done Sat 14 Mar 10:00
(after the close); SHOP-10 Experiment 3 pts, done Thu 12 Mar 10:00.
Usage: signups, a weekly KPI, 40 on Thu 26 Feb and 50 on Thu 5 Mar.
Alerts: fp-old fired Fri 20 Feb 10:00, resolved Sat 21 Feb 10:00 (in Sprint 1);
fp-score fired Sat 28 Feb 10:00 (between the sprints; ticket OPS-7 in Jira), resolved Tue
3 Mar 10:00; fp-drift fired Sun 8 Mar 01:00 (ticket ALERT-1 in dspo's backlog), resolved
Sat 14 Mar 10:00 (after the close).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from world import small

from dashboard.services.review import SprintReview, build_review
from store import records as r
from store.alerts import add_alert_event, ensure_alert
from store.db import Store
from store.outbox import TicketRow, save_ticket
from store.writer import write_records

at = small.at


def _extra_items(labels: dict[str, tuple[str, ...]]) -> list[r.Record]:
    def item(key: str, kind: str, points: float, done: str) -> list[r.Record]:
        return [
            r.BacklogItem(small.PRODUCT, key, f"{kind} <i>{key}</i>", kind, "Done",
                          r.StatusCategory.DONE, at("2026-02-10T09:00"), points=points,
                          sprint="2", resolved=at(done), labels=labels.get(key, ())),
            r.ItemEvent(small.PRODUCT, key, at(done), r.ItemField.STATUS, "To Do", "Done"),
            r.ItemEvent(small.PRODUCT, key, at(done), r.ItemField.STATUS_CATEGORY, "todo",
                        "done"),
        ]
    return [*item("SHOP-8", "Report", 2, "2026-03-11T10:00"),
            *item("SHOP-9", "Analysis", 1, "2026-03-14T10:00"),
            *item("SHOP-10", "Experiment", 3, "2026-03-12T10:00")]


def _alert(session: object, fp: str, fired: str, resolved: str) -> None:
    alert = ensure_alert(session, fp, f"rule-{fp}", small.PRODUCT, {}, "warning",  # type: ignore[arg-type]
                         at(fired))
    add_alert_event(session, alert.id, at(fired), "pending", "firing", 1.0)  # type: ignore[arg-type]
    add_alert_event(session, alert.id, at(resolved), "firing", "normal", 0.0)  # type: ignore[arg-type]


def _seed(store: Store, labels: dict[str, tuple[str, ...]] | None = None) -> Store:
    small.seed(store)
    with store.session() as session:
        write_records(session, "tracker", _extra_items(labels or {}))
        write_records(session, "product-db", [  # a weekly KPI: older than two days at both ends
            r.Point(small.PRODUCT, r.SeriesKind.USAGE, "signups", at(day), value)
            for day, value in (("2026-02-26T00:00", 40.0), ("2026-03-05T00:00", 50.0))])
        _alert(session, "fp-old", "2026-02-20T10:00", "2026-02-21T10:00")
        _alert(session, "fp-score", "2026-02-28T10:00", "2026-03-03T10:00")
        _alert(session, "fp-drift", "2026-03-08T01:00", "2026-03-14T10:00")
        save_ticket(session, TicketRow("fp-score", "jira", "OPS-7", "https://jira/OPS-7",
                                       True, "Done", at("2026-02-28T10:05"),
                                       at("2026-03-03T10:00")))
        save_ticket(session, TicketRow("fp-drift", "backlog", "ALERT-1", None, False, None,
                                       at("2026-03-08T01:00"), None))
    return store


def _review(store: Store, sprint: str | None) -> SprintReview:
    view = build_review(store, small.product_config(), sprint, as_of=small.AS_OF)
    assert view is not None
    return view


def test_the_latest_closed_sprint_pack(store: Store) -> None:
    view = _review(_seed(store), None)  # no sprint asked: the latest closed, Sprint 2
    assert (view.sprint_id, view.name) == ("2", "Sprint 2")
    assert (view.window.start, view.window.close) == (at("2026-03-02T09:00"),
                                                      at("2026-03-13T17:00"))
    assert list(view.closed["external_id"]) == ["1", "2"]  # the selector's choices
    # committed at the start: SHOP-1 3 + SHOP-2 5 + SHOP-5 8 + SHOP-8 2 + SHOP-9 1
    # + SHOP-10 3 = 22; delivered: SHOP-1 3 (increment) + SHOP-8 2 (intermediate delivery)
    # + SHOP-10 3 (experiment) = 8; SHOP-9 was done after the close
    assert (view.committed, view.completed) == (22.0, 8.0)
    assert list(zip(view.delivered["key"], view.delivered["kind"], view.delivered["points"],
                    strict=True)) == [("SHOP-1", "increment", 3.0), ("SHOP-8", "delivery", 2.0),
                                      ("SHOP-10", "experiment", 3.0)]
    assert view.by_kind == {"increment": 3.0, "delivery": 2.0, "experiment": 3.0}
    assert view.delivered["points"].sum() == view.completed
    assert list(view.experiments["key"]) == ["SHOP-10"]  # the ledger's row of the sprint
    assert view.goal_check.status == "not assessed"  # no item carries sprint-goal
    # champion 1 -> 2 (4 Mar), back to 1 (5 Mar 21:00), 2 again (7 Mar: a promotion over
    # the last version held, 1); challenger set to 3 (10 Mar). Champion's first move to 1
    # (18 Feb) was in Sprint 1.
    moves = [(m.alias, m.from_version, m.to_version, m.kind)
             for m in view.promotions.itertuples(index=False)]
    assert moves == [("champion", "1", "2", "promotion"), ("champion", "2", "1", "rollback"),
                     ("champion", "1", "2", "promotion"), ("challenger", None, "3", "promotion")]
    health = view.health.set_index("objective")
    # DAU 7-day mean: at the start (2 Mar 09:00) only 2 Mar's 1,000 -> green (>= 1,000);
    # at the close the week to 13 Mar: 7 and 8 Mar 500 each + 9..13 Mar 1,100 x 5 = 6,500
    # / 7 = 928.57 -> amber (>= 900, < 1,000): worse
    dau = health.loc["Daily active users"]
    assert (dau["start_value"], dau["start_status"]) == (1000.0, "green")
    assert dau["end_value"] == pytest.approx(6500 / 7)
    assert (dau["end_status"], dau["trend"]) == ("amber", "worse")
    # scoring success over 7 days: no run before the start (unknown); at the close the runs
    # of 8..13 Mar, 11 Mar failed: 5 / 6 = 0.833 -> red
    scoring = health.loc["Scoring success rate"]
    assert (scoring["start_status"], scoring["end_status"]) == ("unknown", "red")
    assert scoring["end_value"] == pytest.approx(5 / 6)
    # training freshness: last success 2 Mar 04:00 -> 5 h at the start; 9 Mar 04:00 ->
    # 4 d 13 h = 109 h at the close (both <= 120: green)
    fresh = health.loc["Training freshness"]
    assert (fresh["start_value"], fresh["end_value"], fresh["trend"]) == (5.0, 109.0, "same")
    # alerts: fp-score resolved inside (fired before), fp-drift fired inside (resolved
    # after); fp-old is Sprint 1's
    alerts = [(a.fingerprint, a.fired_in_sprint, a.resolved_in_sprint, a.ticket_key,
               a.ticket_title) for a in view.alerts.itertuples(index=False)]
    assert alerts == [("fp-score", False, True, "OPS-7", None),
                      ("fp-drift", True, False, "ALERT-1", "Feature drift on shop-features")]
    assert (view.fired, view.resolved) == (1, 1)
    # usage: dau 1,000 (Mon 2 Mar) -> 1,100 (Fri 13 Mar): (1100 - 1000) / 1000 = +10 %;
    # orders only from 9 Mar: nothing at the start, 40 at the close, no change
    usage = view.usage.set_index("kpi")
    assert tuple(usage.loc["dau", ["start_value", "end_value", "change_pct"]]) == (
        1000.0, 1100.0, 10.0)
    assert usage.loc["orders", "end_value"] == 40.0
    assert usage.loc[["orders"], ["start_value", "change_pct"]].isna().all(axis=None)
    # signups, weekly: 40 (26 Feb) at the start, 50 (5 Mar) at the close: +25 %
    assert tuple(usage.loc["signups", ["start_value", "end_value", "change_pct"]]) == (
        40.0, 50.0, 25.0)


def test_goal_met_by_the_products_own_label(store: Store) -> None:
    # SHOP-9 (done 14 Mar, after the close) carries sprint-goal, the default label, which
    # this product does not use: its label "objectif" is on SHOP-8 (done 11 Mar) and
    # SHOP-10 (done 12 Mar), both done by the close: met (with the default: not met)
    _seed(store, {"SHOP-8": ("objectif",), "SHOP-9": ("sprint-goal",),
                  "SHOP-10": ("objectif",)})
    shop = small.product_config()
    product = shop.model_copy(update={"backlog": shop.backlog.model_copy(
        update={"goal_label": "objectif"})})
    view = build_review(store, product, "2", as_of=small.AS_OF)
    assert view is not None and view.goal_check.status == "met"
    assert list(zip(view.goal_check.items["key"], view.goal_check.items["done"],
                    strict=True)) == [("SHOP-10", True), ("SHOP-8", True)]  # sorted as text


def test_sprint_one_holds_its_own_promotion_and_alert(store: Store) -> None:
    view = _review(_seed(store), "1")
    # Sprint 1: (16 Feb 09:00, 27 Feb 17:00]: champion set to 1 on 18 Feb; fp-old fired
    # and resolved in it; fp-score fired on 28 Feb, after its close
    assert [(m.alias, m.from_version, m.to_version) for m in
            view.promotions.itertuples(index=False)] == [("champion", None, "1")]
    assert list(view.alerts["fingerprint"]) == ["fp-old"]
    assert (view.fired, view.resolved) == (1, 1)
    # delivered: SHOP-4 bug 1 (done 20 Feb) + SHOP-7 story 5 (done 25 Feb) = 6
    assert (view.completed, view.by_kind["increment"]) == (6.0, 6.0)


def test_no_closed_sprint_no_review(store: Store) -> None:
    # on 20 Feb Sprint 1 is still running: nothing to review yet
    assert build_review(_seed(store), small.product_config(), None,
                        as_of=datetime.fromisoformat("2026-02-20T00:00+00:00")) is None
