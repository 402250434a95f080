"""The sprint page's service on a store holding `sprint_world.event_sprint` (SQLite and
PostgreSQL): every figure below is worked out by hand from that sprint's story."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sprint_world import event_sprint

from config.schema import ProductConfig
from dashboard.services.sprint import SprintView, build_sprint
from store.db import Store
from store.writer import write_records

AS_OF = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # Sprint 31 closed, Sprint 32 running


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def seeded(store: Store) -> Store:
    with store.session() as session:
        write_records(session, "tracker", event_sprint())
    return store


def _view(store: Store, sprint: str | None) -> SprintView:
    return build_sprint(store, ProductConfig(key="ev", name="Events"), sprint, as_of=AS_OF)


def test_closed_sprint_events_tiles_and_carry_over(seeded: Store) -> None:
    view = _view(seeded, "31")
    assert view.selected is not None
    # commitment: EV-1 3 + EV-2 5 + EV-4 1 + EV-5 2 + EV-6 3 = 14 at the start;
    # completed: EV-1 3 + EV-6 3 = 6; remaining at the close: EV-2 8 + EV-4 1 + EV-5 2 = 11
    assert (view.selected["commitment"], view.selected["completed"]) == (14.0, 6.0)
    assert (view.remaining, view.scope_now) == (11.0, 17.0)  # scope 14 + 3 (EV-2 5 -> 8)
    assert view.scope_at_start == 14.0  # the scope the burndown starts from: the commitment
    events = [(r.ts, r.item_key, r.event, r.change, r.remaining)
              for r in view.burndown.itertuples(index=False)]
    assert events == [
        (_ts("2026-03-02T09:00"), None, "start", 14.0, 14.0),
        (_ts("2026-03-03T10:00"), "EV-1", "done", -3.0, 11.0),
        (_ts("2026-03-03T16:00"), "EV-1", "reopened", 3.0, 14.0),
        (_ts("2026-03-04T09:00"), "EV-2", "re-estimated", 3.0, 17.0),
        (_ts("2026-03-05T11:00"), "EV-1", "done", -3.0, 14.0),
        (_ts("2026-03-09T10:00"), "EV-3", "added", 2.0, 16.0),
        (_ts("2026-03-09T15:00"), "EV-3", "removed", -2.0, 14.0),
        (_ts("2026-03-11T14:00"), "EV-6", "done", -3.0, 11.0),
        (_ts("2026-03-13T17:00"), None, "end", 0.0, 11.0),
    ]
    assert list(view.scope_changes["change"]) == ["reopened", "re-estimated", "added",
                                                  "removed"]
    assert view.scope_change_count == 4  # the four rows above: the tile's "4 changes"
    # carry-over = remaining at the close, each item with where it went
    went = [(r.item_key, r.points, r.destination, r.to_sprint_name)
            for r in view.carried.itertuples(index=False)]
    assert went == [("EV-2", 8.0, "sprint", "Sprint 32"), ("EV-4", 1.0, "backlog", None),
                    ("EV-5", 2.0, "stayed", None)]
    # the sentence above the table: 3 items, EV-2 8 + EV-4 1 + EV-5 2 = 11 pts undone
    assert (view.carried_count, view.carried_points) == (3, 11.0)
    summary = view.carry_over.set_index("sprint").loc["31"]
    assert (summary["items"], summary["points"], summary["into_sprints"],
            summary["to_backlog"], summary["stayed"], summary["sprint_name"]) == (
        3, 11.0, 8.0, 1.0, 2.0, "Sprint 31")


def test_active_sprint_has_no_carry_over_yet(seeded: Store) -> None:
    # Sprint 32 (started 16 Mar 09:00) holds EV-2, 8 pts, in progress since before it
    # started: 8 committed, 8 remaining "now" (20 Mar 12:00), nothing carried yet.
    view = _view(seeded, None)
    assert view.selected is not None and view.selected["external_id"] == "32"
    assert (view.selected["commitment"], view.remaining) == (8.0, 8.0)
    assert list(view.burndown["event"]) == ["start", "now"]
    assert view.carried.empty
    assert (view.carried_count, view.carried_points) == (0, 0.0)
    assert list(view.carry_over["sprint"]) == ["31"]
