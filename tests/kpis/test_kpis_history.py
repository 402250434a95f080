"""Rebuilding an item's fields at an instant from its current row and its events."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from kpis_frames import ev, events_frame, item, items_frame, t

from kpis import history
from store.records import ItemField, StatusCategory

# X: created 03-01 09:00; today in sprint "2", 5 points, done.
#   03-02 10:00 sprint None -> "1"        03-05 10:00 points "3" -> "5"
#   03-06 10:00 todo -> in_progress       03-08 10:00 in_progress -> done
#   03-10 10:00 sprint "1" -> "2"
# Y: no events at all (current values at every instant).
# Z: taken out of sprint "1" on 03-04 10:00 (to_value None must win, not be skipped).
# W: two status changes at the same instant; the later row in the frame wins.
ITEMS = items_frame(
    [
        item("X", points=5, sprint="2", category="done", created="2024-03-01 09:00"),
        item("Y", points=None, sprint=None, category="todo", created="2024-02-01 09:00"),
        item("Z", points=2, sprint=None, category="todo", created="2024-02-01 09:00"),
        item("W", points=1, sprint="1", category="done", created="2024-02-01 09:00"),
    ]
)
EVENTS = events_frame(
    [
        ev("X", "2024-03-10 10:00", "sprint", "1", "2"),  # out of order on purpose
        ev("X", "2024-03-02 10:00", "sprint", None, "1"),
        ev("X", "2024-03-05 10:00", "points", "3", "5.0"),
        ev("X", "2024-03-06 10:00", "status_category", "todo", "in_progress"),
        ev("X", "2024-03-08 10:00", "status_category", "in_progress", "done"),
        ev("Z", "2024-03-04 10:00", "sprint", "1", None),
        ev("W", "2024-03-06 10:00", "status_category", "todo", "in_progress"),
        ev("W", "2024-03-06 10:00", "status_category", "in_progress", "done"),
        ev("GHOST", "2024-03-06 10:00", "sprint", None, "1"),  # no such item: ignored
    ]
)


# expected = (sprint, points, status_category, exists)
@pytest.mark.parametrize(
    ("key", "at", "expected"),
    [
        # before created: not existing; values are the from_values of the first events after
        pytest.param("X", "2024-02-28 00:00", (None, 3.0, "todo", False), id="X-before-created"),
        # exactly at created: exists
        pytest.param("X", "2024-03-01 09:00", (None, 3.0, "todo", True), id="X-at-created"),
        # an event exactly at `at` has happened
        pytest.param("X", "2024-03-02 10:00", ("1", 3.0, "todo", True), id="X-event-exactly-at-t"),
        pytest.param(
            "X", "2024-03-05 09:59", ("1", 3.0, "todo", True), id="X-just-before-re-estimate"
        ),
        pytest.param("X", "2024-03-05 10:00", ("1", 5.0, "todo", True), id="X-at-re-estimate"),
        pytest.param("X", "2024-03-07 00:00", ("1", 5.0, "in_progress", True), id="X-in-progress"),
        pytest.param("X", "2024-03-09 00:00", ("1", 5.0, "done", True), id="X-done"),
        pytest.param("X", "2024-03-11 00:00", ("2", 5.0, "done", True), id="X-moved-to-sprint-2"),
        pytest.param(
            "Y",
            "2024-01-01 00:00",
            (None, math.nan, "todo", False),
            id="Y-no-events-before-created",
        ),
        pytest.param("Y", "2024-03-09 00:00", (None, math.nan, "todo", True), id="Y-no-events"),
        pytest.param("Z", "2024-03-03 00:00", ("1", 2.0, "todo", True), id="Z-before-removal"),
        pytest.param("Z", "2024-03-05 00:00", (None, 2.0, "todo", True), id="Z-sprint-cleared"),
        pytest.param(
            "W", "2024-03-06 09:00", ("1", 1.0, "todo", True), id="W-before-same-instant-pair"
        ),
        pytest.param(
            "W", "2024-03-06 10:00", ("1", 1.0, "done", True), id="W-same-instant-last-row-wins"
        ),
    ],
)
def test_state_at(key: str, at: str, expected: tuple) -> None:
    state = history.state_at(ITEMS, EVENTS, t(at)).set_index("key")
    row = state.loc[key]
    sprint, points, category, exists = expected
    assert row["sprint"] == sprint
    assert (math.isnan(row["points"]) and math.isnan(points)) or row["points"] == points
    assert row["status_category"] == category
    assert bool(row["exists"]) is exists


def test_state_at_columns_and_order() -> None:
    state = history.state_at(ITEMS, EVENTS, t("2024-03-09 00:00"))
    assert list(state.columns) == ["key", "sprint", "points", "status_category", "exists"]
    assert list(state["key"]) == ["X", "Y", "Z", "W"]
    assert state["points"].dtype == float


def test_state_at_without_events_is_current_state() -> None:
    state = history.state_at(ITEMS, events_frame([]), t("2024-03-09 00:00")).set_index("key")
    assert state.loc["X", "sprint"] == "2"
    assert state.loc["X", "status_category"] == "done"


def test_state_at_rejects_naive_instant() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        history.state_at(ITEMS, EVENTS, pd.Timestamp("2024-03-09"))


def test_duplicate_keys_are_an_error() -> None:
    doubled = pd.concat([ITEMS, ITEMS.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match="unique"):
        history.state_at(doubled, EVENTS, t("2024-03-09 00:00"))


# Items without status history (a CSV export without a history file): the category over
# time is derived from the row. All created 03-01 09:00; none has a status_category event.
# N1: done now, resolved 03-10 12:00              -> todo before 03-10 12:00, done from then.
# N2: done now, no resolved                        -> done at every instant (done as long as
#                                                     we know it).
# N3: in progress now (resolved left over)         -> in_progress at every instant.
# N4: todo now, resolved set (reopened in tracker) -> todo at every instant.
# N5: done now, resolved 03-10 12:00, but moved to sprint "1" on 03-03: a sprint event is
#     no status history, so its category is still derived like N1's.
# H:  done now, resolved 03-10 12:00, WITH a status event todo -> done on 03-08 10:00: the
#     events rule applies (done from 03-08 10:00), `resolved` is not used.
NO_HISTORY_ITEMS = items_frame(
    [
        item("N1", category="done", created="2024-03-01 09:00", resolved="2024-03-10 12:00"),
        item("N2", category="done", created="2024-03-01 09:00"),
        item("N3", category="in_progress", created="2024-03-01 09:00",
             resolved="2024-03-10 12:00"),
        item("N4", category="todo", created="2024-03-01 09:00", resolved="2024-03-10 12:00"),
        item("N5", sprint="1", category="done", created="2024-03-01 09:00",
             resolved="2024-03-10 12:00"),
        item("H", category="done", created="2024-03-01 09:00", resolved="2024-03-10 12:00"),
    ]
)  # fmt: skip
NO_HISTORY_EVENTS = events_frame(
    [
        ev("N5", "2024-03-03 10:00", "sprint", None, "1"),
        ev("H", "2024-03-08 10:00", "status_category", "todo", "done"),
    ]
)


# expected = (status_category, exists)
@pytest.mark.parametrize(
    ("key", "at", "expected"),
    [
        # 02-28 < created 03-01 09:00: not existing; 02-28 < resolved -> todo
        pytest.param("N1", "2024-02-28 00:00", ("todo", False), id="N1-before-created"),
        # created 03-01 09:00 <= 03-05 < resolved 03-10 12:00 -> todo
        pytest.param("N1", "2024-03-05 00:00", ("todo", True), id="N1-before-resolved"),
        # one minute before resolved -> still todo
        pytest.param("N1", "2024-03-10 11:59", ("todo", True), id="N1-just-before-resolved"),
        # exactly at resolved: resolved counts as having happened, like an event at t -> done
        pytest.param("N1", "2024-03-10 12:00", ("done", True), id="N1-at-resolved"),
        # 03-15 > resolved -> done
        pytest.param("N1", "2024-03-15 00:00", ("done", True), id="N1-after-resolved"),
        # no resolved: done at every instant, even before created
        pytest.param("N2", "2024-02-28 00:00", ("done", False), id="N2-no-resolved-before"),
        pytest.param("N2", "2024-03-05 00:00", ("done", True), id="N2-no-resolved-done"),
        # current in_progress: in_progress at every instant, resolved ignored
        pytest.param("N3", "2024-03-05 00:00", ("in_progress", True), id="N3-in-progress"),
        pytest.param("N3", "2024-03-15 00:00", ("in_progress", True), id="N3-after-resolved"),
        # current todo: todo at every instant, resolved ignored
        pytest.param("N4", "2024-03-15 00:00", ("todo", True), id="N4-todo-after-resolved"),
        # a sprint event is not status history: derived like N1 (todo 03-05, done 03-15)
        pytest.param("N5", "2024-03-05 00:00", ("todo", True), id="N5-sprint-event-todo"),
        pytest.param("N5", "2024-03-15 00:00", ("done", True), id="N5-sprint-event-done"),
        # with a status event: 03-05 < event 03-08 10:00 -> its from_value todo
        pytest.param("H", "2024-03-05 00:00", ("todo", True), id="H-history-before-event"),
        # 03-09 >= event 03-08 10:00 -> done, though resolved (03-10 12:00) is later
        pytest.param("H", "2024-03-09 00:00", ("done", True), id="H-history-wins-over-resolved"),
    ],
)
def test_state_at_without_status_history(key: str, at: str, expected: tuple) -> None:
    state = history.state_at(NO_HISTORY_ITEMS, NO_HISTORY_EVENTS, t(at)).set_index("key")
    category, exists = expected
    assert state.loc[key, "status_category"] == category
    assert bool(state.loc[key, "exists"]) is exists


def test_derived_category_without_any_events() -> None:
    # No events frame at all (the `files` source without `history`): N1 and H are both
    # derived from their rows: 03-05 is before their resolved 03-10 12:00 -> todo; N2 (no
    # resolved) stays done; N3 in_progress and N4 todo keep their current category.
    at = t("2024-03-05 00:00")
    state = history.state_at(NO_HISTORY_ITEMS, events_frame([]), at).set_index("key")
    assert state["status_category"].to_dict() == {
        "N1": "todo", "N2": "done", "N3": "in_progress", "N4": "todo", "N5": "todo",
        "H": "todo",
    }  # fmt: skip


def test_value_at_derives_category_and_keeps_sprint_and_points() -> None:
    # value_at is what burndown reads. P has no events: sprint "7" and 3 points at
    # every instant; the category is todo at 03-05 (before resolved 03-10 12:00), done later.
    items = items_frame([item("P", points=3, sprint="7", category="done",
                              created="2024-03-01 09:00", resolved="2024-03-10 12:00")])
    h = history.ItemHistory(items, events_frame([]))
    for at, category in (("2024-03-05 00:00", "todo"), ("2024-03-11 00:00", "done")):
        assert list(h.value_at("status_category", t(at))) == [category]
        assert list(h.value_at("sprint", t(at))) == ["7"]
        assert list(h.value_at("points", t(at))) == [3.0]


# R: done 03-01, reopened 03-05, done again 03-13.
# S: no history; resolved 03-09; created 02-01.
DONE_ITEMS = items_frame(
    [
        item("R", category="done", created="2024-02-01 09:00"),
        item("S", category="done", created="2024-02-01 09:00", resolved="2024-03-09 12:00"),
    ]
)
DONE_EVENTS = events_frame(
    [
        ev("R", "2024-03-01 10:00", "status_category", "todo", "done"),
        ev("R", "2024-03-05 10:00", "status_category", "done", "in_progress"),
        ev("R", "2024-03-13 10:00", "status_category", "in_progress", "done"),
    ]
)


@pytest.mark.parametrize(
    ("key", "at", "expected"),
    [
        # last move into done at or before 03-15 is the one on 03-13
        ("R", "2024-03-15 00:00", "2024-03-13 10:00"),
        # at 03-04 the latest move into done was 03-01 (reopen and redo come later)
        ("R", "2024-03-04 00:00", "2024-03-01 10:00"),
        # no recorded move: resolved, when it is not after `at`
        ("S", "2024-03-15 00:00", "2024-03-09 12:00"),
        # resolved after `at`: done as long as we know it, i.e. since created
        ("S", "2024-03-08 00:00", "2024-02-01 09:00"),
    ],
    ids=["reopened-done-again", "before-reopen", "resolved-fallback", "created-fallback"],
)
def test_last_done_at(key: str, at: str, expected: str) -> None:
    assert history.last_done_at(DONE_ITEMS, DONE_EVENTS, t(at))[key] == t(expected)


def test_spelled_names_agree_with_store_records() -> None:
    # kpis/ may not import store/, so it spells the names itself; this keeps them honest.
    assert {history.STATUS, history.STATUS_CATEGORY, history.POINTS, history.SPRINT} == {
        f.value for f in ItemField
    }
    assert set(history.CATEGORIES) == {c.value for c in StatusCategory}
    assert StatusCategory.DONE.value == history.DONE
