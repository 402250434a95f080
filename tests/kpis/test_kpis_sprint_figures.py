"""Closed sprints' stored figures: worked out by hand, and equal to a live rebuild.

The frames are those of test_kpis_carry_over.py's story (Sprint "1", closed Mon 03-18
00:00; Sprint "2" active from 03-18 09:00), so every figure is worked out in comments.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from kpis_frames import t
from sprint_story import EVENTS, ITEMS, SPRINTS

import kpis.carry_over
import kpis.velocity
from kpis.carry_over import carry_over
from kpis.sprint_figures import STORED_COLUMNS, any_closed, closed_sprint_figures, horizon
from kpis.velocity import sprint_velocity

CLOSE, Y_MOVED = t("2024-03-18 00:00"), t("2024-03-18 10:00")


def _figures() -> pd.DataFrame:
    return closed_sprint_figures(SPRINTS, ITEMS, EVENTS)


def test_a_closed_sprint_by_hand() -> None:
    # Velocity of "1". commitment: every item in "1" at its start, none done then:
    # C 2 + U 3 + V 5 + Y 2 + W 1 + X 8 = 21. completed: in "1" at the close and done
    # during it: W 1. added mid-sprint: none joined after the start = 0. removed: X left
    # before the close = 1 (C and U moved *at* the close: the close itself, not removal).
    # Carry-over: not done at the close C 2 + U 3 + V 5 + Y 2 = 4 items, 12 points; into a
    # sprint C 2 + Y 2 = 4, to the backlog U 3, stayed V 5. Settled once Y left, 10:00.
    # "2" is active: no row.
    frame = _figures()
    assert list(frame.columns) == STORED_COLUMNS
    assert frame.to_dict("records") == [{
        "external_id": "1", "start": t("2024-03-04 00:00"), "closed_at": CLOSE,
        "settled_at": Y_MOVED, "commitment": 21.0, "completed": 1.0, "added_mid_sprint": 0,
        "removed_mid_sprint": 1, "carry_items": 4, "carry_points": 12.0,
        "into_sprints": 4.0, "to_backlog": 3.0, "stayed": 5.0,
    }]


def test_horizon_is_the_latest_instant_known() -> None:
    # the latest of starts, ends, completions (03-29 17:00, sprint "2"'s planned end),
    # creations and event times (03-18 10:00)
    assert horizon(SPRINTS, ITEMS, EVENTS) == t("2024-03-29 17:00")
    assert any_closed(SPRINTS) and not any_closed(SPRINTS.iloc[[1]])


@pytest.mark.parametrize("as_of", [
    "2024-03-10 00:00",  # "1" still open: the row is not used
    "2024-03-18 00:00",  # at the close: velocity from the row, carry-over rebuilt (Y there)
    "2024-03-18 05:00",  # before Y moved: the same
    "2024-03-18 10:00",  # settled: both from the row
    "2024-06-01 00:00",
], ids=["open", "at-close", "before-settled", "settled", "later"])
def test_stored_figures_equal_the_live_rebuild(as_of: str) -> None:
    stored = _figures()
    for fn in (sprint_velocity, carry_over):
        live = fn(SPRINTS, ITEMS, EVENTS, as_of=t(as_of))  # type: ignore[operator]
        kept = fn(SPRINTS, ITEMS, EVENTS, as_of=t(as_of), stored=stored)  # type: ignore[operator]
        pd.testing.assert_frame_equal(kept, live)


def _counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[Any]:
    calls: list[Any] = []
    real = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_only_sprints_without_a_usable_row_are_rebuilt(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    stored = _figures()
    rebuilt = _counting(monkeypatch, kpis.velocity, "_one_sprint")
    carried = _counting(monkeypatch, kpis.carry_over, "_carried")
    velocity = sprint_velocity(SPRINTS, ITEMS, EVENTS, as_of=t("2024-03-20"), stored=stored)
    assert [args[0]["external_id"] for args in rebuilt] == ["2"]  # the active one only
    assert list(velocity["external_id"]) == ["1", "2"]
    carry_over(SPRINTS, ITEMS, EVENTS, as_of=t("2024-03-20"), stored=stored)
    assert carried == []
    # before Y's move the stored carry-over does not hold yet: "1" is rebuilt
    carry_over(SPRINTS, ITEMS, EVENTS, as_of=t("2024-03-18 05:00"), stored=stored)
    assert len(carried) == 1


def test_a_replanned_or_reopened_sprint_is_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = _figures()
    moved = SPRINTS.assign(completed=[t("2024-03-17 00:00"), None])  # closed a day early
    reopened = SPRINTS.assign(state=["active", "active"])
    rebuilt = _counting(monkeypatch, kpis.velocity, "_one_sprint")
    for sprints in (moved, reopened):
        live = sprint_velocity(sprints, ITEMS, EVENTS, as_of=t("2024-03-20"))
        kept = sprint_velocity(sprints, ITEMS, EVENTS, as_of=t("2024-03-20"), stored=stored)
        pd.testing.assert_frame_equal(kept, live)
    assert len(rebuilt) == 8  # both sprints, live and "kept", twice: no row was used
