"""Usage KPIs against their targets: latest value, week over week, the 7-day mean."""

from __future__ import annotations

import pytest
from kpis_frames import points_frame, t

from config.schema import UsageObjective
from kpis.health import Status
from kpis.usage import ROLLING_COLUMNS, rolling_mean, usage_kpi, usage_objectives

# 03-01 .. 03-14 at midnight, value 100 + day: 101 .. 114
DAILY = points_frame([(f"2024-03-{d:02d} 00:00", 100.0 + d) for d in range(1, 15)])
AS_OF = t("2024-03-14 00:00")  # this week (03-07, 03-14] = 108..114, previous 101..107


def _objective(threshold: float, warning: float | None) -> UsageObjective:
    return UsageObjective(name="DAU", kind="usage", kpi="dau", op=">=", threshold=threshold,
                          warning=warning)


@pytest.mark.parametrize(
    ("points", "as_of", "objective", "want"),
    [
        # the objective judges the 7-day mean (its default): this week (108..114) = 111,
        # >= 100 with amber below 110: green. Previous week (101..107) = 104: week over
        # week (111 - 104) / 104 = 0.0673...; the latest value is 114
        pytest.param(DAILY, AS_OF, _objective(100, 110),
                     (114.0, Status.GREEN, (111 - 104) / 104, 111.0), id="green-with-wow"),
        # same data, amber below 120: the mean 111 is amber
        pytest.param(DAILY, AS_OF, _objective(100, 120),
                     (114.0, Status.AMBER, (111 - 104) / 104, 111.0), id="amber"),
        # no objective: value and trend, status unknown
        pytest.param(DAILY, AS_OF, None, (114.0, Status.UNKNOWN, (111 - 104) / 104, 111.0),
                     id="no-objective"),
        # only 03-10 .. 03-14 (110..114): no previous week -> no wow; mean 112 < 115: red
        pytest.param(DAILY.iloc[9:], AS_OF, _objective(115, None),
                     (114.0, Status.RED, None, 112.0), id="no-previous-week-red"),
        # replay at 03-10 12:00: latest 110 (03-10); week (03-03 12:00, 03-10 12:00] is
        # 104..110, mean 107; previous (02-25 12:00, 03-03 12:00] is 101..103, mean 102:
        # (107 - 102) / 102. Judged on the mean 107: at or above 100, below 110: amber
        # (the latest value alone, 110, would have been green)
        pytest.param(DAILY, t("2024-03-10 12:00"), _objective(100, 110),
                     (110.0, Status.AMBER, (107 - 102) / 102, 107.0), id="replay"),
        pytest.param(DAILY.iloc[:0], AS_OF, _objective(100, 110),
                     (None, Status.UNKNOWN, None, None), id="no-points"),
    ],
)
def test_usage_kpi(points, as_of, objective, want) -> None:  # type: ignore[no-untyped-def]
    got = usage_kpi("dau", points, as_of=as_of, objective=objective)
    latest, status, wow, mean = want
    assert got.latest == latest
    assert got.status is status
    assert got.week_over_week == (None if wow is None else pytest.approx(wow))
    assert got.mean_7d == (None if mean is None else pytest.approx(mean))
    assert got.target == (None if objective is None else objective.threshold)
    if objective is not None:  # the judged value is the 7-day mean the status is read on
        assert got.judged == (None if mean is None else pytest.approx(mean))
        assert got.judged_as == "7-day mean"


@pytest.mark.parametrize(
    ("points", "as_of", "expected"),
    [
        # 03-03: (02-25, 03-03] holds 101, 102, 103 -> 102; 03-14: 108..114 -> 111
        pytest.param(DAILY, AS_OF, {"2024-03-03": 102.0, "2024-03-14": 111.0}, id="daily"),
        # a gap: 10 on 03-01, 20 on 03-05, 30 on 03-09. At 03-09 the window (03-02, 03-09]
        # holds 20 and 30 -> 25 (time-based: 03-01 is out even though it is the point before)
        pytest.param(points_frame([("2024-03-01", 10.0), ("2024-03-05", 20.0),
                                   ("2024-03-09", 30.0)]), t("2024-03-09"),
                     {"2024-03-01": 10.0, "2024-03-05": 15.0, "2024-03-09": 25.0}, id="gap"),
    ],
)
def test_rolling_mean(points, as_of, expected: dict[str, float]) -> None:  # type: ignore[no-untyped-def]
    got = rolling_mean(points, as_of=as_of)
    assert list(got.columns) == ROLLING_COLUMNS
    by_day = dict(zip(got["ts"], got["rolling_mean"], strict=True))
    for day, mean in expected.items():
        assert by_day[t(day)] == pytest.approx(mean)


def test_rolling_mean_stops_at_as_of() -> None:
    assert len(rolling_mean(DAILY, as_of=t("2024-03-05 00:00"))) == 5


def test_usage_objectives_first_per_kpi() -> None:
    first, second = _objective(100, None), _objective(200, None)
    assert usage_objectives([first, second]) == {"dau": first}
