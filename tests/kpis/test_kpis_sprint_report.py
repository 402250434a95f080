"""Jira's sprint report beside dspo's reconstruction: figures and per-item reasons.

Every expected number is worked out by hand in the comments from the frames next to it.
Sprint 11 runs from Mon 16 Feb 09:00 to its completion on Mon 02 Mar 08:30 (UTC).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from kpis_frames import ev, events_frame, item, items_frame, sprint, sprints_frame, t

from kpis.sprint_report import DIFFERENCE, NOTE, compare_sprint, explained, sprint_items
from kpis.velocity import sprint_velocity

SPRINTS = sprints_frame([
    sprint("11", state="closed", start="2026-02-16 09:00", end="2026-03-02 09:00",
           completed="2026-03-02 08:30"),
    sprint("12", state="active", start="2026-03-02 09:00", end="2026-03-16 09:00"),
])
AS_OF = t("2026-03-10 12:00")
CLOSE = "Mon 02 Mar 08:30 UTC"


def status(key: str, ts: str, old: str, new: str, old_cat: str, new_cat: str) -> list[dict]:
    return [ev(key, ts, "status", old, new), ev(key, ts, "status_category", old_cat, new_cat)]


def named(row: dict[str, Any], status_name: str) -> dict[str, Any]:
    return {**row, "status": status_name}


# The team's sprint 11 (the collector tests' fake Jira holds the same story):
# DS-1 3 pts, done 02-20. DS-2 5 pts re-estimated to 8 on 02-18, in progress, carried over
# to 12 at the close. DS-3 created 02-18, added 02-18 10:00 with 2 pts, done 02-25. DS-4
# 1 pt, removed 02-20. DS-5 2 pts, 'Ready for release' (in progress) at the close, Done
# on 03-03: Jira's board has that status in its done column.
ITEMS = items_frame([
    item("DS-1", points=3, sprint="11", category="done"),
    item("DS-2", points=8, sprint="12", category="in_progress"),
    item("DS-3", points=2, sprint="11", category="done", created="2026-02-18 09:00"),
    item("DS-4", points=1, sprint=None, category="todo"),
    named(item("DS-5", points=2, sprint="11", category="done"), "Done"),
])
EVENTS = events_frame([
    *status("DS-1", "2026-02-17 09:00", "To Do", "In Progress", "todo", "in_progress"),
    *status("DS-1", "2026-02-20 09:00", "In Progress", "Done", "in_progress", "done"),
    ev("DS-2", "2026-02-18 09:00", "points", "5", "8"),
    *status("DS-2", "2026-02-19 09:00", "To Do", "In Progress", "todo", "in_progress"),
    ev("DS-2", "2026-03-02 08:30", "sprint", "11", "12"),
    ev("DS-3", "2026-02-18 10:00", "sprint", None, "11"),
    *status("DS-3", "2026-02-25 09:00", "To Do", "Done", "todo", "done"),
    ev("DS-4", "2026-02-20 09:00", "sprint", "11", None),
    *status("DS-5", "2026-02-24 09:00", "To Do", "Ready for release", "todo", "in_progress"),
    *status("DS-5", "2026-03-03 08:30", "Ready for release", "Done", "in_progress", "done"),
])
# Jira's report (collectors/jira_sprints.py): committed = initial estimates of the listed
# issues not added = DS-1 3 + DS-5 2 + DS-2 5 + DS-4 1 = 11; completed = 3 + 2 + 2 = 7;
# not completed = DS-2 at the close = 8; removed = DS-4 = 1; added = DS-3 = 2.
REPORT = {
    "committed": 11.0, "completed": 7.0, "not_completed": 8.0, "removed": 1.0, "added": 2.0,
    "completed_keys": ["DS-1", "DS-3", "DS-5"], "not_completed_keys": ["DS-2"],
    "removed_keys": ["DS-4"], "added_keys": ["DS-3"],
}


def _figures(comparison: Any) -> dict[str, tuple[float, float]]:
    return {r.figure: (r.jira, r.dspo) for r in comparison.figures.itertuples(index=False)}


def _reasons(comparison: Any, kind: str = DIFFERENCE) -> list[tuple[Any, str, str]]:
    rows = comparison.items.loc[comparison.items["kind"] == kind]
    return [(r.item_key, r.figure, r.reason) for r in rows.itertuples(index=False)]


def test_the_team_sprint_figures_side_by_side() -> None:
    c = compare_sprint(REPORT, SPRINTS, ITEMS, EVENTS, "11", as_of=AS_OF)
    # dspo: committed = items in 11 at the start, not done: DS-1 3, DS-2 5 (its estimate
    # before the 02-18 re-estimate), DS-4 1, DS-5 2 = 11 (DS-3 did not exist yet).
    # completed at the close: DS-1 3 + DS-3 2 = 5 (DS-5 is in progress until 03-03).
    # not completed: DS-2 8 (carried over at the close, still counts) + DS-5 2 = 10.
    # removed: DS-4 1 (left on 02-20). added: DS-3 2 (its estimate when it joined).
    assert _figures(c) == {"committed": (11.0, 11.0), "completed": (7.0, 5.0),
                           "not_completed": (8.0, 10.0), "removed": (1.0, 1.0),
                           "added": (2.0, 2.0)}
    assert c.figures.set_index("figure")["difference"].to_dict() == {
        "committed": 0.0, "completed": -2.0, "not_completed": 2.0, "removed": 0.0,
        "added": 0.0}
    assert not c.agree


def test_the_team_sprint_reasons_name_the_item_and_the_event() -> None:
    c = compare_sprint(REPORT, SPRINTS, ITEMS, EVENTS, "11", as_of=AS_OF)
    why = (f"at the close ({CLOSE}) its status was 'Ready for release' (in_progress), which "
           "Jira's board counts as done (its last column); its done event came after the "
           "sprint's end (Tue 03 Mar 08:30 UTC)")
    assert _reasons(c) == [
        ("DS-5", "completed", f"DS-5: Jira counts it completed, dspo does not: {why}"),
        ("DS-5", "not_completed", f"DS-5: dspo counts it not completed, Jira does not: {why}"),
    ]
    assert explained(c.items) == [
        f"DS-5: Jira counts it completed, dspo counts it not completed: {why}"]
    assert _reasons(c, NOTE) == [(
        "DS-2", "committed",
        "DS-2: points re-estimated mid-sprint (5 → 8 on Wed 18 Feb 09:00 UTC): the "
        "commitment uses the estimate at the sprint's start (5), completed and not completed "
        "the estimate at the close (8), in Jira as in dspo")]


def test_per_item_view_adds_up_to_velocity() -> None:
    """The per-item rules are velocity's: their sums are its commitment and completed."""
    mine = sprint_items(SPRINTS, ITEMS, EVENTS, "11", as_of=AS_OF)
    velocity = sprint_velocity(SPRINTS, ITEMS, EVENTS, as_of=AS_OF).set_index("external_id")
    assert mine["committed_points"].sum() == velocity.loc["11", "commitment"] == 11.0
    assert mine["completed_points"].sum() == velocity.loc["11", "completed"] == 5.0
    assert int(mine["added"].sum()) == velocity.loc["11", "added_mid_sprint"] == 1
    assert int(mine["removed"].sum()) == velocity.loc["11", "removed_mid_sprint"] == 1
    assert sorted(mine.index[mine["committed"]]) == ["DS-1", "DS-2", "DS-4", "DS-5"]
    assert mine.loc["DS-2", "not_completed_points"] == 8.0  # carried over at the close


