"""Sprint velocity (Jira's velocity chart): commitment at start, completed at end."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from kpis_frames import ev, events_frame, item, items_frame, sprint, sprints_frame, t

from kpis.sprint_figures import closed_sprint_figures
from kpis.velocity import FIGURES, VELOCITY_COLUMNS, average_velocity, sprint_velocity

# Sprint "1": started 03-04 09:00, planned end 03-15 17:00, completed 03-15 16:00.
SPRINT_1 = sprint(
    "1", state="closed", start="2024-03-04 09:00", end="2024-03-15 17:00",
    completed="2024-03-15 16:00",
)  # fmt: skip
SPRINT_2 = sprint(
    "2", state="closed", start="2024-03-18 09:00", end="2024-03-29 17:00",
    completed="2024-03-29 16:00",
)  # fmt: skip
AFTER_ALL = t("2024-06-01 00:00")


def status(key: str, ts: str, old: str, new: str) -> dict[str, Any]:
    return ev(key, ts, "status_category", old, new)


# One scenario per rule. Each item is in sprint "1" since 02-01 unless its events say
# otherwise. expected = (commitment, completed, added_mid_sprint, removed_mid_sprint).
SCENARIOS: dict[str, tuple[list[dict], list[dict], tuple[float, float, int, int]]] = {
    # A: 3 points at start, not done at start -> commitment 3; done 03-08 -> completed 3.
    "committed-and-done": (
        [item("A", points=3, sprint="1", category="done")],
        [status("A", "2024-03-08 10:00", "todo", "done")],
        (3.0, 3.0, 0, 0),
    ),
    # B: 5 at start, re-estimated to 8 on 03-06 (after start), done 03-12:
    # commitment uses the estimate at start = 5; completed the estimate at end = 8.
    "re-estimated-after-start": (
        [item("B", points=8, sprint="1", category="done")],
        [
            ev("B", "2024-03-06 10:00", "points", "5", "8"),
            status("B", "2024-03-12 10:00", "todo", "done"),
        ],
        (5.0, 8.0, 0, 0),
    ),
    # B2: re-estimated 2 -> 5 on 03-01 (before start), done 03-12: 5 both times.
    "re-estimated-before-start": (
        [item("B2", points=5, sprint="1", category="done")],
        [
            ev("B2", "2024-03-01 10:00", "points", "2.0", "5.0"),
            status("B2", "2024-03-12 10:00", "todo", "done"),
        ],
        (5.0, 5.0, 0, 0),
    ),
    # C: created 03-07 inside sprint "1" with 2 points, done 03-14:
    # not in commitment (did not exist at start) = 0; completed 2; added 1.
    "created-mid-sprint": (
        [item("C", points=2, sprint="1", category="done", created="2024-03-07 10:00")],
        [status("C", "2024-03-14 10:00", "todo", "done")],
        (0.0, 2.0, 1, 0),
    ),
    # C2: moved from backlog into sprint "1" on 03-06, 3 points, done 03-14:
    # commitment 0, completed 3, added 1.
    "moved-in-mid-sprint": (
        [item("C2", points=3, sprint="1", category="done")],
        [
            ev("C2", "2024-03-06 10:00", "sprint", None, "1"),
            status("C2", "2024-03-14 10:00", "todo", "done"),
        ],
        (0.0, 3.0, 1, 0),
    ),
    # D: 1 point, done 03-01 (before start), stays done in the sprint:
    # done at start -> not committed = 0; completed outside the sprint -> completed 0.
    "done-at-start": (
        [item("D", points=1, sprint="1", category="done")],
        [status("D", "2024-03-01 10:00", "todo", "done")],
        (0.0, 0.0, 0, 0),
    ),
    # E: 2 points, done 03-01 (before start), reopened 03-05, done again 03-13:
    # done at start -> commitment 0; last done in the sprint -> completed 2.
    "reopened-then-done-again": (
        [item("E", points=2, sprint="1", category="done")],
        [
            status("E", "2024-03-01 10:00", "todo", "done"),
            status("E", "2024-03-05 10:00", "done", "in_progress"),
            status("E", "2024-03-13 10:00", "in_progress", "done"),
        ],
        (0.0, 2.0, 0, 0),
    ),
    # E2: 3 points, done 03-07, reopened 03-12 and still open at the end:
    # commitment 3; not done at end -> completed 0.
    "done-then-reopened": (
        [item("E2", points=3, sprint="1", category="in_progress")],
        [
            status("E2", "2024-03-07 10:00", "todo", "done"),
            status("E2", "2024-03-12 10:00", "done", "in_progress"),
        ],
        (3.0, 0.0, 0, 0),
    ),
    # F: 3 points at start, taken out of the sprint on 03-10:
    # commitment 3; not in the sprint at end -> completed 0; removed 1.
    "removed-mid-sprint": (
        [item("F", points=3, sprint=None, category="todo")],
        [ev("F", "2024-03-10 10:00", "sprint", "1", None)],
        (3.0, 0.0, 0, 1),
    ),
    # F2: 3 points, done 03-08, then moved to sprint "9" on 03-10:
    # commitment 3; not in the sprint at end -> completed 0; removed 1.
    "done-then-removed": (
        [item("F2", points=3, sprint="9", category="done")],
        [
            status("F2", "2024-03-08 10:00", "todo", "done"),
            ev("F2", "2024-03-10 10:00", "sprint", "1", "9"),
        ],
        (3.0, 0.0, 0, 1),
    ),
    # G: 5 points, unfinished, moved to sprint "2" at the completion instant 03-15 16:00
    # (Jira's carry-over): commitment 5, completed 0, and not a removal.
    "carried-over-at-close": (
        [item("G", points=5, sprint="2", category="todo")],
        [ev("G", "2024-03-15 16:00", "sprint", "1", "2")],
        (5.0, 0.0, 0, 0),
    ),
    # H1, H2: no estimates; H1 done 03-11, H2 still todo: estimates count 0 -> 0, 0.
    "no-estimates": (
        [
            item("H1", points=None, sprint="1", category="done"),
            item("H2", points=None, sprint="1", category="todo"),
        ],
        [status("H1", "2024-03-11 10:00", "todo", "done")],
        (0.0, 0.0, 0, 0),
    ),
    # J: 2 points, moved in 03-06 and out again 03-09: counts as added and as removed.
    "added-then-removed": (
        [item("J", points=2, sprint=None, category="todo")],
        [
            ev("J", "2024-03-06 10:00", "sprint", None, "1"),
            ev("J", "2024-03-09 10:00", "sprint", "1", None),
        ],
        (0.0, 0.0, 1, 1),
    ),
    # K: in the backlog, never in a sprint; L: created in sprint "1" after it closed;
    # M: done at 16:30, after the 16:00 completion: none of them count.
    "not-in-the-sprint": (
        [
            item("K", points=8, sprint=None, category="done"),
            item("L", points=8, sprint="1", category="done", created="2024-03-20 10:00"),
            item("M", points=8, sprint="1", category="done"),
        ],
        [
            status("K", "2024-03-08 10:00", "todo", "done"),
            status("M", "2024-03-15 16:30", "todo", "done"),
        ],
        (8.0, 0.0, 0, 0),  # M is committed (in the sprint, open at start): 8
    ),
}


def velocity_of_sprint_1(items: list[dict], events: list[dict]) -> pd.Series:
    frame = sprint_velocity(
        sprints_frame([SPRINT_1]), items_frame(items), events_frame(events), as_of=AFTER_ALL
    )
    assert len(frame) == 1
    return frame.iloc[0]


@pytest.mark.parametrize(
    ("items", "events", "expected"),
    [pytest.param(*scenario, id=name) for name, scenario in SCENARIOS.items()],
)
def test_one_rule_per_scenario(items: list, events: list, expected: tuple) -> None:
    row = velocity_of_sprint_1(items, events)
    got = (row["commitment"], row["completed"], row["added_mid_sprint"], row["removed_mid_sprint"])
    assert got == expected


def test_all_scenarios_in_one_sprint_add_up() -> None:
    # commitment = A 3 + B 5 + B2 5 + E2 3 + F 3 + F2 3 + G 5 + M 8              = 35
    # completed  = A 3 + B 8 + B2 5 + C 2 + C2 3 + E 2                            = 23
    # added      = C, C2, J = 3;  removed = F, F2, J = 3
    items = [row for scenario in SCENARIOS.values() for row in scenario[0]]
    events = [row for scenario in SCENARIOS.values() for row in scenario[1]]
    row = velocity_of_sprint_1(items, events)
    assert (row["commitment"], row["completed"]) == (35.0, 23.0)
    assert (row["added_mid_sprint"], row["removed_mid_sprint"]) == (3, 3)


# Sprint "1" (03-04 09:00 to its completion 03-15 16:00) imported from a CSV export with no
# history file: no events at all. Each item is in sprint "1" (its current sprint) at every
# instant; its category is derived from its row (`kpis.history`): todo from created until
# `resolved`, done from then on. expected = (commitment, completed).
NO_HISTORY_SCENARIOS: dict[str, tuple[dict, tuple[float, float]]] = {
    # P1: 3 points, resolved 03-08 10:00 (during the sprint): todo at start -> committed 3;
    # done at end, last done = resolved 03-08 > start -> completed 3.
    "resolved-during-sprint": (
        item("P1", points=3, sprint="1", category="done", resolved="2024-03-08 10:00"),
        (3.0, 3.0),
    ),
    # P2: 5 points, resolved 03-01 10:00 (before the start 03-04 09:00): done at start ->
    # not committed = 0; done at end but last done 03-01 <= start -> completed 0.
    "resolved-before-start": (
        item("P2", points=5, sprint="1", category="done", resolved="2024-03-01 10:00"),
        (0.0, 0.0),
    ),
    # P3: 2 points, still todo: committed 2; not done at end -> completed 0.
    "still-open": (
        item("P3", points=2, sprint="1", category="todo"),
        (2.0, 0.0),
    ),
    # P4: 1 point, in progress now: in progress since created -> committed 1, completed 0.
    "in-progress": (
        item("P4", points=1, sprint="1", category="in_progress"),
        (1.0, 0.0),
    ),
    # P5: 4 points, resolved 03-15 16:30, after the 16:00 completion: todo at start ->
    # committed 4; still todo at the end snapshot -> completed 0.
    "resolved-after-close": (
        item("P5", points=4, sprint="1", category="done", resolved="2024-03-15 16:30"),
        (4.0, 0.0),
    ),
    # P6: 8 points, done but no resolved: done as long as we know it (since created 02-01,
    # before the start) -> not committed, completed outside the sprint: 0, 0.
    "done-without-resolved": (
        item("P6", points=8, sprint="1", category="done"),
        (0.0, 0.0),
    ),
}


@pytest.mark.parametrize(
    ("row", "expected"),
    [pytest.param(*scenario, id=name) for name, scenario in NO_HISTORY_SCENARIOS.items()],
)
def test_sprint_without_history(row: dict, expected: tuple[float, float]) -> None:
    got = velocity_of_sprint_1([row], [])
    assert (got["commitment"], got["completed"]) == expected
    assert (got["added_mid_sprint"], got["removed_mid_sprint"]) == (0, 0)


def test_sprint_without_history_adds_up() -> None:
    # commitment = P1 3 + P3 2 + P4 1 + P5 4 = 10   (P2 resolved before start, P6 done)
    # completed  = P1 3                      = 3
    items = [row for row, _ in NO_HISTORY_SCENARIOS.values()]
    got = velocity_of_sprint_1(items, [])
    assert (got["commitment"], got["completed"]) == (10.0, 3.0)


def test_closed_without_completion_time_ends_at_planned_end() -> None:
    # No completion recorded: the end snapshot is at the planned end 03-15 17:00, so an item
    # done at 16:30 counts: completed 4.
    no_completion = sprint("1", state="closed", start="2024-03-04 09:00", end="2024-03-15 17:00")
    frame = sprint_velocity(
        sprints_frame([no_completion]),
        items_frame([item("N", points=4, sprint="1", category="done")]),
        events_frame([status("N", "2024-03-15 16:30", "todo", "done")]),
        as_of=AFTER_ALL,
    )
    assert frame.iloc[0]["completed"] == 4.0


# A history of six sprints (two weeks each, completed at 16:00 on the last Friday):
#   "1" closed 03-04..03-15  I1 10 pts done 03-08, I1b 2 pts done 03-14,
#                            G 5 pts unfinished, carried to "2" at 03-15 16:00
#                            -> commitment 10+2+5 = 17, completed 10+2 = 12
#   "2" closed 03-18..03-29  I2 4 pts done 03-25, G done 03-20
#                            -> commitment 4+5 = 9, completed 9
#   "3" closed 04-01..04-12  I3 6 pts done 04-05 -> 6, 6
#   "4" closed 04-15..04-26  I4 8 pts done 04-20 -> 8, 8
#   "5" active 04-29..05-10  I5a 5 pts done 05-01, I5b 3 pts done 05-06
#                            as of 05-03 12:00 -> commitment 5+3 = 8, completed so far 5
#   "6" future from 05-13    -> not listed
AS_OF = t("2024-05-03 12:00")
HISTORY_SPRINTS = sprints_frame(
    [
        sprint("6", state="future", start="2024-05-13 09:00", end="2024-05-24 17:00"),
        SPRINT_2,
        SPRINT_1,
        sprint("3", state="closed", start="2024-04-01 09:00", end="2024-04-12 17:00",
               completed="2024-04-12 16:00"),
        sprint("4", state="closed", start="2024-04-15 09:00", end="2024-04-26 17:00",
               completed="2024-04-26 16:00"),
        sprint("5", state="active", start="2024-04-29 09:00", end="2024-05-10 17:00"),
    ]
)  # fmt: skip
HISTORY_ITEMS = items_frame(
    [
        item("I1", points=10, sprint="1", category="done"),
        item("I1b", points=2, sprint="1", category="done"),
        item("G", points=5, sprint="2", category="done"),
        item("I2", points=4, sprint="2", category="done"),
        item("I3", points=6, sprint="3", category="done"),
        item("I4", points=8, sprint="4", category="done"),
        item("I5a", points=5, sprint="5", category="done"),
        item("I5b", points=3, sprint="5", category="done"),
    ]
)
HISTORY_EVENTS = events_frame(
    [
        status("I1", "2024-03-08 10:00", "todo", "done"),
        status("I1b", "2024-03-14 10:00", "todo", "done"),
        ev("G", "2024-03-15 16:00", "sprint", "1", "2"),
        status("G", "2024-03-20 10:00", "todo", "done"),
        status("I2", "2024-03-25 10:00", "todo", "done"),
        status("I3", "2024-04-05 10:00", "todo", "done"),
        status("I4", "2024-04-20 10:00", "todo", "done"),
        status("I5a", "2024-05-01 10:00", "todo", "done"),
        status("I5b", "2024-05-06 10:00", "todo", "done"),
    ]
)


def history_velocity(as_of: pd.Timestamp) -> pd.DataFrame:
    return sprint_velocity(HISTORY_SPRINTS, HISTORY_ITEMS, HISTORY_EVENTS, as_of=as_of)


def test_history_velocity_table() -> None:
    frame = history_velocity(AS_OF)
    assert list(frame.columns) == VELOCITY_COLUMNS
    expected = [
        ("1", "closed", 17.0, 12.0),
        ("2", "closed", 9.0, 9.0),
        ("3", "closed", 6.0, 6.0),
        ("4", "closed", 8.0, 8.0),
        ("5", "active", 8.0, 5.0),
    ]
    got = list(frame[["external_id", "state", "commitment", "completed"]].itertuples(index=False))
    assert [tuple(row) for row in got] == expected
    assert frame["start"].is_monotonic_increasing


def test_replay_sees_a_closed_sprint_as_active() -> None:
    # As of 03-10 12:00 only "1" has started and it was still running: state active,
    # commitment 17, completed so far = I1 10 (I1b is done only on 03-14).
    frame = history_velocity(t("2024-03-10 12:00"))
    assert list(frame["external_id"]) == ["1"]
    row = frame.iloc[0]
    assert (row["state"], row["commitment"], row["completed"]) == ("active", 17.0, 10.0)
    assert average_velocity(frame) is None


@pytest.mark.parametrize(
    ("last_n", "expected"),
    [
        # last 3 closed: "2" 9, "3" 6, "4" 8 -> 23 / 3 (the active "5" is left out)
        pytest.param(3, 23 / 3, id="last-3-closed"),
        # only "4" -> 8
        pytest.param(1, 8.0, id="last-1"),
        # only four closed sprints exist: (12 + 9 + 6 + 8) / 4 = 8.75
        pytest.param(5, 8.75, id="fewer-closed-than-n"),
    ],
)
def test_average_velocity(last_n: int, expected: float) -> None:
    assert average_velocity(history_velocity(AS_OF), last_n=last_n) == pytest.approx(expected)


def test_average_velocity_rejects_non_positive_n() -> None:
    with pytest.raises(ValueError, match="last_n"):
        average_velocity(history_velocity(AS_OF), last_n=0)


def test_no_sprints_gives_empty_frame() -> None:
    frame = sprint_velocity(sprints_frame([]), items_frame([]), events_frame([]), as_of=AS_OF)
    assert frame.empty
    assert list(frame.columns) == VELOCITY_COLUMNS
    assert average_velocity(frame) is None


@pytest.mark.parametrize("as_of", [AS_OF, t("2024-03-10 12:00"), t("2024-04-13 00:00"),
                                   AFTER_ALL])
def test_stored_figures_stand_for_the_rebuild(as_of: pd.Timestamp) -> None:
    # The figures stored after a collection (kpis.sprint_figures), as of any replay instant,
    # give the table a rebuild from history gives: closed "1" to "4" from their rows
    # (17/12, 9/9, 6/6, 8/8 above) once closed, the others rebuilt.
    stored = closed_sprint_figures(HISTORY_SPRINTS, HISTORY_ITEMS, HISTORY_EVENTS)
    assert list(stored["external_id"]) == ["1", "2", "3", "4"]
    assert list(stored["commitment"]) == [17.0, 9.0, 6.0, 8.0]
    assert list(stored["completed"]) == [12.0, 9.0, 6.0, 8.0]
    kept = sprint_velocity(HISTORY_SPRINTS, HISTORY_ITEMS, HISTORY_EVENTS, as_of=as_of,
                           stored=stored)
    pd.testing.assert_frame_equal(kept, history_velocity(as_of))


def test_stored_figures_of_every_rule_in_one_sprint() -> None:
    # The scenarios above in one closed sprint: its stored row is the hand-counted
    # 35 / 23 / 3 added / 3 removed of test_all_scenarios_in_one_sprint_add_up.
    items = items_frame([row for scenario in SCENARIOS.values() for row in scenario[0]])
    events = events_frame([row for scenario in SCENARIOS.values() for row in scenario[1]])
    stored = closed_sprint_figures(sprints_frame([SPRINT_1]), items, events)
    assert [tuple(r) for r in stored[FIGURES].itertuples(index=False)] == [(35.0, 23.0, 3, 3)]
