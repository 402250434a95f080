"""Stored closed-sprint figures (SQLite and PostgreSQL): they come back as stored while the
product's backlog stamp holds, and any change to what they are built from hides them.

The store is `sprint_world.event_sprint` (product `ev`): Sprint 31 closed on Fri 13 Mar
17:00, Sprint 32 active. Its figures are worked out by hand in test_sprint_service.py;
here they are repeated with their arithmetic.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from sprint_world import event_sprint

from kpis.sprint_figures import STORED_COLUMNS, closed_sprint_figures
from store import queries
from store import records as r
from store.alert_items import create_alert_item
from store.collector_runs import finish_collector_run, start_collector_run
from store.db import Store
from store.sprint_figures import (
    FIGURE_COLUMNS,
    backlog_stamp,
    replace_sprint_figures,
    stored_sprint_figures,
    valid_sprint_figures,
)
from store.writer import write_records

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
CLOSE = pd.Timestamp("2026-03-13 17:00", tz="UTC")


def _write(store: Store, records: list[r.Record], source: str = "tracker") -> None:
    with store.session() as session:
        write_records(session, source, records)


def _store_figures(store: Store) -> str:
    stamp = backlog_stamp(store, "ev")
    figures = closed_sprint_figures(queries.sprints(store, "ev"),
                                    queries.backlog_items(store, "ev"),
                                    queries.item_events(store, "ev"))
    assert replace_sprint_figures(store, "ev", figures, stamp, NOW) == 1
    return stamp


@pytest.fixture
def seeded(store: Store) -> Store:
    _write(store, event_sprint())
    return store


def test_figures_come_back_as_stored(seeded: Store) -> None:
    _store_figures(seeded)
    got = valid_sprint_figures(seeded, "ev")
    assert FIGURE_COLUMNS == STORED_COLUMNS
    # Sprint 31: commitment EV-1 3 + EV-2 5 + EV-4 1 + EV-5 2 + EV-6 3 = 14; completed
    # EV-1 3 + EV-6 3 = 6; EV-3 added and removed mid-sprint (1, 1); carried at the close
    # EV-2 8 (into Sprint 32) + EV-4 1 (backlog) + EV-5 2 (stayed) = 3 items, 11 points;
    # every move out happened at the close, so the figures are settled from it.
    assert got.to_dict("records") == [{
        "external_id": "31", "start": pd.Timestamp("2026-03-02 09:00", tz="UTC"),
        "closed_at": CLOSE, "settled_at": CLOSE, "commitment": 14.0, "completed": 6.0,
        "added_mid_sprint": 1, "removed_mid_sprint": 1, "carry_items": 3,
        "carry_points": 11.0, "into_sprints": 8.0, "to_backlog": 1.0, "stayed": 2.0,
    }]


def test_events_of_the_items_ever_in_some_sprints(seeded: Store) -> None:
    # what a page reads to rebuild only some sprints: Sprint 32 has had EV-2 alone (moved
    # in at 31's close): its re-estimate, its two status events and the move = 4 events;
    # Sprint 31 had every item (EV-3 moved in and out): all EV-1 6 + EV-2 4 + EV-3 2 +
    # EV-4 1 + EV-6 2 = 15 events; no sprint: nothing
    assert len(queries.item_events(seeded, "ev")) == 15
    mine = queries.item_events(seeded, "ev", sprints={"32"})
    assert set(mine["item_key"]) == {"EV-2"} and len(mine) == 4
    assert len(queries.item_events(seeded, "ev", sprints={"31"})) == 15
    assert queries.item_events(seeded, "ev", sprints=set()).empty


def _new_event(store: Store) -> None:
    _write(store, [r.ItemEvent("ev", "EV-5", datetime(2026, 3, 12, 9, tzinfo=UTC),
                               r.ItemField.POINTS, "2", "3")])


def _changed_item(store: Store) -> None:
    items = [x for x in event_sprint() if isinstance(x, r.BacklogItem) and x.key == "EV-6"]
    _write(store, [r.BacklogItem("ev", "EV-6", "Story EV-6", "Story", "Done",
                                 r.StatusCategory.DONE, items[0].created, points=5,
                                 sprint="31")])


def _deleted_item(store: Store) -> None:
    _write(store, [r.Deleted("ev", r.Entity.BACKLOG_ITEM, "EV-3")])


def _new_sprint(store: Store) -> None:
    _write(store, [r.Sprint("ev", "33", "Sprint 33", "future", None, None)])


def _run_that_wrote(store: Store) -> None:
    """A tracker run that wrote rows without moving a count (an event corrected in place)."""
    with store.session() as session:
        run = start_collector_run(session, "tracker", "jira", NOW)
        finish_collector_run(session, run, status="ok", rows_written=1, records_read=1,
                             error=None, watermark=NOW, finished=NOW)


def test_each_change_of_history_hides_the_stored_figures(seeded: Store) -> None:
    # one store for every change (a migrated store per case would cost seconds each)
    for change in (_new_event, _changed_item, _deleted_item, _new_sprint, _run_that_wrote):
        stamp = _store_figures(seeded)
        assert len(valid_sprint_figures(seeded, "ev")) == 1
        change(seeded)
        assert backlog_stamp(seeded, "ev") != stamp, change.__name__
        assert valid_sprint_figures(seeded, "ev").empty, change.__name__
        stamps, rows = stored_sprint_figures(seeded, "ev")
        assert stamps == {stamp} and list(rows["external_id"]) == ["31"]  # kept, not shown


def test_what_cannot_touch_a_sprint_keeps_them(seeded: Store) -> None:
    stamp = _store_figures(seeded)
    with seeded.session() as session:  # an alert files an item: never in a sprint
        create_alert_item(session, product="ev", title="drift", type="Bug", points=None,
                          labels=[], description="", url=None, now=NOW)
    with seeded.session() as session:  # another source's run, of no item nor sprint here
        run = start_collector_run(session, "mlflow", "mlflow", NOW)
        finish_collector_run(session, run, status="ok", rows_written=5, records_read=5,
                             error=None, watermark=NOW, finished=NOW)
    _write(seeded, [r.BacklogItem("other", "O-1", "Elsewhere", "Story", "To Do",
                                  r.StatusCategory.TODO, NOW)], source="other-tracker")
    assert backlog_stamp(seeded, "ev") == stamp
    assert list(valid_sprint_figures(seeded, "ev")["external_id"]) == ["31"]
    # storing no figures (no sprint closed any more) drops the product's rows
    assert replace_sprint_figures(seeded, "ev", pd.DataFrame(columns=FIGURE_COLUMNS), stamp,
                                  NOW) == 0
    stamps, rows = stored_sprint_figures(seeded, "ev")
    assert stamps == set() and rows.empty
