"""Daily success rate: each day's value is the trailing-window rate at that instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from kpis.pipelines import daily_success_rate

AS_OF = datetime(2026, 3, 10, 12, tzinfo=UTC)


def _runs(*spec: tuple[float, str]) -> pd.DataFrame:
    """(days before AS_OF the run ended, state)"""
    ends = [AS_OF - timedelta(days=d) for d, _ in spec]
    return pd.DataFrame({
        "system": "mlflow", "pipeline": "p", "run_id": [str(i) for i in range(len(spec))],
        "state": [s for _, s in spec], "start": ends, "end": pd.to_datetime(ends, utc=True),
        "trigger": None, "url": None,
    })


def test_each_day_is_the_trailing_rate() -> None:
    # Runs ended 0.5 d (success), 1.5 d (failed), 2.5 d (success) before AS_OF; window 2 days.
    # at AS_OF:      window (AS_OF-2d, AS_OF]    holds 0.5 ok, 1.5 failed   -> 1/2 = 0.5
    # at AS_OF - 1d: window (AS_OF-3d, AS_OF-1d] holds 1.5 failed, 2.5 ok   -> 1/2 = 0.5
    # at AS_OF - 2d: window (AS_OF-4d, AS_OF-2d] holds 2.5 ok               -> 1/1 = 1.0
    runs = _runs((0.5, "success"), (1.5, "failed"), (2.5, "success"))
    out = daily_success_rate(runs, as_of=AS_OF, days=3, window=timedelta(days=2))
    assert out["value"].tolist() == [1.0, 0.5, 0.5]
    assert out["ts"].iloc[-1] == pd.Timestamp(AS_OF)


def test_days_without_finished_runs_are_left_out() -> None:
    # Only one run, 0.5 d ago: windows of 1 day ending 1 and 2 days ago hold nothing.
    out = daily_success_rate(_runs((0.5, "failed")), as_of=AS_OF, days=3, window=timedelta(days=1))
    assert out["value"].tolist() == [0.0]


def test_days_must_be_positive() -> None:
    with pytest.raises(ValueError, match="days"):
        daily_success_rate(_runs(), as_of=AS_OF, days=0, window=timedelta(days=7))


def test_matches_success_rate_at_every_day() -> None:
    # The vectorised series must equal kpis.health.success_rate evaluated day by day.
    import random

    from kpis.health import success_rate

    rng = random.Random(7)
    spec = [(rng.uniform(0, 20), rng.choice(["success", "success", "failed", "running",
                                             "cancelled"])) for _ in range(60)]
    runs = _runs(*spec)
    runs.loc[runs["state"] == "running", "end"] = pd.NaT
    out = daily_success_rate(runs, as_of=AS_OF, days=14, window=timedelta(days=3))
    expected = []
    for back in range(13, -1, -1):
        at = AS_OF - timedelta(days=back)
        rate = success_rate(runs, as_of=at, window_days=3)
        if rate is not None:
            expected.append((pd.Timestamp(at), rate))
    assert out["ts"].tolist() == [ts for ts, _ in expected]
    assert out["value"].tolist() == pytest.approx([rate for _, rate in expected])


def test_filters_one_pipeline() -> None:
    runs = _runs((0.5, "failed"), (0.6, "success"))
    runs.loc[0, "pipeline"] = "other"
    out = daily_success_rate(runs, as_of=AS_OF, days=1, window=timedelta(days=1), pipeline="p")
    assert out["value"].tolist() == [1.0]
