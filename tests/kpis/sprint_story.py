"""The story of test_kpis_carry_over.py, shared by the tests of what a closed sprint left
(carry-over) and of its stored figures: two sprints, six items, their events."""

from __future__ import annotations

from typing import Any

from kpis_frames import ev, events_frame, item, items_frame, sprint, sprints_frame, t

# Sprint "1": Mon 03-04 00:00, closed Mon 03-18 00:00. Sprint "2" starts 03-18 09:00.
SPRINTS = sprints_frame([
    sprint("1", state="closed", start="2024-03-04 00:00", end="2024-03-18 00:00",
           completed="2024-03-18 00:00"),
    sprint("2", state="active", start="2024-03-18 09:00", end="2024-03-29 17:00"),
])  # fmt: skip
AFTER_ALL = t("2024-03-20 00:00")


def status(key: str, ts: str, old: str, new: str) -> dict[str, Any]:
    return ev(key, ts, "status_category", old, new)


# All in "1" from the start unless said otherwise:
# C 2 pts, not done, moved to "2" at the close (as Jira does)          -> sprint "2"
# U 3 pts, in progress, moved to the backlog at the close               -> backlog
# V 5 pts, not done, left in the closed sprint (never moved)            -> stayed
# Y 2 pts, not done, moved to "2" the morning after, 03-18 10:00, at
#   planning (after "2" started at 09:00)                               -> sprint "2"
# W 1 pt, done 03-10: finished, not carry-over.
# X 8 pts, removed to the backlog 03-11, before the close: a scope change, not carry-over.
ITEMS = items_frame([
    item("C", points=2, sprint="2"),
    item("U", points=3, sprint=None, category="in_progress"),
    item("V", points=5, sprint="1"),
    item("Y", points=2, sprint="2"),
    item("W", points=1, sprint="1", category="done"),
    item("X", points=8, sprint=None),
])  # fmt: skip
EVENTS = events_frame([
    ev("C", "2024-03-18 00:00", "sprint", "1", "2"),
    status("U", "2024-03-06 09:00", "todo", "in_progress"),
    ev("U", "2024-03-18 00:00", "sprint", "1", None),
    ev("Y", "2024-03-18 10:00", "sprint", "1", "2"),
    status("W", "2024-03-10 09:00", "todo", "done"),
    ev("X", "2024-03-11 09:00", "sprint", "1", None),
])  # fmt: skip
