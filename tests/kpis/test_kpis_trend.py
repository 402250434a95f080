"""Trailing windows for sparklines and week-over-week change."""

from __future__ import annotations

import pytest
from kpis_frames import points_frame, t

from kpis.trend import TREND_COLUMNS, trend, week_over_week

# One point a day at midnight, value = day of month, 03-01 .. 03-10, given newest first.
DAILY = points_frame([(f"2024-03-{day:02d} 00:00", float(day)) for day in range(10, 0, -1)])


@pytest.mark.parametrize(
    ("as_of", "days", "expected_values"),
    [
        # (03-05 00:00, 03-08 00:00]: 03-06, 03-07, 03-08; 03-05 is exactly `days` back: out
        pytest.param("2024-03-08 00:00", 3, [6.0, 7.0, 8.0], id="three-days-edges"),
        # (03-07 12:00, 03-08 12:00]: only 03-08
        pytest.param("2024-03-08 12:00", 1, [8.0], id="one-day"),
        # window entirely before the data
        pytest.param("2024-02-20 00:00", 5, [], id="before-data"),
        # 30 days back from 03-20: all ten points, oldest first
        pytest.param("2024-03-20 00:00", 30, [float(d) for d in range(1, 11)], id="all"),
    ],
)
def test_trend(as_of: str, days: int, expected_values: list[float]) -> None:
    frame = trend(DAILY, as_of=t(as_of), days=days)
    assert list(frame.columns) == TREND_COLUMNS
    assert list(frame["value"]) == expected_values
    assert frame["ts"].is_monotonic_increasing


def test_trend_rejects_non_positive_days() -> None:
    with pytest.raises(ValueError, match="days"):
        trend(DAILY, as_of=t("2024-03-08"), days=0)


AS_OF = "2024-03-15 00:00"  # this week (03-08, 03-15], previous week (03-01, 03-08]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # this week: 12, 12, 15 -> mean 13; previous: 10 (03-03), 10 (03-08 00:00, exactly
        # 7 days back, so previous week) -> mean 10; the 1000 on 03-01 00:00 is 14 days
        # back, outside both. (13 - 10) / 10 = +0.3
        pytest.param(
            [
                ("2024-03-01 00:00", 1000.0),
                ("2024-03-03 00:00", 10.0),
                ("2024-03-08 00:00", 10.0),
                ("2024-03-09 00:00", 12.0),
                ("2024-03-12 00:00", 12.0),
                ("2024-03-15 00:00", 15.0),
            ],
            0.3,
            id="rise-with-window-edges",
        ),
        # this week 8, previous 10: (8 - 10) / 10 = -0.2
        pytest.param([("2024-03-05", 10.0), ("2024-03-10", 8.0)], -0.2, id="fall"),
        # negative series rising: previous -10, this -5: (-5 - -10) / |-10| = +0.5
        pytest.param([("2024-03-05", -10.0), ("2024-03-10", -5.0)], 0.5, id="negative-rising"),
        # a NaN value is ignored: this week mean of 6 only; previous 4 -> (6 - 4) / 4 = 0.5
        pytest.param(
            [("2024-03-05", 4.0), ("2024-03-10", 6.0), ("2024-03-11", None)], 0.5, id="nan-skipped"
        ),
        pytest.param([("2024-03-10", 8.0)], None, id="no-previous-week"),
        pytest.param([("2024-03-05", 8.0)], None, id="no-this-week"),
        pytest.param([("2024-03-05", 0.0), ("2024-03-10", 8.0)], None, id="previous-mean-zero"),
        pytest.param([], None, id="no-points"),
    ],
)
def test_week_over_week(rows: list, expected: float | None) -> None:
    got = week_over_week(points_frame(rows), as_of=t(AS_OF))
    assert got == (None if expected is None else pytest.approx(expected))