def _one(items: list[dict], events: list[dict], report: dict[str, Any]) -> Any:
    full = {"committed": None, "completed": None, "not_completed": None, "removed": None,
            "added": None, "completed_keys": [], "not_completed_keys": [],
            "removed_keys": [], "added_keys": [], **report}
    return compare_sprint(full, SPRINTS, items_frame(items), events_frame(events), "11",
                          as_of=AS_OF)


def test_moved_in_just_after_the_start() -> None:
    # DS-8 (3 pts) joins 11 ten minutes after the start, done 02-20. Jira counts it
    # committed (not in issueKeysAddedDuringSprint): committed 3, added 0. dspo: committed
    # 0, added 3 (its estimate when it joined), completed 3 on both sides.
    c = _one([item("DS-8", points=3, sprint="11", category="done")],
             [ev("DS-8", "2026-02-16 09:10", "sprint", None, "11"),
              *status("DS-8", "2026-02-20 09:00", "To Do", "Done", "todo", "done")],
             {"committed": 3.0, "completed": 3.0, "added": 0.0,
              "completed_keys": ["DS-8"]})
    assert _figures(c)["committed"] == (3.0, 0.0)
    assert _figures(c)["added"] == (0.0, 3.0)
    assert _figures(c)["completed"] == (3.0, 3.0)
    why = ("dspo sees it join the sprint on Mon 16 Feb 09:10 UTC, after the start (Mon 16 "
           "Feb 09:00 UTC); Jira counts it as planned at the start")
    assert _reasons(c) == [
        ("DS-8", "committed", f"DS-8: Jira counts it committed, dspo does not: {why}"),
        ("DS-8", "added", f"DS-8: dspo counts it added, Jira does not: {why}"),
    ]
    assert explained(c.items) == [
        f"DS-8: Jira counts it committed, dspo counts it added: {why}"]


