"""Burndown and burnup rebuilt from item history; scope changes; ideal line; carry-over."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from kpis_frames import ev, events_frame, item, items_frame, sprint, sprints_frame, t

from kpis.burndown import (
    BURNDOWN_COLUMNS,
    CARRY_OVER_COLUMNS,
    SCOPE_CHANGE_COLUMNS,
    burndown,
    carry_over,
    ideal_line,
    scope_changes,
    working_seconds,
)
from kpis.velocity import sprint_velocity

DAY = 86_400.0


def status(key: str, ts: str, old: str, new: str) -> dict[str, Any]:
    return ev(key, ts, "status_category", old, new)


# Sprint "1": Monday 2024-03-04 00:00 to Monday 03-18 00:00, completed at its planned end:
# 10 working days (03-09/10 and 03-16/17 are weekends). Sprint "2" starts 03-18 09:00.
SPRINTS = sprints_frame([
    sprint("1", state="closed", start="2024-03-04 00:00", end="2024-03-18 00:00",
           completed="2024-03-18 00:00"),
    sprint("2", state="active", start="2024-03-18 09:00", end="2024-03-29 17:00"),
])  # fmt: skip
AFTER_ALL = t("2024-03-20 00:00")

# A 3 pts, done 03-06 12:00.
# B 5 pts at start, re-estimated to 8 on 03-07 12:00, done 03-13 12:00.
# C 2 pts, added (moved in) 03-08 12:00, unfinished, carried to "2" at the close.
# D 4 pts, removed (back to the backlog) 03-11 12:00.
# E 2 pts, done 03-05 12:00, reopened 03-12 12:00, done again 03-14 12:00.
# F no estimate, done 03-07 10:00.
ITEMS = items_frame([
    item("A", points=3, sprint="1", category="done"),
    item("B", points=8, sprint="1", category="done"),
    item("C", points=2, sprint="2", category="todo"),
    item("D", points=4, sprint=None, category="todo"),
    item("E", points=2, sprint="1", category="done"),
    item("F", points=None, sprint="1", category="done"),
])  # fmt: skip
EVENTS = events_frame([
    status("A", "2024-03-06 12:00", "todo", "done"),
    ev("B", "2024-03-07 12:00", "points", "5", "8"),
    status("B", "2024-03-13 12:00", "todo", "done"),
    ev("C", "2024-03-08 12:00", "sprint", None, "1"),
    ev("C", "2024-03-18 00:00", "sprint", "1", "2"),
    ev("D", "2024-03-11 12:00", "sprint", "1", None),
    status("E", "2024-03-05 12:00", "todo", "done"),
    status("E", "2024-03-12 12:00", "done", "in_progress"),
    status("E", "2024-03-14 12:00", "in_progress", "done"),
    status("F", "2024-03-07 10:00", "todo", "done"),
])  # fmt: skip

# One row per midnight 03-04 .. 03-17, then the close 03-18 00:00.
# scope:     start A3+B5+D4+E2+F0 = 14; +3 (B re-estimate) on 03-08; +2 (C) on 03-09;
#            -4 (D) on 03-12 -> 15; C still counts at the close (carried, not removed).
# completed: E 2 from 03-06; A +3 = 5 from 03-07; F +0; E reopened 03-12 12:00 -> 3 on
#            03-13; B +8 = 11 on 03-14; E again +2 = 13 from 03-15.
# ideal:     14 * (1 - working days elapsed / 10): 14, 12.6, 11.2, 9.8, 8.4, then 7.0 on
#            Sat 03-09, Sun 03-10 and Mon 03-11 00:00 (weekend flat), 5.6, 4.2, 2.8, 1.4,
#            0 on Sat 03-16 and after.
EXPECTED = [
    # day,          scope, completed, remaining, ideal
    ("2024-03-04", 14.0, 0.0, 14.0, 14.0),
    ("2024-03-05", 14.0, 0.0, 14.0, 12.6),
    ("2024-03-06", 14.0, 2.0, 12.0, 11.2),
    ("2024-03-07", 14.0, 5.0, 9.0, 9.8),
    ("2024-03-08", 17.0, 5.0, 12.0, 8.4),
    ("2024-03-09", 19.0, 5.0, 14.0, 7.0),
    ("2024-03-10", 19.0, 5.0, 14.0, 7.0),
    ("2024-03-11", 19.0, 5.0, 14.0, 7.0),
    ("2024-03-12", 15.0, 5.0, 10.0, 5.6),
    ("2024-03-13", 15.0, 3.0, 12.0, 4.2),
    ("2024-03-14", 15.0, 11.0, 4.0, 2.8),
    ("2024-03-15", 15.0, 13.0, 2.0, 1.4),
    ("2024-03-16", 15.0, 13.0, 2.0, 0.0),
    ("2024-03-17", 15.0, 13.0, 2.0, 0.0),
    ("2024-03-18", 15.0, 13.0, 2.0, 0.0),
]


def test_burndown_with_mid_sprint_scope_change_and_reopened_item() -> None:
    frame = burndown(SPRINTS, ITEMS, EVENTS, "1", as_of=AFTER_ALL)
    assert list(frame.columns) == BURNDOWN_COLUMNS
    assert list(frame["ts"]) == [t(f"{day} 00:00") for day, *_ in EXPECTED]
    got = [tuple(r) for r in frame[["scope", "completed", "remaining"]].itertuples(index=False)]
    assert got == [row[1:4] for row in EXPECTED]
    assert list(frame["ideal"]) == pytest.approx([row[4] for row in EXPECTED])


def test_burndown_ends_agree_with_velocity() -> None:
    # velocity: commitment A3+B5+D4+E2 = 14, completed A3+B8+E2 = 13 (F unestimated = 0)
    frame = burndown(SPRINTS, ITEMS, EVENTS, "1", as_of=AFTER_ALL)
    row = sprint_velocity(SPRINTS, ITEMS, EVENTS, as_of=AFTER_ALL).iloc[0]
    assert (frame["scope"].iloc[0], frame["completed"].iloc[-1]) == (14.0, 13.0)
    assert (row["commitment"], row["completed"]) == (14.0, 13.0)


def test_active_sprint_stops_at_as_of() -> None:
    # As of Wed 03-06 18:00 the sprint is still open ("1" closes 03-18): rows at 03-04,
    # 03-05, 03-06 00:00 and at as_of; E (2) and A (3) are done by then -> completed 5.
    frame = burndown(SPRINTS, ITEMS, EVENTS, "1", as_of=t("2024-03-06 18:00"))
    assert list(frame["ts"]) == [t("2024-03-04 00:00"), t("2024-03-05 00:00"),
                                 t("2024-03-06 00:00"), t("2024-03-06 18:00")]
    assert list(frame["completed"]) == [0.0, 0.0, 2.0, 5.0]
    # ideal at as_of: 2.75 of 10 working days gone -> 14 * 0.725 = 10.15
    assert frame["ideal"].iloc[-1] == pytest.approx(10.15)


def test_scope_changes_of_the_sprint() -> None:
    # B re-estimated 5 -> 8 (+3), C moved in (+2), D moved out (-4). E's reopening is not
    # a scope change (it was done in the sprint), nor is C's move to "2" at the close.
    frame = scope_changes(SPRINTS, ITEMS, EVENTS, "1", as_of=AFTER_ALL)
    assert list(frame.columns) == SCOPE_CHANGE_COLUMNS
    assert [tuple(r) for r in frame.itertuples(index=False)] == [
        (t("2024-03-07 12:00"), "B", "re-estimated", 3.0),
        (t("2024-03-08 12:00"), "C", "added", 2.0),
        (t("2024-03-11 12:00"), "D", "removed", -4.0),
    ]


def test_item_done_before_the_sprint_and_reopened_in_it_is_added_scope() -> None:
    # G (3 pts) done 03-01, before the start: outside the scope (velocity leaves it out
    # too); reopened 03-05 12:00 -> added +3; done again 03-07 12:00 -> completed 3.
    items = items_frame([item("G", points=3, sprint="1", category="done")])
    events = events_frame([
        status("G", "2024-03-01 10:00", "todo", "done"),
        status("G", "2024-03-05 12:00", "done", "in_progress"),
        status("G", "2024-03-07 12:00", "in_progress", "done"),
    ])  # fmt: skip
    changes = scope_changes(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert [tuple(r) for r in changes.itertuples(index=False)] == [
        (t("2024-03-05 12:00"), "G", "added", 3.0)]
    frame = burndown(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert (frame["scope"].iloc[0], frame["scope"].iloc[-1]) == (0.0, 3.0)
    assert frame["completed"].iloc[-1] == 3.0


def test_sprint_without_history_burns_down_at_resolved() -> None:
    # No events at all (a CSV export without history); categories derived from the rows.
    # Q1 3 pts resolved 03-06 12:00: todo at the start -> in scope, done from 03-06 12:00.
    # Q2 5 pts resolved 03-01 10:00, before the start: completed outside the sprint, left out.
    # Q3 2 pts still todo: in scope, never done.
    # scope = Q1 3 + Q3 2 = 5 on every row; completed 0 at 03-04, 03-05 and 03-06 00:00,
    # then Q1's 3 from 03-07 00:00 to the close 03-18 00:00 (12 rows). Velocity agrees:
    # commitment 5, completed 3. Q1 turning done is no scope change.
    items = items_frame([
        item("Q1", points=3, sprint="1", category="done", resolved="2024-03-06 12:00"),
        item("Q2", points=5, sprint="1", category="done", resolved="2024-03-01 10:00"),
        item("Q3", points=2, sprint="1", category="todo"),
    ])  # fmt: skip
    events = events_frame([])
    frame = burndown(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert list(frame["scope"]) == [5.0] * 15
    assert list(frame["completed"]) == [0.0] * 3 + [3.0] * 12
    row = sprint_velocity(SPRINTS, items, events, as_of=AFTER_ALL).iloc[0]
    assert (row["commitment"], row["completed"]) == (5.0, 3.0)
    assert scope_changes(SPRINTS, items, events, "1", as_of=AFTER_ALL).empty


def test_sprint_without_estimates_is_all_zero() -> None:
    # H1 done 03-06, H2 todo, H3 added 03-07: nothing estimated -> every value 0, no NaN,
    # no division by zero; the unestimated addition is still listed (0 points).
    items = items_frame([
        item("H1", sprint="1", category="done"),
        item("H2", sprint="1", category="todo"),
        item("H3", sprint="1", category="todo", created="2024-03-07 09:00"),
    ])  # fmt: skip
    events = events_frame([status("H1", "2024-03-06 10:00", "todo", "done")])
    frame = burndown(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    values = frame[["scope", "completed", "remaining", "ideal"]].to_numpy()
    assert len(frame) == 15 and (values == 0.0).all()
    changes = scope_changes(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert [tuple(r) for r in changes.itertuples(index=False)] == [
        (t("2024-03-07 09:00"), "H3", "added", 0.0)]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Mon 00:00 -> Mon 00:00 a week later: Mon..Fri = 5 days
        pytest.param("2024-03-04 00:00", "2024-03-11 00:00", 5 * DAY, id="full-week"),
        # Fri 12:00 -> Mon 12:00: Fri afternoon 12 h + Mon morning 12 h = 1 day
        pytest.param("2024-03-08 12:00", "2024-03-11 12:00", DAY, id="over-a-weekend"),
        # Sat 00:00 -> Mon 00:00: nothing
        pytest.param("2024-03-09 00:00", "2024-03-11 00:00", 0.0, id="weekend-only"),
        # end before start: nothing
        pytest.param("2024-03-11 00:00", "2024-03-04 00:00", 0.0, id="reversed"),
    ],
)
def test_working_seconds(start: str, end: str, expected: float) -> None:
    assert working_seconds(t(start), t(end)) == expected  # type: ignore[arg-type]


def test_ideal_line_is_flat_over_the_weekend() -> None:
    # 10 pts from Thu 03-07 00:00 to Wed 03-13 00:00: 4 working days (Thu, Fri, Mon, Tue).
    # Thu 10, Fri 7.5, Sat 5, Sun 5, Mon 5, Tue 2.5, Wed 0.
    line = ideal_line(10.0, t("2024-03-07 00:00"), t("2024-03-13 00:00"))  # type: ignore[arg-type]
    assert list(line["ts"]) == [t(f"2024-03-{d:02d} 00:00") for d in range(7, 14)]
    assert list(line["ideal"]) == pytest.approx([10, 7.5, 5, 5, 5, 2.5, 0])


def test_carry_over() -> None:
    # "1" closes 03-18 00:00 with C (2 pts) unfinished, moved to "2" at the close and in
    # "2" at its start -> 1 item, 2 pts. D went back to the backlog earlier: not counted.
    # "2" is still active: no row.
    frame = carry_over(SPRINTS, ITEMS, EVENTS)
    assert list(frame.columns) == CARRY_OVER_COLUMNS
    assert [tuple(r) for r in frame.itertuples(index=False)] == [("1", "2", 1, 2.0)]


def test_carry_over_without_a_next_sprint_counts_all_unfinished_work() -> None:
    # Only "1" exists: C (2) and a never-estimated J are unfinished at its close: 2 items, 2 pts.
    items = items_frame([*ITEMS.to_dict("records")[:-1],
                         item("J", sprint="1", category="in_progress")])
    events = EVENTS.loc[EVENTS["item_key"] != "F"]
    frame = carry_over(SPRINTS.iloc[:1], items, events)
    row = frame.iloc[0]
    assert (row["sprint"], row["next_sprint"], row["items"], row["points"]) == ("1", None, 2, 2.0)


def test_unknown_sprint_is_an_error() -> None:
    with pytest.raises(ValueError, match="no sprint"):
        burndown(SPRINTS, ITEMS, EVENTS, "nope", as_of=AFTER_ALL)


def test_empty_backlog() -> None:
    frame = burndown(SPRINTS, items_frame([]), events_frame([]), "1", as_of=AFTER_ALL)
    assert len(frame) == 15 and not frame[["scope", "ideal"]].to_numpy().any()
    assert scope_changes(SPRINTS, items_frame([]), events_frame([]), "1",
                         as_of=AFTER_ALL).empty
    carried = carry_over(SPRINTS, items_frame([]), events_frame([]))
    assert [tuple(r) for r in carried.itertuples(index=False)] == [("1", "2", 0, 0.0)]
    assert carry_over(sprints_frame([]), items_frame([]), events_frame([])).empty
    assert not math.isnan(frame["remaining"].sum())
    assert isinstance(frame["ts"].dtype, pd.DatetimeTZDtype)
