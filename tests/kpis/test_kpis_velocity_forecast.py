"""The next sprint's forecast range and the rolling average of velocity."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from kpis_frames import t

from kpis.velocity import rolling_velocity, velocity_forecast


def velocity(completed: list[tuple[str, float]]) -> pd.DataFrame:
    """A velocity frame: one sprint per (state, completed), two weeks apart from 01-01."""
    return pd.DataFrame({
        "external_id": [str(i + 1) for i in range(len(completed))],
        "name": [f"Sprint {i + 1}" for i in range(len(completed))],
        "state": [state for state, _ in completed],
        "start": [t("2024-01-01 09:00") + pd.Timedelta(weeks=2 * i)
                  for i in range(len(completed))],
        "commitment": 10.0,
        "completed": [value for _, value in completed],
    })  # fmt: skip


# closed 12, 9, 6, 8 then an active sprint with 3 "so far" (always left out)
HISTORY = velocity([("closed", 12), ("closed", 9), ("closed", 6), ("closed", 8), ("active", 3)])


@pytest.mark.parametrize(
    ("frame", "last_n", "expected"),
    [
        # sorted 6 8 9 12, position = p * 3: p10 0.3 -> 6 + 0.3*2 = 6.6;
        # p50 1.5 -> 8.5; p90 2.7 -> 9 + 0.7*3 = 11.1
        pytest.param(HISTORY, 6, (6.6, 8.5, 11.1), id="fewer-closed-than-n"),
        # last 2 closed: 6 8 -> 6.2, 7, 7.8
        pytest.param(HISTORY, 2, (6.2, 7.0, 7.8), id="last-2"),
        # one closed sprint: 12 every time
        pytest.param(velocity([("closed", 12)]), 6, (12.0, 12.0, 12.0), id="one-sprint"),
        # no estimates anywhere: 0 0 -> a zero range, no error
        pytest.param(velocity([("closed", 0), ("closed", 0)]), 6, (0.0, 0.0, 0.0),
                     id="no-estimates"),
    ],
)
def test_velocity_forecast(frame: pd.DataFrame, last_n: int,
                           expected: tuple[float, float, float]) -> None:
    assert velocity_forecast(frame, last_n=last_n) == pytest.approx(expected)


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(velocity([("active", 5)]), id="only-active"),
        pytest.param(velocity([]), id="no-sprints"),
    ],
)
def test_no_forecast_without_a_closed_sprint(frame: pd.DataFrame) -> None:
    assert velocity_forecast(frame) is None


def test_forecast_rejects_non_positive_n() -> None:
    with pytest.raises(ValueError, match="last_n"):
        velocity_forecast(HISTORY, last_n=0)


def test_rolling_average_of_the_last_three_closed() -> None:
    # 12 -> 12; (12+9)/2 = 10.5; (12+9+6)/3 = 9; (9+6+8)/3 = 23/3; active -> NaN
    frame = rolling_velocity(HISTORY)
    values = frame["rolling_average"].tolist()
    assert values[:4] == pytest.approx([12.0, 10.5, 9.0, 23 / 3])
    assert math.isnan(values[4])
    assert list(frame["completed"]) == list(HISTORY["completed"])  # the input is kept


def test_rolling_average_skips_an_active_sprint_in_between() -> None:
    # closed 4, active 100 (a replay), closed 6 -> 4, NaN, (4+6)/2 = 5
    frame = rolling_velocity(velocity([("closed", 4), ("active", 100), ("closed", 6)]))
    values = frame["rolling_average"].tolist()
    assert values[0] == 4.0 and math.isnan(values[1]) and values[2] == 5.0