def test_done_before_the_sprint_started() -> None:
    # DS-9 (2 pts) was done on 02-10 and sits in 11 all along. Jira's report lists it
    # completed; dspo leaves it out of committed (done at the start) and of completed (not
    # done *in* this sprint): Jira 2 / dspo 0 for both.
    c = _one([item("DS-9", points=2, sprint="11", category="done")],
             status("DS-9", "2026-02-10 09:00", "To Do", "Done", "todo", "done"),
             {"committed": 2.0, "completed": 2.0, "completed_keys": ["DS-9"]})
    assert _figures(c)["committed"] == (2.0, 0.0)
    assert _figures(c)["completed"] == (2.0, 0.0)
    assert _reasons(c) == [
        ("DS-9", "committed", "DS-9: Jira counts it committed, dspo does not: it was "
         "already done at the start (Mon 16 Feb 09:00 UTC), and dspo leaves finished work "
         "out of the commitment"),
        ("DS-9", "completed", "DS-9: Jira counts it completed, dspo does not: dspo has it "
         "done before the sprint started (Tue 10 Feb 09:00 UTC): completed outside it"),
    ]


def test_a_status_dspo_counts_done_and_jira_does_not() -> None:
    # DS-10 (5 pts) moved to 'QA passed', which the source maps to done (status_categories),
    # on 02-27; Jira's board keeps that status out of its done column: not completed there.
    c = _one([named(item("DS-10", points=5, sprint="11", category="done"), "QA passed")],
             status("DS-10", "2026-02-27 09:00", "To Do", "QA passed", "todo", "done"),
             {"committed": 5.0, "completed": 0.0, "not_completed": 5.0,
              "not_completed_keys": ["DS-10"]})
    assert _figures(c)["completed"] == (0.0, 5.0)
    assert _figures(c)["not_completed"] == (5.0, 0.0)
    why = (f"at the close ({CLOSE}) dspo has it done, status 'QA passed' (done), but Jira's "
           "board does not count 'QA passed' as done (not in its last column)")
    assert _reasons(c) == [
        ("DS-10", "completed", f"DS-10: dspo counts it completed, Jira does not: {why}"),
        ("DS-10", "not_completed", f"DS-10: Jira counts it not completed, dspo does not: {why}"),
    ]


