"""Epic progress, alert-created items and counts by status and type."""

from __future__ import annotations

import math
from typing import Any

import pytest
from kpis_frames import item, items_frame

from kpis.backlog import EPIC_COLUMNS, alert_items, epic_progress, items_by, open_items_by_epic


def row(key: str, *, epic: str | None = None, title: str | None = None,
        origin: str = "imported", status: str | None = None, **kw: Any) -> dict[str, Any]:
    data = item(key, **kw)
    data.update(epic=epic, origin=origin)
    if title is not None:
        data["title"] = title
    if status is not None:
        data["status"] = status
    return data


# E1 "Payments": S1 done 3, S2 todo 5. E2 "Empty epic": no children.
# S3 belongs to E3, which is not in the backlog; done, unestimated.
# S4 has no epic: in progress, 2. B1, from an alert, has no epic: todo, 1.
BACKLOG = items_frame([
    row("E1", type="Epic", title="Payments", category="in_progress"),
    row("E2", type="Epic", title="Empty epic", category="todo"),
    row("S1", epic="E1", category="done", points=3),
    row("S2", epic="E1", category="todo", points=5),
    row("S3", epic="E3", category="done"),
    row("S4", category="in_progress", points=2, status="In Review"),
    row("B1", type="bug", origin="alert", category="todo", points=1),
])  # fmt: skip


def test_epic_progress() -> None:
    frame = epic_progress(BACKLOG)
    assert list(frame.columns) == EPIC_COLUMNS
    got = [tuple(r) for r in frame.itertuples(index=False)]
    expected = [
        ("E1", "Payments", 2, 1, 8.0, 3.0, 3 / 8),  # 3 of 3+5 points done
        ("E2", "Empty epic", 0, 0, 0.0, 0.0, None),  # listed, nothing under it
        ("E3", None, 1, 1, 0.0, 0.0, None),  # no Epic item for E3; nothing estimated
        (None, None, 2, 0, 3.0, 0.0, 0.0),  # S4 2 + B1 1, none done
    ]
    assert len(got) == len(expected)
    for have, want in zip(got, expected, strict=True):
        assert have[:6] == want[:6]
        assert math.isnan(have[6]) if want[6] is None else have[6] == pytest.approx(want[6])


def test_epic_progress_of_an_empty_backlog() -> None:
    assert epic_progress(items_frame([])).empty


def test_open_items_by_epic() -> None:
    # E1: S1 done, S2 to do -> 1 of 2 open; E3 (no Epic item, so no title): S3 done -> 0
    # of 1. E2 has no children and S4, B1 no epic: not listed.
    got = [tuple(r) for r in open_items_by_epic(BACKLOG).itertuples(index=False)]
    assert got == [("E1", "Payments", 2, 1), ("E3", None, 1, 0)]
    assert open_items_by_epic(items_frame([])).empty


def test_alert_items() -> None:
    assert alert_items(BACKLOG)["key"].tolist() == ["B1"]


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        # To Do: E2, S2 5, B1 1 -> 3 items, 6 pts; In Progress: E1 -> 1, 0; Done: S1 3 + S3 0
        # -> 2, 3; In Review: S4 -> 1, 2. Most items first, then by name.
        pytest.param("status", [("To Do", 3, 6.0), ("Done", 2, 3.0), ("In Progress", 1, 0.0),
                                ("In Review", 1, 2.0)], id="by-status"),
        # story: S1..S4 -> 4 items, 3+5+0+2 = 10; Epic: 2 items, 0; bug: B1 -> 1, 1
        pytest.param("type", [("story", 4, 10.0), ("Epic", 2, 0.0), ("bug", 1, 1.0)],
                     id="by-type"),
    ],
)
def test_items_by(column: str, expected: list[tuple[str, int, float]]) -> None:
    frame = items_by(BACKLOG, column)
    assert list(frame.columns) == [column, "items", "points"]
    assert [tuple(r) for r in frame.itertuples(index=False)] == expected
