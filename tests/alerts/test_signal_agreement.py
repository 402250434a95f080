"""An objective and alert rules over the same signal agree at every instant.

A store holds three weeks of daily active users with a weekly season (weekdays 1,100,
weekends 650) and a slump in the third week. At every midnight and noon of the scripted
timeline, the overview's path (`store.signals` + `kpis.health.evaluate_objective`) and the
alert path (`alerts.inputs.fetch` + `alerts.rules.evaluate`) are run: the objective is red
exactly when a rule on its condition (`kind: objective`) holds, and exactly when a plain
usage rule with the same threshold holds. A few instants are checked against hand-computed
means too, so agreeing on a wrong number would not pass.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.inputs import fetch
from alerts.rules import evaluate
from config.schema import DspoConfig
from kpis.health import Status, evaluate_objective
from store import records as r
from store.db import Store
from store.signals import signal_frame
from store.writer import write_records

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)


def dau_on(day: int) -> float:
    """Weekdays 1,100, weekends 650; from day 14 (the third Monday) weekdays drop to 700."""
    weekend = (MONDAY + day * DAY).weekday() >= 5
    if weekend:
        return 650.0
    return 700.0 if day >= 14 else 1100.0


def config() -> DspoConfig:
    return DspoConfig.model_validate({
        "products": [{"key": "churn", "name": "Churn", "objectives": [
            {"name": "Daily active users", "kind": "usage", "kpi": "dau", "op": ">=",
             "threshold": 900, "warning": 1000},
        ]}],
        "alerts": [
            {"name": "dau-objective", "product": "churn", "backlog": {"title": "t"},
             "condition": {"kind": "objective", "objective": "Daily active users"}},
            {"name": "dau-objective-amber", "product": "churn", "backlog": {"title": "t"},
             "condition": {"kind": "objective", "objective": "Daily active users",
                           "when": "not_healthy"}},
            {"name": "dau-signal", "product": "churn", "backlog": {"title": "t"},
             "condition": {"kind": "usage", "kpi": "dau", "op": "<", "threshold": 900}},
        ],
    })


@pytest.fixture
def seeded(store: Store) -> Store:
    points = [r.Point("churn", r.SeriesKind.USAGE, "dau", MONDAY + d * DAY, dau_on(d))
              for d in range(21)]
    with store.session() as s:
        write_records(s, "usage", points)
    return store


def test_objective_and_rules_agree_at_every_instant(seeded: Store) -> None:
    cfg = config()
    objective = cfg.products[0].objectives[0]
    rules = {rule.name: rule for rule in cfg.alerts}
    for half_days in range(2, 44):  # Monday noon of week 1 to the end of week 3
        now = MONDAY + half_days * DAY / 2
        judged = evaluate_objective(
            objective, signal_frame(seeded, "churn", objective, as_of=now), as_of=now)
        holds = {name: evaluate(rule, fetch(seeded, rule, now), now=now)[0]
                 for name, rule in rules.items()}
        assert holds["dau-objective"].value == judged.value
        assert holds["dau-objective"].holds is (judged.status is Status.RED), now
        assert holds["dau-signal"].holds is (judged.status is Status.RED), now
        assert holds["dau-objective-amber"].holds is (
            judged.status in (Status.RED, Status.AMBER)), now


@pytest.mark.parametrize(
    ("day", "mean", "status"),
    [
        # Sunday of week 1 (day 6): the days 0..6 are five weekdays and a weekend:
        # (5 x 1100 + 2 x 650) / 7 = 6800 / 7 = 971.4: at or above 900, below 1000: amber.
        # The latest value alone, Sunday's 650, would have read red.
        (6, 6800 / 7, Status.AMBER),
        # Friday of week 2 (day 11): days 5..11 are Sat, Sun, then Mon-Fri:
        # (2 x 650 + 5 x 1100) / 7 = 971.4 again: amber
        (11, 6800 / 7, Status.AMBER),
        # Wednesday of week 3 (day 16): days 10..16 are Thu, Fri (1100), Sat, Sun (650),
        # Mon, Tue, Wed (700): (2 x 1100 + 2 x 650 + 3 x 700) / 7 = 5600 / 7 = 800: red
        (16, 800.0, Status.RED),
    ],
    ids=["week1-sunday", "week2-friday", "week3-wednesday"],
)
def test_hand_computed_seven_day_means(seeded: Store, day: int, mean: float,
                                       status: Status) -> None:
    objective = config().products[0].objectives[0]
    now = MONDAY + day * DAY
    judged = evaluate_objective(objective, signal_frame(seeded, "churn", objective, as_of=now),
                                as_of=now)
    assert judged.value == pytest.approx(mean)
    assert judged.status is status
