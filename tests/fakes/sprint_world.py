"""A small hand-made sprint, as a tracker source writes it, for tests that check the sprint
page and its service against figures worked out by hand (tests/e2e/test_e2e_sprint.py,
tests/dashboard/test_sprint_service.py state them next to their asserts)."""

from __future__ import annotations

from datetime import UTC, datetime

from store.records import BacklogItem, ItemEvent, ItemField, Record, Sprint, StatusCategory


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def event_sprint() -> list[Record]:
    """Product `ev`: Sprint 31, Mon 02 Mar 09:00 to its close Fri 13 Mar 17:00 (UTC), and
    Sprint 32 after it. Every item is in Sprint 31 from before the start unless said:

    EV-1 3 pts: done Tue 03 Mar 10:00, reopened 16:00 the same day, done Thu 05 Mar 11:00.
    EV-2 5 pts: re-estimated to 8 Wed 04 Mar 09:00; in progress; moved to Sprint 32 at the
      close (Jira's "move open issues to the next sprint").
    EV-3 2 pts, in the backlog: added Mon 09 Mar 10:00, removed 15:00 the same day.
    EV-4 1 pt: never started; moved to the backlog at the close.
    EV-5 2 pts: never started; left in the closed sprint.
    EV-6 3 pts: done Wed 11 Mar 14:00.
    """
    todo, doing, done = StatusCategory.TODO, StatusCategory.IN_PROGRESS, StatusCategory.DONE
    created = _at("2026-02-20T09:00")

    def item(key: str, points: float, sprint: str | None, status: str,
             category: StatusCategory) -> BacklogItem:
        return BacklogItem("ev", key, f"Story {key}", "Story", status, category, created,
                           points=points, sprint=sprint)

    def moved(key: str, when: str, old: str | None, new: str | None) -> ItemEvent:
        return ItemEvent("ev", key, _at(when), ItemField.SPRINT, old, new)

    def status(key: str, when: str, old: str, new: str, old_cat: str, new_cat: str
               ) -> list[Record]:
        return [ItemEvent("ev", key, _at(when), ItemField.STATUS, old, new),
                ItemEvent("ev", key, _at(when), ItemField.STATUS_CATEGORY, old_cat, new_cat)]

    close = "2026-03-13T17:00"
    return [
        Sprint("ev", "31", "Sprint 31", "closed", _at("2026-03-02T09:00"), _at(close),
               _at(close)),
        Sprint("ev", "32", "Sprint 32", "active", _at("2026-03-16T09:00"),
               _at("2026-03-27T17:00")),
        item("EV-1", 3, "31", "Done", done),
        item("EV-2", 8, "32", "In Progress", doing),
        item("EV-3", 2, None, "To Do", todo),
        item("EV-4", 1, None, "To Do", todo),
        item("EV-5", 2, "31", "To Do", todo),
        item("EV-6", 3, "31", "Done", done),
        *status("EV-1", "2026-03-03T10:00", "To Do", "Done", "todo", "done"),
        *status("EV-1", "2026-03-03T16:00", "Done", "In Progress", "done", "in_progress"),
        *status("EV-1", "2026-03-05T11:00", "In Progress", "Done", "in_progress", "done"),
        ItemEvent("ev", "EV-2", _at("2026-03-04T09:00"), ItemField.POINTS, "5", "8"),
        *status("EV-2", "2026-03-04T10:00", "To Do", "In Progress", "todo", "in_progress"),
        moved("EV-2", close, "31", "32"),
        moved("EV-3", "2026-03-09T10:00", None, "31"),
        moved("EV-3", "2026-03-09T15:00", "31", None),
        moved("EV-4", close, "31", None),
        *status("EV-6", "2026-03-11T14:00", "To Do", "Done", "todo", "done"),
    ]
