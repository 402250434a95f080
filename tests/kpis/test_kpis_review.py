"""The sprint review pack's figures (kpis.review) on one hand-made sprint.

Sprint "7": started Mon 2024-03-04 09:00, completed Fri 2024-03-15 16:00: the window is
(03-04 09:00, 03-15 16:00]. Every item is in sprint 7 since 02-01 unless said; "done" is
its `resolved` (no status events: kpis.history derives todo before it, done from it).

| item | type       | pts | state                      | delivered?                        |
|------|------------|-----|----------------------------|-----------------------------------|
| S1   | Story      | 3   | done 03-08 10:00           | yes, increment                    |
| R1   | report     | 2   | done 03-12 10:00           | yes, intermediate delivery        |
| P1   | Prototype  | 1   | done 03-15 16:00 (close)   | yes, delivery (the close counts)  |
| X1   | Experiment | 5   | done 03-14 10:00           | yes, experiment                   |
| B1   | Bug        | 8   | in progress                | no                                |
| O1   | Story      | 2   | done 03-01 (before start)  | no: completed outside the sprint  |
| L1   | analysis   | 3   | done 03-16 (after close)   | no                                |
| Q1   | Story      | 1   | sprint 8, done 03-10       | no: not in this sprint            |
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from kpis_frames import events_frame, item, items_frame, points_frame, sprint, sprints_frame, t

from config.experiments import ItemKinds
from kpis.health import ObjectiveResult, Status
from kpis.review import (
    BETTER,
    INCREMENT,
    MET,
    NOT_ASSESSED,
    NOT_MET,
    SAME,
    UNKNOWN,
    WORSE,
    change_pct,
    delivered_by_type,
    delivered_items,
    goal_check,
    health_change,
    points_by_kind,
    promotions,
    sprint_alerts,
    sprint_window,
    trend,
    usage_change,
)
from kpis.sprint_report import sprint_items
from kpis.velocity import sprint_velocity

AS_OF = t("2024-04-01 00:00")
SPRINTS = sprints_frame([
    sprint("7", state="closed", start="2024-03-04 09:00", end="2024-03-15 17:00",
           completed="2024-03-15 16:00"),
    sprint("8", state="active", start="2024-03-18 09:00", end="2024-03-29 17:00"),
])
WINDOW = sprint_window(SPRINTS, "7", as_of=AS_OF)


def _item(key: str, kind: str, points: float, done: str | None, *, sprint_id: str = "7",
          labels: tuple[str, ...] = ()) -> dict[str, Any]:
    row = item(key, points=points, sprint=sprint_id, type=kind,
               category="done" if done else "in_progress", resolved=done)
    return row | {"labels": list(labels), "title": f"<b>{key}</b>"}


def _items(goal: tuple[str, ...] = ()) -> pd.DataFrame:
    def labels(key: str) -> tuple[str, ...]:
        return ("ml", "sprint-goal") if key in goal else ("ml",)

    rows = [
        ("S1", "Story", 3, "2024-03-08 10:00", "7"),
        ("R1", "report", 2, "2024-03-12 10:00", "7"),
        ("P1", "Prototype", 1, "2024-03-15 16:00", "7"),
        ("X1", "Experiment", 5, "2024-03-14 10:00", "7"),
        ("B1", "Bug", 8, None, "7"),
        ("O1", "Story", 2, "2024-03-01 10:00", "7"),
        ("L1", "analysis", 3, "2024-03-16 10:00", "7"),
        ("Q1", "Story", 1, "2024-03-10 10:00", "8"),
    ]
    return items_frame([_item(k, kind, p, done, sprint_id=s, labels=labels(k))
                        for k, kind, p, done, s in rows])


def _per_item(items: pd.DataFrame) -> pd.DataFrame:
    return sprint_items(SPRINTS, items, events_frame([]), "7", as_of=AS_OF)


def test_the_window_is_start_to_close():
    assert (WINDOW.sprint_id, WINDOW.name) == ("7", "Sprint 7")
    assert (WINDOW.start, WINDOW.close) == (t("2024-03-04 09:00"), t("2024-03-15 16:00"))


def test_an_open_sprint_has_no_review():
    with pytest.raises(ValueError, match="not closed"):
        sprint_window(SPRINTS, "8", as_of=AS_OF)
    # nor has a closed sprint looked at before its close
    with pytest.raises(ValueError, match="not closed"):
        sprint_window(SPRINTS, "7", as_of=t("2024-03-15 15:59"))


def test_delivered_items_by_kind_and_type_add_up_to_velocity():
    items = _items()
    delivered = delivered_items(_per_item(items), items, ItemKinds())
    # increments first, then deliveries (by type: Prototype before report), then experiments
    assert list(zip(delivered["key"], delivered["kind"], delivered["points"], strict=True)) \
        == [("S1", "increment", 3.0), ("P1", "delivery", 1.0), ("R1", "delivery", 2.0),
            ("X1", "experiment", 5.0)]
    assert delivered.loc[0, "title"] == "<b>S1</b>"  # as written: the page shows it as text
    by_type = delivered_by_type(delivered)
    assert by_type.values.tolist() == [["increment", "Story", 1, 3.0],
                                       ["delivery", "Prototype", 1, 1.0],
                                       ["delivery", "report", 1, 2.0],
                                       ["experiment", "Experiment", 1, 5.0]]
    # increments 3; deliveries P1 1 + R1 2 = 3; experiments X1 5; in all 3 + 3 + 5 = 11
    assert points_by_kind(delivered) == {"increment": 3.0, "delivery": 3.0, "experiment": 5.0}
    velocity = sprint_velocity(SPRINTS, items, events_frame([]), as_of=AS_OF).set_index(
        "external_id").loc["7"]
    assert velocity["completed"] == 11.0 == delivered["points"].sum()
    # committed: every sprint-7 item not done at the start: 3 + 2 + 1 + 5 + 8 + 3 = 22
    assert velocity["commitment"] == 22.0


def test_a_product_names_its_own_delivery_types():
    items = _items()
    kinds = ItemKinds(experiment=["spike"], delivery=["Story"])
    delivered = delivered_items(_per_item(items), items, kinds)
    # S1 (Story) is now a delivery; the experiment and the report are plain increments
    assert points_by_kind(delivered) == {"increment": 8.0, "delivery": 3.0, "experiment": 0.0}
    assert INCREMENT in set(delivered["kind"])


def test_nothing_delivered_gives_empty_typed_frames():
    items = items_frame([_item("B1", "Bug", 8, None)])
    delivered = delivered_items(_per_item(items), items, ItemKinds())
    assert delivered.empty and delivered_by_type(delivered).empty
    assert points_by_kind(delivered) == {"increment": 0.0, "delivery": 0.0, "experiment": 0.0}


@pytest.mark.parametrize(("goal", "status", "done"), [
    pytest.param(("S1", "X1"), MET, [("S1", True), ("X1", True)], id="all-goal-items-done"),
    pytest.param(("S1", "B1"), NOT_MET, [("B1", False), ("S1", True)], id="one-not-done"),
    pytest.param(("L1",), NOT_MET, [("L1", False)], id="done-only-after-the-close"),
    pytest.param(("P1",), MET, [("P1", True)], id="done-at-the-close-instant"),
    pytest.param((), NOT_ASSESSED, [], id="no-item-labelled"),
    pytest.param(("Q1",), NOT_ASSESSED, [], id="labelled-item-of-another-sprint"),
])
def test_goal_met_not_met_or_not_assessed(goal, status, done):
    items = _items(goal)
    check = goal_check(_per_item(items), items, "sprint-goal")
    assert check.status == status
    assert list(zip(check.items["key"], check.items["done"], strict=True)) == done


def test_goal_label_is_the_products_own():
    items = _items(("B1",))
    assert goal_check(_per_item(items), items, "goal").status == NOT_ASSESSED


def _alias(alias: str, version: str | None, ts: str) -> dict[str, Any]:
    return {"model": "churn", "alias": alias, "version": version, "ts": t(ts), "origin": "tag"}


def test_promotions_inside_the_window_with_the_version_they_left():
    events = pd.DataFrame([
        _alias("champion", "1", "2024-03-01 10:00"),  # before: sets where champion starts
        _alias("challenger", "3", "2024-03-04 09:00"),  # at the start instant: sprint before
        _alias("champion", "2", "2024-03-06 10:00"),  # 1 -> 2, a promotion
        _alias("champion", "2", "2024-03-07 10:00"),  # the same version again: no move
        _alias("champion", "1", "2024-03-10 10:00"),  # 2 -> 1, a rollback
        _alias("challenger", "4", "2024-03-15 16:00"),  # at the close: this sprint
        _alias("champion", "2", "2024-03-20 10:00"),  # after the close
    ])
    found = promotions(events, WINDOW)
    assert [(r.alias, r.from_version, r.to_version, r.kind, r.ts)
            for r in found.itertuples(index=False)] == [
        ("champion", "1", "2", "promotion", t("2024-03-06 10:00")),
        ("champion", "2", "1", "rollback", t("2024-03-10 10:00")),
        ("challenger", "3", "4", "promotion", t("2024-03-15 16:00")),
    ]
    assert promotions(events.iloc[:0], WINDOW).empty


@pytest.mark.parametrize(("start", "end", "expected"), [
    (Status.GREEN, Status.AMBER, WORSE),
    (Status.AMBER, Status.RED, WORSE),
    (Status.RED, Status.AMBER, BETTER),
    (Status.AMBER, Status.GREEN, BETTER),
    (Status.AMBER, Status.AMBER, SAME),
    (Status.UNKNOWN, Status.GREEN, UNKNOWN),
    (Status.RED, Status.UNKNOWN, UNKNOWN),
    (Status.UNKNOWN, Status.UNKNOWN, SAME),
], ids=lambda v: str(v))
def test_health_trend_compares_statuses(start, end, expected):
    assert trend(start, end) == expected


def _result(name: str, value: float | None, status: Status) -> ObjectiveResult:
    return ObjectiveResult(name, "usage", value, status, 900.0, 1000.0, ">=", None, "")


def test_health_change_pairs_each_objective():
    frame = health_change([_result("dau", 950.0, Status.AMBER), _result("auc", None,
                                                                         Status.UNKNOWN)],
                          [_result("dau", 1010.0, Status.GREEN), _result("auc", 0.8,
                                                                          Status.GREEN)])
    assert frame[["objective", "start_status", "end_status", "trend"]].values.tolist() == [
        ["dau", "amber", "green", "better"], ["auc", "unknown", "green", "unknown"]]
    assert frame.loc[0, "start_value"] == 950.0 and pd.isna(frame.loc[1, "start_value"])
    with pytest.raises(ValueError, match="each objective"):
        health_change([_result("dau", 1.0, Status.RED)], [])


def _incident(fp: str, started: str, resolved: str | None) -> dict[str, Any]:
    return {"fingerprint": fp, "rule": f"rule-{fp}", "started": t(started),
            "resolved": t(resolved)}


def _ticket(fp: str, sink: str, key: str, opened: str, closed: str | None = None
            ) -> dict[str, Any]:
    return {"fingerprint": fp, "sink": sink, "key": key, "url": f"https://t/{key}",
            "closed": closed is not None, "resolution": None, "opened_at": t(opened),
            "closed_at": t(closed)}


def test_alerts_fired_or_resolved_in_the_sprint_with_their_ticket():
    incidents = pd.DataFrame([
        _incident("fp1", "2024-03-01 10:00", "2024-03-05 10:00"),  # resolved inside only
        _incident("fp1", "2024-03-06 10:00", "2024-03-07 10:00"),  # fired and resolved
        _incident("fp3", "2024-03-14 10:00", None),  # fired inside, firing at the close
        _incident("fp4", "2024-02-20 10:00", "2024-02-21 10:00"),  # before
        _incident("fp5", "2024-03-15 17:00", None),  # after the close
        _incident("fp6", "2024-03-04 09:00", "2024-03-20 10:00"),  # at start, over after
    ])
    incidents["resolved"] = pd.to_datetime(incidents["resolved"], utc=True)
    tickets = pd.DataFrame([
        _ticket("fp1", "backlog", "ALERT-1", "2024-03-01 10:00", "2024-03-05 10:00"),
        _ticket("fp1", "jira", "OPS-9", "2024-03-06 10:00"),
        _ticket("fp1", "backlog", "ALERT-2", "2024-03-06 10:00"),  # dspo's own: preferred
        _ticket("fp3", "backlog", "ALERT-3", "2024-02-01 10:00"),  # open since: reused
    ])
    for column in ("opened_at", "closed_at"):  # typed as store.queries.alert_tickets gives
        tickets[column] = pd.to_datetime(tickets[column], utc=True)
    found = sprint_alerts(incidents, tickets, WINDOW)
    assert [(r.fingerprint, r.fired_in_sprint, r.resolved_in_sprint, r.ticket_key)
            for r in found.itertuples(index=False)] == [
        ("fp1", False, True, "ALERT-1"),
        ("fp1", True, True, "ALERT-2"),
        ("fp3", True, False, "ALERT-3"),
    ]
    # fired in the sprint: 2 (fp1 again, fp3); resolved in it: 2 (both fp1 episodes)
    assert (found["fired_in_sprint"].sum(), found["resolved_in_sprint"].sum()) == (2, 2)
    none = sprint_alerts(incidents, tickets.iloc[:0], WINDOW)
    assert none["ticket_key"].isna().all() and len(none) == 3


@pytest.mark.parametrize(("points", "expected"), [
    # latest at or before the start: 120 (the point at 09:00 itself); at the close: 180
    # (16:00 itself; 999 came after). (180 - 120) / 120 = +50 %
    pytest.param([("2024-03-03 00:00", 100), ("2024-03-04 09:00", 120),
                  ("2024-03-10 00:00", 150), ("2024-03-15 16:00", 180),
                  ("2024-03-16 00:00", 999)], (120.0, 180.0, 50.0), id="up-50-percent"),
    # 200 at the start, 150 at the close: (150 - 200) / 200 = -25 %
    pytest.param([("2024-03-01 00:00", 200), ("2024-03-12 00:00", 150)],
                 (200.0, 150.0, -25.0), id="down-25-percent"),
    # a NaN at the close is skipped for the last valid value, 80: (80 - 40) / 40 = +100 %
    pytest.param([("2024-03-01 00:00", 40), ("2024-03-08 00:00", 80),
                  ("2024-03-15 00:00", None)], (40.0, 80.0, 100.0), id="nan-skipped"),
    pytest.param([("2024-03-10 00:00", 5)], (None, 5.0, None), id="no-value-at-start"),
    pytest.param([("2024-03-01 00:00", 0), ("2024-03-10 00:00", 5)], (0.0, 5.0, None),
                 id="from-zero"),
    pytest.param([], (None, None, None), id="no-points"),
])
def test_usage_change_from_start_to_close(points, expected):
    row = usage_change("dau", points_frame(points), WINDOW)
    assert (row["start_value"], row["end_value"], row["change_pct"]) == expected


def test_change_pct_from_a_negative_start():
    # -10 -> -5 is an increase: (-5 - -10) / |-10| = +50 %
    assert change_pct(-10.0, -5.0) == 50.0
