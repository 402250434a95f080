"""The Sprint, Overview and KPI page services read a closed sprint's stored figures instead
of rebuilding it, show the same numbers, and rebuild it again once its history changes
(SQLite and PostgreSQL).

The store is `sprint_world.event_sprint`: Sprint 31 closed on 13 Mar 17:00 (commitment 14,
completed 6, 3 items / 11 points carried: worked out in test_sprint_service.py), Sprint 32
active. The proof that a sprint is not rebuilt: `kpis.velocity._one_sprint` (one sprint's
velocity from item history) and `kpis.carry_over._carried` (one sprint's carry-over) are
counted per sprint.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from sprint_world import event_sprint

import kpis.carry_over
import kpis.velocity
from config.schema import ProductConfig
from config.stakeholders import StakeholderPage
from dashboard.services.kpi_page import build_kpi_page
from dashboard.services.overview import build_overview
from dashboard.services.sprint import build_sprint
from dspo.sprint_figures import refresh_sprint_figures
from store import records as r
from store.db import Store
from store.writer import write_records

AS_OF = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # Sprint 31 closed, Sprint 32 running
EV = ProductConfig(key="ev", name="Events")
PAGE = StakeholderPage(slug="ev-board", title="Events", products=["ev"], show_backlog=True)


@pytest.fixture
def seeded(store: Store) -> Store:
    with store.session() as session:
        write_records(session, "tracker", event_sprint())
    return store


@pytest.fixture
def rebuilt(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Sprints rebuilt from item history, by id: velocity as 'v<id>', carry-over 'c<id>'."""
    counts: Counter[str] = Counter()
    one_sprint, carried = kpis.velocity._one_sprint, kpis.carry_over._carried

    def counted_velocity(sprint: pd.Series, *args: Any) -> dict[str, object]:
        counts[f"v{sprint['external_id']}"] += 1
        return one_sprint(sprint, *args)

    def counted_carry(scope: Any, at: pd.Timestamp) -> pd.DataFrame:
        counts[f"c{scope.id}"] += 1
        return carried(scope, at)

    monkeypatch.setattr(kpis.velocity, "_one_sprint", counted_velocity)
    monkeypatch.setattr(kpis.carry_over, "_carried", counted_carry)
    return counts


def _pages(store: Store) -> tuple[Any, ...]:
    sprint = build_sprint(store, EV, "31", as_of=AS_OF)
    overview = build_overview(store, EV, [], as_of=AS_OF)
    delivery = build_kpi_page(store, PAGE, [EV], as_of=AS_OF).sections[0].delivery
    assert delivery is not None
    return sprint.velocity, sprint.carry_over, overview.velocity, delivery.velocity


def test_pages_read_closed_sprints_from_their_stored_figures(seeded: Store,
                                                             rebuilt: Counter[str]) -> None:
    live = _pages(seeded)
    # without stored figures every page rebuilds Sprint 31: the velocity on three pages,
    # the carry-over table and the chosen sprint's carried items on the Sprint page
    assert (rebuilt["v31"], rebuilt["c31"]) == (3, 2)
    assert refresh_sprint_figures(seeded, "ev", now=AS_OF) == 1
    assert refresh_sprint_figures(seeded, "ev", now=AS_OF) is None  # nothing changed
    rebuilt.clear()
    stored = _pages(seeded)
    # now no page rebuilds 31's velocity or carry-over table; only the Sprint page's list
    # of the chosen sprint's items (one sprint, shown item by item) is still rebuilt
    assert (rebuilt["v31"], rebuilt["c31"]) == (0, 1)
    assert rebuilt["v32"] == 3  # the active sprint is always rebuilt
    for mine, theirs in zip(stored, live, strict=True):
        pd.testing.assert_frame_equal(mine, theirs)
    velocity = stored[0].set_index("external_id")
    # 31: 14 committed (EV-1 3 + EV-2 5 + EV-4 1 + EV-5 2 + EV-6 3), 6 done (EV-1 3 +
    # EV-6 3); carried 3 items, 11 points: 8 into Sprint 32, 1 to the backlog, 2 stayed
    assert (velocity.loc["31", "commitment"], velocity.loc["31", "completed"]) == (14.0, 6.0)
    carry = stored[1].set_index("sprint").loc["31"]
    assert (carry["items"], carry["points"], carry["into_sprints"], carry["to_backlog"],
            carry["stayed"]) == (3, 11.0, 8.0, 1.0, 2.0)


def test_a_history_change_is_rebuilt_until_stored_again(seeded: Store,
                                                        rebuilt: Counter[str]) -> None:
    refresh_sprint_figures(seeded, "ev", now=AS_OF)
    rebuilt.clear()
    # EV-6 (3 pts, done 11 Mar) turns out to have been re-estimated to 5 on 10 Mar: the
    # stored row no longer holds; the page rebuilds 31 and shows completed 3 + 5 = 8
    with seeded.session() as session:
        write_records(session, "tracker", [r.ItemEvent(
            "ev", "EV-6", datetime(2026, 3, 10, 9, tzinfo=UTC), r.ItemField.POINTS, "3", "5")])
    view = build_sprint(seeded, EV, "31", as_of=AS_OF)
    assert rebuilt["v31"] == 1
    assert view.velocity.set_index("external_id").loc["31", "completed"] == 8.0
    assert refresh_sprint_figures(seeded, "ev", now=AS_OF) == 1  # the next collection
    rebuilt.clear()
    view = build_sprint(seeded, EV, "31", as_of=AS_OF)
    assert rebuilt["v31"] == 0
    assert view.velocity.set_index("external_id").loc["31", "completed"] == 8.0
