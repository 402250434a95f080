"""The Pipelines page's service on the small world (tests/world/small.py), SQLite and
PostgreSQL: every figure is worked out by hand from the world's story."""

from __future__ import annotations

from datetime import timedelta

import pytest
from world import small

from dashboard.services.pipelines import PipelinesView, build_pipelines
from kpis.health import Status
from store.db import Store

PRODUCT = small.product_config()


@pytest.fixture
def view(store: Store) -> PipelinesView:
    small.seed(store)
    # the page's range start=2026-02-16, end=2026-03-15: 28 days
    return build_pipelines(store, PRODUCT, start=small.at("2026-02-16T00:00"),
                           as_of=small.AS_OF, days=28)


def test_success_rate_in_the_objective_window(view: PipelinesView) -> None:
    assert view.pipelines == ["shop-scoring", "shop-training"]
    scoring, training = view.rates
    # the objective's 7d: runs ending in (8 Mar 23:59:59.999999, 15 Mar 23:59:59.999999]
    # are the 02:30 ends of 9..15 Mar (8 Mar's is out): 7 runs, 11 and 14 Mar failed
    assert (scoring.window, scoring.finished, scoring.succeeded) == (timedelta(days=7), 7, 5)
    assert scoring.success_rate == pytest.approx(5 / 7)
    assert scoring.status is Status.RED  # 0.714 < 0.95
    # no objective on shop-training: 7 days by default, its 9 Mar run (1 of 1); no verdict
    assert (training.window, training.finished, training.success_rate) == (
        timedelta(days=7), 1, 1.0)
    assert training.status is Status.UNKNOWN
    # the daily line at 13, 14, 15 Mar 23:59:59: 13 Mar's window holds 8..13 Mar, 6 runs
    # with 11 Mar failed (5/6); 14 Mar's 8..14 (7 runs, 2 failed); 15 Mar's 9..15 (5/7)
    assert list(view.daily["shop-scoring"]["value"].iloc[-3:]) == pytest.approx(
        [5 / 6, 5 / 7, 5 / 7])


def test_freshness(view: PipelinesView) -> None:
    fresh = view.freshness.set_index("pipeline")
    # scoring starts daily: expected within 2 x the 1-day median = 2 days; last success
    # 15 Mar 02:30, 21 h 30 min (less a microsecond) before as_of: fresh
    scoring = fresh.loc["shop-scoring"]
    assert scoring["last_success"] == small.at("2026-03-15T02:30")
    assert scoring["expected_s"] == 2 * 86400
    assert scoring["age_s"] == pytest.approx(21.5 * 3600)
    assert scoring["status"] is Status.GREEN
    # training has a freshness objective (<= 168 h, warning 120 h), which judges it as
    # the overview does: last success 9 Mar 04:00, 164 h ago: at risk (its runs' 7-day
    # median interval alone would allow 14 days)
    training = fresh.loc["shop-training"]
    assert (training["last_success"], training["expected_s"]) == (
        small.at("2026-03-09T04:00"), 168 * 3600)
    assert training["expected_from"] == "objective"
    assert training["status"] is Status.AMBER


def test_recent_runs_name_their_failed_tasks(view: PipelinesView) -> None:
    recent = view.recent
    # every run started in the range, newest first: 8 scoring + 2 training
    assert len(recent) == 10
    assert list(recent["start"].iloc[:2]) == [small.at("2026-03-15T02:00"),
                                              small.at("2026-03-14T02:00")]
    failed = {row.start.day: row.failed_tasks for row in recent.itertuples()
              if row.state == "failed"}
    # 14 Mar: score failed (publish was only upstream_failed); 11 Mar: extract
    assert failed == {14: ["score"], 11: ["extract"]}
    assert recent["duration_s"].iloc[0] == 1800  # 02:00 -> 02:30, end - start
    assert list(view.failed_runs["run_id"]) == [small.scoring_run_id(14),
                                                small.scoring_run_id(11)]
    assert len(view.failed_run_tasks) == 6  # 3 tasks each
    # successful runs ended in the range: 6 scoring + 2 training
    assert len(view.durations) == 8