def test_moved_out_minutes_before_the_close() -> None:
    # DS-11 (1 pt) was moved to sprint 12 at 08:25, five minutes before the close: dspo
    # counts a removal (1); Jira counted it not completed at the close (1).
    c = _one([item("DS-11", points=1, sprint="12", category="todo")],
             [ev("DS-11", "2026-03-02 08:25", "sprint", "11", "12")],
             {"committed": 1.0, "not_completed": 1.0, "removed": 0.0,
              "not_completed_keys": ["DS-11"]})
    assert _figures(c)["removed"] == (0.0, 1.0)
    assert _figures(c)["not_completed"] == (1.0, 0.0)
    assert _reasons(c) == [
        ("DS-11", "not_completed", "DS-11: Jira counts it not completed, dspo does not: dspo "
         f"sees it leave the sprint before the close ({CLOSE})"),
        ("DS-11", "removed", "DS-11: dspo counts it removed, Jira does not: dspo sees it "
         "leave the sprint on Mon 02 Mar 08:25 UTC (to sprint 12), before the close; Jira "
         "has it not completed"),
    ]


def test_an_item_dspo_does_not_have() -> None:
    # DS-99 (4 pts) is in Jira's report but not in the store (another project, or deleted).
    c = _one([item("DS-1", points=3, sprint="11", category="todo")], [],
             {"committed": 7.0, "not_completed": 7.0,
              "not_completed_keys": ["DS-1", "DS-99"]})
    # dspo: committed DS-1 3; not completed DS-1 3.
    assert _figures(c)["committed"] == (7.0, 3.0)
    missing = "dspo has no such item (outside the source's project or JQL, or deleted since)"
    assert _reasons(c) == [
        ("DS-99", "committed", f"DS-99: Jira counts it committed, dspo does not: {missing}"),
        ("DS-99", "not_completed",
         f"DS-99: Jira counts it not completed, dspo does not: {missing}"),
    ]
    assert explained(c.items) == [
        f"DS-99: Jira counts it committed and not completed, dspo does not: {missing}"]


@pytest.mark.parametrize(("events", "expected"), [
    pytest.param([], "check that points_field is the field the board estimates with",
                 id="no-re-estimate"),
    pytest.param([ev("DS-1", "2026-02-18 09:00", "points", "5", "3")],
                 "re-estimated during the sprint: DS-1 (5 → 3 on Wed 18 Feb 09:00 UTC)",
                 id="re-estimated"),
])
def test_same_items_other_estimates(events: list[dict], expected: str) -> None:
    # Both sides count DS-1 completed; Jira's sum says 5, dspo's estimate at the close is 3.
    c = _one([item("DS-1", points=3, sprint="11", category="done")],
             [*events, *status("DS-1", "2026-02-20 09:00", "To Do", "Done", "todo", "done")],
             {"completed": 5.0, "completed_keys": ["DS-1"]})
    assert _figures(c)["completed"] == (5.0, 3.0)
    [(key, _figure, reason)] = [r for r in _reasons(c) if r[1] == "completed"]
    assert key is None and reason.startswith(
        "Completed: the same items on both sides, with other estimates: both use the "
        "estimate at the close")
    assert reason.endswith(expected)


def test_agreeing_report_has_no_difference() -> None:
    report = {**REPORT, "completed": 5.0, "not_completed": 10.0,
              "completed_keys": ["DS-1", "DS-3"], "not_completed_keys": ["DS-2", "DS-5"]}
    c = compare_sprint(report, SPRINTS, ITEMS, EVENTS, "11", as_of=AS_OF)
    assert c.agree
    assert _reasons(c) == []


def test_unknown_sprint_is_an_error() -> None:
    with pytest.raises(ValueError, match="no sprint with external_id '77'"):
        compare_sprint(REPORT, SPRINTS, ITEMS, EVENTS, "77", as_of=AS_OF)


def test_naive_as_of_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compare_sprint(REPORT, SPRINTS, ITEMS, EVENTS, "11",
                       as_of=pd.Timestamp("2026-03-10").to_pydatetime())
