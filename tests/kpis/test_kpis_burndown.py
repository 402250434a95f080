"""The burndown as an event chart (a step at each event), scope changes and the ideal line.

Every expected row is worked out by hand in the comments from the frames next to it.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from kpis_frames import ev, events_frame, item, items_frame, sprint, sprints_frame, t

from kpis.burndown import (
    BURNDOWN_COLUMNS,
    SCOPE_CHANGE_COLUMNS,
    burndown,
    ideal_line,
    scope_changes,
    working_seconds,
)
from kpis.velocity import sprint_velocity

DAY = 86_400.0


def status(key: str, ts: str, old: str, new: str) -> dict[str, Any]:
    return ev(key, ts, "status_category", old, new)


def rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """(ts, item, event, change, remaining after): the columns of the event table."""
    return [tuple(r) for r in frame[["ts", "item_key", "event", "change", "remaining"]]
            .itertuples(index=False)]


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

# The event table, row by row (change = what the event did to the work remaining):
# start: in "1" at 03-04 00:00 and not done: A 3 + B 5 + D 4 + E 2 + F 0 = 14 remaining.
# E done -2 -> 12; A done -3 -> 9; F done, unestimated: 0 -> 9;
# B re-estimated 5 -> 8: +3 -> 12 (scope 17); C added +2 -> 14 (scope 19);
# D removed -4 -> 10 (scope 15); E reopened +2 -> 12; B done -8 -> 4; E done again -2 -> 2;
# end at the close 03-18 00:00: 0 -> 2. C's move to "2" at the close is the close itself
# (the carry-over), not a removal: it is among the 2 points remaining at the end.
EXPECTED = [
    (t("2024-03-04 00:00"), None, "start", 14.0, 14.0),
    (t("2024-03-05 12:00"), "E", "done", -2.0, 12.0),
    (t("2024-03-06 12:00"), "A", "done", -3.0, 9.0),
    (t("2024-03-07 10:00"), "F", "done", 0.0, 9.0),
    (t("2024-03-07 12:00"), "B", "re-estimated", 3.0, 12.0),
    (t("2024-03-08 12:00"), "C", "added", 2.0, 14.0),
    (t("2024-03-11 12:00"), "D", "removed", -4.0, 10.0),
    (t("2024-03-12 12:00"), "E", "reopened", 2.0, 12.0),
    (t("2024-03-13 12:00"), "B", "done", -8.0, 4.0),
    (t("2024-03-14 12:00"), "E", "done", -2.0, 2.0),
    (t("2024-03-18 00:00"), None, "end", 0.0, 2.0),
]


def test_the_event_table_row_by_row() -> None:
    frame = burndown(SPRINTS, ITEMS, EVENTS, "1", as_of=AFTER_ALL)
    assert list(frame.columns) == BURNDOWN_COLUMNS
    assert rows(frame) == EXPECTED
    # scope after each row: 14 until B's re-estimate (+3 = 17), C (+2 = 19), D (-4 = 15);
    # completed = scope - remaining.
    assert list(frame["scope"]) == [14.0] * 4 + [17.0, 19.0] + [15.0] * 5
    assert list(frame["completed"]) == [0.0, 2.0, 5.0, 5.0, 5.0, 5.0, 5.0, 3.0, 11.0, 13.0,
                                        13.0]
    # the change column is a running sum: remaining after a row = all changes up to it
    assert list(frame["change"].cumsum()) == list(frame["remaining"])
    assert isinstance(frame["ts"].dtype, pd.DatetimeTZDtype)


def test_burndown_ends_agree_with_velocity() -> None:
    # velocity: commitment A3+B5+D4+E2 = 14, completed A3+B8+E2 = 13 (F unestimated = 0)
    frame = burndown(SPRINTS, ITEMS, EVENTS, "1", as_of=AFTER_ALL)
    row = sprint_velocity(SPRINTS, ITEMS, EVENTS, as_of=AFTER_ALL).iloc[0]
    assert (frame["scope"].iloc[0], frame["completed"].iloc[-1]) == (14.0, 13.0)
    assert (row["commitment"], row["completed"]) == (14.0, 13.0)


def test_done_and_reopened_within_one_day_shows_both_steps() -> None:
    # K 3 pts and L 2 pts in "1" from the start: 5 remaining. K is done Tue 03-05 10:00
    # (-3 -> 2) and reopened at 16:00 the same day (+3 -> 5). A daily sample at midnight
    # reads 5 before and after and never shows the dip; the event chart does.
    items = items_frame([item("K", points=3, sprint="1", category="in_progress"),
                         item("L", points=2, sprint="1", category="todo")])
    events = events_frame([status("K", "2024-03-05 10:00", "todo", "done"),
                           status("K", "2024-03-05 16:00", "done", "in_progress")])
    frame = burndown(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert rows(frame) == [
        (t("2024-03-04 00:00"), None, "start", 5.0, 5.0),
        (t("2024-03-05 10:00"), "K", "done", -3.0, 2.0),
        (t("2024-03-05 16:00"), "K", "reopened", 3.0, 5.0),
        (t("2024-03-18 00:00"), None, "end", 0.0, 5.0),
    ]
    # the reopening is a scope change (Jira's burndown lists it): +3 back to do
    changes = scope_changes(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert [tuple(r) for r in changes.itertuples(index=False)] == [
        (t("2024-03-05 16:00"), "K", "reopened", 3.0)]


def test_added_and_removed_within_one_day_shows_both_steps() -> None:
    # N 3 pts in "1" from the start. M 5 pts, in the backlog, moved into "1" Wed 03-06
    # 09:00 (+5: remaining 8, scope 8) and back to the backlog at 15:00 (-5: 3, scope 3).
    items = items_frame([item("N", points=3, sprint="1"), item("M", points=5, sprint=None)])
    events = events_frame([ev("M", "2024-03-06 09:00", "sprint", None, "1"),
                           ev("M", "2024-03-06 15:00", "sprint", "1", None)])
    frame = burndown(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert rows(frame) == [
        (t("2024-03-04 00:00"), None, "start", 3.0, 3.0),
        (t("2024-03-06 09:00"), "M", "added", 5.0, 8.0),
        (t("2024-03-06 15:00"), "M", "removed", -5.0, 3.0),
        (t("2024-03-18 00:00"), None, "end", 0.0, 3.0),
    ]
    assert list(frame["scope"]) == [3.0, 8.0, 3.0, 3.0]
    changes = scope_changes(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert [tuple(r) for r in changes.itertuples(index=False)] == [
        (t("2024-03-06 09:00"), "M", "added", 5.0),
        (t("2024-03-06 15:00"), "M", "removed", -5.0)]
    # velocity counts M in both (module docstring of kpis.velocity)
    row = sprint_velocity(SPRINTS, items, events, as_of=AFTER_ALL).iloc[0]
    assert (row["added_mid_sprint"], row["removed_mid_sprint"]) == (1, 1)


def test_re_estimates() -> None:
    # Start: P 5 + Q 2 + R 1 = 8 remaining, scope 8.
    # 03-05 09:00 P re-estimated 5 -> 3: -2 -> 6 (scope 6).
    # 03-06 09:00 Q done: -2 -> 4 (completed 2).
    # 03-07 09:00 Q, done, re-estimated 2 -> 5: the scope grows by 3 (9) and so does
    #   completed (5), the work left does not: change 0, remaining 4.
    # 03-08 09:00 R re-estimated 1 -> 2 and done in the same second: first the
    #   re-estimate (+1 -> 5, scope 10), then done (-2 -> 3, completed 7).
    # Velocity: commitment at the start 8; completed at the close Q 5 + R 2 = 7; and
    # scope 10 - completed 7 = P's 3 remaining.
    items = items_frame([item("P", points=3, sprint="1"),
                         item("Q", points=5, sprint="1", category="done"),
                         item("R", points=2, sprint="1", category="done")])
    events = events_frame([
        ev("P", "2024-03-05 09:00", "points", "5", "3"),
        status("Q", "2024-03-06 09:00", "todo", "done"),
        ev("Q", "2024-03-07 09:00", "points", "2", "5"),
        ev("R", "2024-03-08 09:00", "points", "1", "2"),
        status("R", "2024-03-08 09:00", "todo", "done"),
    ])  # fmt: skip
    frame = burndown(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert rows(frame) == [
        (t("2024-03-04 00:00"), None, "start", 8.0, 8.0),
        (t("2024-03-05 09:00"), "P", "re-estimated", -2.0, 6.0),
        (t("2024-03-06 09:00"), "Q", "done", -2.0, 4.0),
        (t("2024-03-07 09:00"), "Q", "re-estimated", 0.0, 4.0),
        (t("2024-03-08 09:00"), "R", "re-estimated", 1.0, 5.0),
        (t("2024-03-08 09:00"), "R", "done", -2.0, 3.0),
        (t("2024-03-18 00:00"), None, "end", 0.0, 3.0),
    ]
    assert list(frame["scope"]) == [8.0, 6.0, 6.0, 9.0, 10.0, 10.0, 10.0]
    assert list(frame["completed"]) == [0.0, 0.0, 2.0, 5.0, 5.0, 7.0, 7.0]
    # the scope-change list gives each re-estimate's change of scope (new - old)
    changes = scope_changes(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert [tuple(r) for r in changes.itertuples(index=False)] == [
        (t("2024-03-05 09:00"), "P", "re-estimated", -2.0),
        (t("2024-03-07 09:00"), "Q", "re-estimated", 3.0),
        (t("2024-03-08 09:00"), "R", "re-estimated", 1.0)]
    row = sprint_velocity(SPRINTS, items, events, as_of=AFTER_ALL).iloc[0]
    assert (row["commitment"], row["completed"]) == (8.0, 7.0)


def test_active_sprint_ends_now() -> None:
    # As of Wed 03-06 18:00 the sprint is still open ("1" closes 03-18): start 14, E done
    # 03-05 12:00 (-2 -> 12), A done 03-06 12:00 (-3 -> 9), then "now" at as_of: 9.
    frame = burndown(SPRINTS, ITEMS, EVENTS, "1", as_of=t("2024-03-06 18:00"))
    assert rows(frame) == [*EXPECTED[:3], (t("2024-03-06 18:00"), None, "now", 0.0, 9.0)]


def test_scope_changes_of_the_sprint() -> None:
    # B re-estimated 5 -> 8 (+3), C moved in (+2), D moved out (-4), E reopened (+2 back to
    # do: Jira lists a reopened issue as a scope change). C's move to "2" at the close is
    # the carry-over, not a removal; done items (A, B, E, F) are burndown, not scope.
    frame = scope_changes(SPRINTS, ITEMS, EVENTS, "1", as_of=AFTER_ALL)
    assert list(frame.columns) == SCOPE_CHANGE_COLUMNS
    assert [tuple(r) for r in frame.itertuples(index=False)] == [
        (t("2024-03-07 12:00"), "B", "re-estimated", 3.0),
        (t("2024-03-08 12:00"), "C", "added", 2.0),
        (t("2024-03-11 12:00"), "D", "removed", -4.0),
        (t("2024-03-12 12:00"), "E", "reopened", 2.0),
    ]


def test_item_done_before_the_sprint_and_reopened_in_it_joins_the_scope() -> None:
    # G (3 pts) done 03-01, before the start: outside the scope (velocity leaves it out
    # too), so the start is 0. Reopened 03-05 12:00: it joins the scope (+3, scope 3);
    # done again 03-07 12:00: -3 -> 0, completed 3.
    items = items_frame([item("G", points=3, sprint="1", category="done")])
    events = events_frame([
        status("G", "2024-03-01 10:00", "todo", "done"),
        status("G", "2024-03-05 12:00", "done", "in_progress"),
        status("G", "2024-03-07 12:00", "in_progress", "done"),
    ])  # fmt: skip
    frame = burndown(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert rows(frame) == [
        (t("2024-03-04 00:00"), None, "start", 0.0, 0.0),
        (t("2024-03-05 12:00"), "G", "reopened", 3.0, 3.0),
        (t("2024-03-07 12:00"), "G", "done", -3.0, 0.0),
        (t("2024-03-18 00:00"), None, "end", 0.0, 0.0),
    ]
    assert (frame["scope"].iloc[-1], frame["completed"].iloc[-1]) == (3.0, 3.0)
    changes = scope_changes(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert [tuple(r) for r in changes.itertuples(index=False)] == [
        (t("2024-03-05 12:00"), "G", "reopened", 3.0)]


def test_sprint_without_history_burns_down_at_resolved() -> None:
    # No events at all (a CSV export without history); categories derived from the rows.
    # Q1 3 pts resolved 03-06 12:00: todo at the start -> in scope, done at 03-06 12:00.
    # Q2 5 pts resolved 03-01 10:00, before the start: completed outside the sprint, left out.
    # Q3 2 pts still todo: in scope, never done.
    # start Q1 3 + Q3 2 = 5; Q1 done at its resolved instant -3 -> 2; end 2. Velocity
    # agrees: commitment 5, completed 3. Q1 turning done is no scope change.
    items = items_frame([
        item("Q1", points=3, sprint="1", category="done", resolved="2024-03-06 12:00"),
        item("Q2", points=5, sprint="1", category="done", resolved="2024-03-01 10:00"),
        item("Q3", points=2, sprint="1", category="todo"),
    ])  # fmt: skip
    events = events_frame([])
    frame = burndown(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert rows(frame) == [
        (t("2024-03-04 00:00"), None, "start", 5.0, 5.0),
        (t("2024-03-06 12:00"), "Q1", "done", -3.0, 2.0),
        (t("2024-03-18 00:00"), None, "end", 0.0, 2.0),
    ]
    row = sprint_velocity(SPRINTS, items, events, as_of=AFTER_ALL).iloc[0]
    assert (row["commitment"], row["completed"]) == (5.0, 3.0)
    assert scope_changes(SPRINTS, items, events, "1", as_of=AFTER_ALL).empty


def test_sprint_without_estimates_is_all_zero() -> None:
    # H1 done 03-06, H2 todo, H3 created in "1" on 03-07: nothing estimated -> every
    # figure 0, no NaN; the events are still listed, so the PO sees H3 arrive.
    items = items_frame([
        item("H1", sprint="1", category="done"),
        item("H2", sprint="1", category="todo"),
        item("H3", sprint="1", category="todo", created="2024-03-07 09:00"),
    ])  # fmt: skip
    events = events_frame([status("H1", "2024-03-06 10:00", "todo", "done")])
    frame = burndown(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert rows(frame) == [
        (t("2024-03-04 00:00"), None, "start", 0.0, 0.0),
        (t("2024-03-06 10:00"), "H1", "done", 0.0, 0.0),
        (t("2024-03-07 09:00"), "H3", "added", 0.0, 0.0),
        (t("2024-03-18 00:00"), None, "end", 0.0, 0.0),
    ]
    assert not any(math.copysign(1.0, c) < 0 for c in frame["change"])  # no "-0" shown
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


def test_ideal_line_of_a_sprint_over_its_planned_end() -> None:
    # Sprint "1" commits 14 over 10 working days: -1.4 per working day, flat on Sat 03-09,
    # Sun 03-10 (7.0 from Sat 00:00 to Mon 00:00), 0 from Sat 03-16 on.
    line = ideal_line(14.0, t("2024-03-04 00:00"), t("2024-03-18 00:00"))  # type: ignore[arg-type]
    assert list(line["ideal"]) == pytest.approx(
        [14, 12.6, 11.2, 9.8, 8.4, 7, 7, 7, 5.6, 4.2, 2.8, 1.4, 0, 0, 0])


def test_unknown_sprint_is_an_error() -> None:
    with pytest.raises(ValueError, match="no sprint"):
        burndown(SPRINTS, ITEMS, EVENTS, "nope", as_of=AFTER_ALL)


def test_empty_backlog() -> None:
    # nothing in the sprint: the start and the end, both at 0
    frame = burndown(SPRINTS, items_frame([]), events_frame([]), "1", as_of=AFTER_ALL)
    assert rows(frame) == [(t("2024-03-04 00:00"), None, "start", 0.0, 0.0),
                           (t("2024-03-18 00:00"), None, "end", 0.0, 0.0)]
    assert scope_changes(SPRINTS, items_frame([]), events_frame([]), "1",
                         as_of=AFTER_ALL).empty


def test_sprint_not_started_by_as_of_is_empty() -> None:
    # as of 03-01, sprint "1" (start 03-04) has not begun: its end (as_of) precedes its start
    frame = burndown(SPRINTS, ITEMS, EVENTS, "1", as_of=t("2024-03-01 00:00"))
    assert frame.empty and list(frame.columns) == BURNDOWN_COLUMNS
    assert scope_changes(SPRINTS, ITEMS, EVENTS, "1", as_of=t("2024-03-01 00:00")).empty
