"""Backlog progress by type and status category, and the totals tile."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from kpis_frames import item, items_frame

from kpis.backlog import PROGRESS_COLUMNS, backlog_progress, progress_summary

# story: todo 3, in_progress 5, done 2, done (no estimate)
# bug:   done 1, todo (no estimate)
BACKLOG = items_frame(
    [
        item("S1", type="story", category="todo", points=3),
        item("S2", type="story", category="in_progress", points=5),
        item("S3", type="story", category="done", points=2),
        item("S4", type="story", category="done", points=None),
        item("B1", type="bug", category="done", points=1),
        item("B2", type="bug", category="todo", points=None),
    ]
)


def test_backlog_progress_fills_every_type_and_category() -> None:
    frame = backlog_progress(BACKLOG)
    assert list(frame.columns) == PROGRESS_COLUMNS
    rows = [tuple(r) for r in frame.itertuples(index=False)]
    assert rows == [
        ("bug", "todo", 1, 0.0),  # B2, no estimate -> 0
        ("bug", "in_progress", 0, 0.0),  # no bug in progress: zero-filled
        ("bug", "done", 1, 1.0),  # B1
        ("story", "todo", 1, 3.0),  # S1
        ("story", "in_progress", 1, 5.0),  # S2
        ("story", "done", 2, 2.0),  # S3 2 + S4 0
    ]


def test_backlog_progress_of_empty_backlog() -> None:
    frame = backlog_progress(items_frame([]))
    assert frame.empty
    assert list(frame.columns) == PROGRESS_COLUMNS


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # points 3+5+2+0+1+0 = 11; done S3 2 + S4 0 + B1 1 = 3 points, 3 items; 3 / 11
        pytest.param(
            BACKLOG,
            {
                "items": 6,
                "points": 11.0,
                "done_items": 3,
                "done_points": 3.0,
                "share_done_points": 3 / 11,
                "by_category": {"todo": 2, "in_progress": 1, "done": 3},
                "points_by_category": {"todo": 3.0, "in_progress": 5.0, "done": 3.0},
            },
            id="mixed-backlog",
        ),
        # nothing estimated: 0 points, so the share is None, not 0 %
        pytest.param(
            items_frame([item("U1", category="done"), item("U2", category="todo")]),
            {
                "items": 2,
                "points": 0.0,
                "done_items": 1,
                "done_points": 0.0,
                "share_done_points": None,
                "by_category": {"todo": 1, "in_progress": 0, "done": 1},
                "points_by_category": {"todo": 0.0, "in_progress": 0.0, "done": 0.0},
            },
            id="no-estimates",
        ),
        pytest.param(
            items_frame([]),
            {
                "items": 0,
                "points": 0.0,
                "done_items": 0,
                "done_points": 0.0,
                "share_done_points": None,
                "by_category": {"todo": 0, "in_progress": 0, "done": 0},
                "points_by_category": {"todo": 0.0, "in_progress": 0.0, "done": 0.0},
            },
            id="empty-backlog",
        ),
    ],
)
def test_progress_summary(rows: pd.DataFrame, expected: dict[str, Any]) -> None:
    got = progress_summary(rows)
    share = got.pop("share_done_points")
    want = dict(expected)
    want_share = want.pop("share_done_points")
    assert share == (None if want_share is None else pytest.approx(want_share))
    assert got == want


def test_work_items_leave_out_containers() -> None:
    import pandas as pd

    from kpis.backlog import work_items

    items = pd.DataFrame({"key": ["A-1", "A-2", "A-3", "A-4"],
                          "type": ["Epic", "Story", " initiative ", None]})
    # Epic and Initiative are containers (case and spaces ignored); a missing type is work.
    assert work_items(items)["key"].tolist() == ["A-2", "A-4"]
