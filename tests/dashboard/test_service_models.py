"""The Models page's service on the small world (tests/world/small.py), SQLite and
PostgreSQL: every figure is worked out by hand from the world's story."""

from __future__ import annotations

import pytest
from world import small

from dashboard.services.models import ModelView, build_models
from kpis.health import Status
from store.db import Store

PRODUCT = small.product_config()


@pytest.fixture
def rec(store: Store) -> ModelView:
    small.seed(store)
    view = build_models(store, PRODUCT, model=None, metric=None,
                        start=small.at("2026-02-16T00:00"), as_of=small.AS_OF)
    assert view.models == ["rec"] and view.model is not None
    return view.model


def test_champion_against_challenger(rec: ModelView) -> None:
    assert (rec.metrics, rec.metric) == (["auc"], "auc")  # the objective's metric
    comparison = rec.comparison
    assert comparison is not None
    champion, challenger = comparison.champion, comparison.challenger
    assert champion is not None and challenger is not None
    # champion = v2: latest 0.86 (14 Mar), mean of its last 3: (0.84 + 0.83 + 0.86) / 3
    assert (champion.version, champion.latest) == ("2", 0.86)
    assert champion.mean_last == pytest.approx(2.53 / 3)
    # challenger = v3: latest 0.88, mean of (0.85, 0.86, 0.88) = 2.59 / 3
    assert (challenger.version, challenger.latest) == ("3", 0.88)
    assert challenger.mean_last == pytest.approx(2.59 / 3)
    # 0.86333 - 0.84333 = +0.020; auc's objective is >=, so higher is better
    assert comparison.delta == pytest.approx(0.02)
    assert comparison.better == "challenger"


def test_registry_timeline(rec: ModelView) -> None:
    got = [(i.alias, i.version, i.start, i.end, i.current)
           for i in rec.intervals.itertuples(index=False)]
    assert got == [
        ("challenger", "3", small.at("2026-03-10T12:00"), small.AS_OF, True),
        ("champion", "1", small.at("2026-02-18T09:00"), small.at("2026-03-04T09:00"), False),
        ("champion", "2", small.at("2026-03-04T09:00"), small.at("2026-03-05T21:00"), False),
        ("champion", "1", small.at("2026-03-05T21:00"), small.at("2026-03-07T09:00"), False),
        ("champion", "2", small.at("2026-03-07T09:00"), small.AS_OF, True),
    ]
    # each version's training run start
    assert list(rec.births["trained"]) == [small.at("2026-02-16T21:00"),
                                          small.at("2026-03-02T09:00"),
                                          small.at("2026-03-09T09:00")]
    assert sorted(rec.run_urls) == ["1", "2", "3"]
    assert len(rec.history) == 8  # 1 + 4 + 3 auc values, full resolution


def test_model_objective_and_its_week(rec: ModelView) -> None:
    (row,) = rec.objectives
    assert row.version == "2"
    assert (row.trend.result.value, row.trend.result.status) == (0.86, Status.GREEN)
    # this week (8 Mar 23:59:59, 15 Mar 23:59:59]: 0.83, 0.86 -> 0.845; the week before:
    # 0.86 (3 Mar), 0.84 (8 Mar 09:00) -> 0.85; (0.845 - 0.85) / 0.85 = -0.588%
    assert row.trend.week_over_week == pytest.approx(-0.005 / 0.85)
