"""Usage KPIs against their targets: latest value, week over week, the 7-day mean."""

from __future__ import annotations

import pandas as pd
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


def test_hourly_rolling_mean_adds_up_the_hours_that_start_in_the_window() -> None:
    from kpis.usage import hourly_rolling_mean

    hours = pd.DataFrame({
        "bucket": pd.to_datetime(["2024-03-01 00:00", "2024-03-01 05:00", "2024-03-03 10:00",
                                  "2024-03-09 00:00"], utc=True),
        "n": [2, 1, 3, 0],       # an hour of NaN alone would not be rolled up; n=0 adds nothing
        "total": [10.0, 2.0, 30.0, 0.0],
    })
    at = pd.Series(pd.to_datetime(["2024-02-29 23:00", "2024-03-01 00:30", "2024-03-03 10:00",
                                   "2024-03-08 04:59", "2024-03-08 05:00", "2024-03-20 00:00"],
                                  utc=True))
    got = hourly_rolling_mean(hours, at, days=7)
    # before any hour: nothing; 00:30 holds the 00:00 hour: 10 / 2; 3 Mar 10:00: all three
    # hours (10 + 2 + 30) / (2 + 1 + 3) = 7; 8 Mar 04:59: (1 Mar 04:59, 8 Mar 04:59] drops
    # the 00:00 hour: 32 / 4 = 8; 8 Mar 05:00 drops the 05:00 hour too: 30 / 3 = 10;
    # 20 Mar: (13 Mar, 20 Mar] holds no hour: NaN
    assert got[0] != got[0]
    assert list(got[1:5]) == [5.0, 7.0, 8.0, 10.0]
    assert got[5] != got[5]
