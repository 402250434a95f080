"""Carry-over: what a sprint left undone at its close, and where each item went.

Every expected number is worked out by hand in the comments, from the story's frames
(`sprint_story.py`: two sprints, six items and their events).
"""

from __future__ import annotations

from typing import Any

import pytest
from kpis_frames import ev, events_frame, item, items_frame, t
from sprint_story import AFTER_ALL, EVENTS, ITEMS, SPRINTS

from kpis.burndown import burndown
from kpis.carry_over import CARRIED_COLUMNS, CARRY_OVER_COLUMNS, carried_items, carry_over
from kpis.sprint_report import sprint_items


def test_each_carried_item_and_where_it_went() -> None:
    frame = carried_items(SPRINTS, ITEMS, EVENTS, "1", as_of=AFTER_ALL)
    assert list(frame.columns) == CARRIED_COLUMNS
    got = [(r.item_key, r.points, r.destination, r.to_sprint) for r in
           frame.itertuples(index=False)]
    assert got == [("C", 2.0, "sprint", "2"), ("U", 3.0, "backlog", None),
                   ("V", 5.0, "stayed", None), ("Y", 2.0, "sprint", "2")]
    assert list(frame["moved"].iloc[[0, 1, 3]]) == [
        t("2024-03-18 00:00"), t("2024-03-18 00:00"), t("2024-03-18 10:00")]
    assert frame["moved"].isna().tolist() == [False, False, True, False]


def test_carry_over_total_is_the_remaining_at_the_close() -> None:
    # Remaining at the close: C 2 + U 3 + V 5 + Y 2 = 12 (W is done, X left before the
    # close). The carry-over is the same 4 items and 12 points, split by destination:
    # into a sprint C 2 + Y 2 = 4, to the backlog U 3, stayed V 5. (The old definition
    # counted only items in "2" at its start, 09:00: C alone, 2 points.)
    frame = carry_over(SPRINTS, ITEMS, EVENTS, as_of=AFTER_ALL)
    assert list(frame.columns) == CARRY_OVER_COLUMNS
    assert [tuple(r) for r in frame.itertuples(index=False)] == [("1", 4, 12.0, 4.0, 3.0, 5.0)]
    events = burndown(SPRINTS, ITEMS, EVENTS, "1", as_of=AFTER_ALL)
    assert (events["event"].iloc[-1], events["remaining"].iloc[-1]) == ("end", 12.0)
    # Jira's sprint report calls them "not completed": dspo's per-item view agrees
    mine = sprint_items(SPRINTS, ITEMS, EVENTS, "1", as_of=AFTER_ALL)
    assert sorted(mine.index[mine["not_completed"]]) == ["C", "U", "V", "Y"]
    assert mine["not_completed_points"].sum() == 12.0


def test_a_move_after_as_of_is_not_known_yet() -> None:
    # As of 03-18 05:00 "1" has closed (00:00) but Y has not moved yet (10:00): it stayed
    # as far as we know; C and U moved at the close. "2" has not started: still no row.
    frame = carried_items(SPRINTS, ITEMS, EVENTS, "1", as_of=t("2024-03-18 05:00"))
    assert list(frame["destination"]) == ["sprint", "backlog", "stayed", "stayed"]
    summary = carry_over(SPRINTS, ITEMS, EVENTS, as_of=t("2024-03-18 05:00"))
    assert [tuple(r) for r in summary.itertuples(index=False)] == [("1", 4, 12.0, 2.0, 3.0, 7.0)]


def test_an_open_sprint_has_no_carry_over_yet() -> None:
    # As of 03-15 "1" is still open: nothing is carried, and no closed sprint, no row.
    assert carried_items(SPRINTS, ITEMS, EVENTS, "1", as_of=t("2024-03-15 00:00")).empty
    assert carry_over(SPRINTS, ITEMS, EVENTS, as_of=t("2024-03-15 00:00")).empty
    assert carried_items(SPRINTS, ITEMS, EVENTS, "2", as_of=AFTER_ALL).empty


def test_estimate_at_the_close_and_only_the_first_move() -> None:
    # Z 3 pts re-estimated to 5 on 03-12, not done, moved to the backlog 03-19 and into
    # "2" on 03-19 12:00: it went to the backlog first (its first move out of "1"), with
    # its estimate at the close, 5. A later re-estimate (5 -> 8 on 03-19) does not count.
    items = items_frame([item("Z", points=8, sprint="2")])
    events = events_frame([
        ev("Z", "2024-03-12 09:00", "points", "3", "5"),
        ev("Z", "2024-03-19 09:00", "sprint", "1", None),
        ev("Z", "2024-03-19 09:00", "points", "5", "8"),
        ev("Z", "2024-03-19 12:00", "sprint", None, "2"),
    ])  # fmt: skip
    frame = carried_items(SPRINTS, items, events, "1", as_of=AFTER_ALL)
    assert [tuple(r) for r in frame[["item_key", "points", "destination"]].itertuples(
        index=False)] == [("Z", 5.0, "backlog")]


def test_a_sprint_that_finished_everything_carries_nothing() -> None:
    # Only W (done 03-10) in "1": remaining 0 at the close, so one row of zeros.
    items, events = ITEMS.iloc[[4]], EVENTS.loc[EVENTS["item_key"] == "W"]
    frame = carry_over(SPRINTS, items, events, as_of=AFTER_ALL)
    assert [tuple(r) for r in frame.itertuples(index=False)] == [("1", 0, 0.0, 0.0, 0.0, 0.0)]
    assert carry_over(SPRINTS.iloc[0:0], items, events, as_of=AFTER_ALL).empty


@pytest.mark.parametrize("as_of", [t("2024-03-18 00:00"), AFTER_ALL], ids=["at-close", "after"])
def test_carry_over_equals_remaining_for_every_closed_sprint(as_of: Any) -> None:
    # the identity the page relies on, at the close instant itself and after it
    total = carry_over(SPRINTS, ITEMS, EVENTS, as_of=as_of)["points"].sum()
    remaining = burndown(SPRINTS, ITEMS, EVENTS, "1", as_of=as_of)["remaining"].iloc[-1]
    assert total == remaining == 12.0
