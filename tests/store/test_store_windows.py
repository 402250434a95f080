"""Windowed readings from hour rollups equal those from raw points, on SQLite and
PostgreSQL: the sparkline path (`signal_frame(..., instants=...)`) against the raw path and
against means worked out by hand, with window edges inside an hour."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from config.signals import ModelMetricSignal, UsageChangeSignal, UsageSignal
from kpis.signals import daily_instants, read_signal, readings_over_days
from store import records as r
from store.db import Store
from store.signals import signal_frame
from store.writer import write_records

T0 = datetime(2026, 3, 2, tzinfo=UTC)
M = timedelta(minutes=1)


def _dau(store: Store, values: list[tuple[timedelta, float]]) -> None:
    with store.session() as s:
        write_records(s, "src", [r.Point("p", r.SeriesKind.USAGE, "dau", T0 + at, v)
                                 for at, v in values])


def test_a_window_edge_inside_an_hour(store: Store) -> None:
    """3h mean at 03:30: the newest point is 03:15, so the window is (00:15, 03:15]:
    00:50 (2), 01:20 (4), 01:45 (0.5), 02:05 (8), 02:40 (16), 03:15 (32); 00:10 is out.
    (2 + 4 + 0.5 + 8 + 16 + 32) / 6 = 62.5 / 6 = 10.4166...; hours 01 and 02 lie wholly
    inside and come rolled up (01: n 2, sum 4.5; 02: n 2, sum 24), hours 00 and 03 hold an
    edge and come in pieces cut at it: 00:10 and 00:50 apart, 03:15 alone."""
    _dau(store, [(10 * M, 1.0), (50 * M, 2.0), (80 * M, 4.0), (105 * M, 0.5), (125 * M, 8.0),
                 (160 * M, 16.0), (195 * M, 32.0)])
    signal = UsageSignal(kind="usage", kpi="dau", window="3h")
    at = T0 + timedelta(hours=3, minutes=30)
    frame = signal_frame(store, "p", signal, as_of=at, instants=[at])
    assert frame.attrs["rolled_up"] is True
    hours = frame.loc[frame["n"] == 2, ["total", "lo", "hi"]]
    assert hours.values.tolist() == [[4.5, 0.5, 4.0], [24.0, 8.0, 16.0]]
    assert len(frame) == 5  # 00:10, 00:50, two hours, 03:15
    [reading] = read_signal(signal, frame, as_of=at)
    assert reading.value == pytest.approx(62.5 / 6)
    assert reading.detail == "10.42, mean over the 3h to 2026-03-02 03:15 UTC (6 values)"
    assert reading.observed_at == T0 + 195 * M


@pytest.mark.parametrize("how", ["mean", "sum", "count", "min", "max"])
def test_sparkline_readings_from_rollups_equal_the_raw_ones(store: Store, how: str) -> None:
    """A point every 10 minutes for 12 days (values in quarters, so every sum is exact in
    any order; on PostgreSQL a NaN every 7th point), a 2-day window read at 5 daily
    instants ending mid-hour: the same readings, words and instants as from raw points."""
    nan = store.dialect == "postgresql"
    _dau(store, [(i * 10 * M, math.nan if nan and i % 7 == 3 else (i % 8) * 0.25 + 1)
                 for i in range(12 * 24 * 6)])
    signal = UsageSignal(kind="usage", kpi="dau", window="2d", aggregation=how)
    as_of = T0 + timedelta(days=11, hours=10, minutes=40)
    history = timedelta(days=5)
    rolled = signal_frame(store, "p", signal, as_of=as_of, history=history,
                          instants=daily_instants(as_of, 5))
    raw = signal_frame(store, "p", signal, as_of=as_of, history=history)
    assert rolled.attrs["rolled_up"] and len(rolled) < len(raw) / 3
    got = [read_signal(signal, rolled, as_of=t)[0] for t in daily_instants(as_of, 5)]
    want = [read_signal(signal, raw, as_of=t)[0] for t in daily_instants(as_of, 5)]
    assert [(g.value, g.detail, g.observed_at) for g in got] == [
        (w.value, w.detail, w.observed_at) for w in want]
    assert readings_over_days(signal, rolled, as_of=as_of, days=5).equals(
        readings_over_days(signal, raw, as_of=as_of, days=5))


def test_a_model_metric_window_from_rollups(store: Store) -> None:
    """A 1-day mean of the champion's auc, a value every 40 minutes for 3 days (quarters
    from 0.25 to 1.0), read at 2 instants: equal to the raw reading, with its run link;
    by hand at T0+2d 09:30: the newest point is 09:20 (i = 86: 86 * 40 min = 57 h 20 min),
    the window (1d 09:20, 2d 09:20] holds i = 51..86, 36 values; i % 4 = 3, 0, 1, 2, ...
    nine of each quarter: (0.25 + 0.5 + 0.75 + 1.0) * 9 / 36 = 0.625."""
    with store.session() as s:
        write_records(s, "mlflow", [
            r.Model("p", "clf"), r.Run("p", "run1", "e", "train", "FINISHED", T0),
            r.ModelVersion("p", "clf", "1", "run1", T0, aliases=("champion",)),
            *[r.Point("p", r.SeriesKind.MODEL_METRIC, "auc", T0 + i * 40 * M,
                      (i % 4 + 1) * 0.25, {"run_id": "run1"}) for i in range(108)],
        ])
    signal = ModelMetricSignal(kind="model_metric", model="clf", metric="auc", window="1d",
                               aggregation="mean")
    as_of = T0 + timedelta(days=2, hours=9, minutes=30)
    instants = daily_instants(as_of, 2)
    rolled = signal_frame(store, "p", signal, as_of=as_of, history=timedelta(days=2),
                          instants=instants)
    raw = signal_frame(store, "p", signal, as_of=as_of, history=timedelta(days=2))
    assert rolled.attrs["version"] == "1" and (rolled["n"] > 1).any()
    [now] = read_signal(signal, rolled, as_of=as_of)
    assert now.value == 0.625 and now.detail.endswith("(36 values)")
    assert now.evidence["run_id"] == "run1"
    for t in instants:
        [a], [b] = read_signal(signal, rolled, as_of=t), read_signal(signal, raw, as_of=t)
        assert (a.value, a.detail, a.evidence) == (b.value, b.detail, b.evidence)


def test_a_change_against_the_window_before_from_rollups(store: Store) -> None:
    """usage_change over 1d windows at 4 daily instants ending mid-hour, a point every 10
    minutes for 6 days (on PostgreSQL a NaN every 7th, which the anchor skips too): the
    same readings as from raw points. By hand, with values 1 before day 4 and 2 from it,
    at day 4 12:05 (newest point 12:00): this window (3d 12:00, 4d 12:00] holds 144 values,
    71 ones (3d 12:10 to 23:50) and 73 twos (4d 00:00 to 12:00), the one before only ones:
    ((71 + 146) / 144 - 1) / 1."""
    nan = store.dialect == "postgresql"
    _dau(store, [(i * 10 * M, math.nan if nan and i % 7 == 3 else (2.0 if i >= 576 else 1.0))
                 for i in range(6 * 144)])
    signal = UsageChangeSignal(kind="usage_change", kpi="dau", window="1d")
    as_of = T0 + timedelta(days=5, hours=12, minutes=5)
    rolled = signal_frame(store, "p", signal, as_of=as_of, history=timedelta(days=3),
                          instants=daily_instants(as_of, 4))
    raw = signal_frame(store, "p", signal, as_of=as_of, history=timedelta(days=3))
    assert rolled.attrs["rolled_up"] and len(rolled) < len(raw) / 2
    for t in daily_instants(as_of, 4):
        [a], [b] = read_signal(signal, rolled, as_of=t), read_signal(signal, raw, as_of=t)
        assert a.value == pytest.approx(b.value, rel=1e-12)
        assert (a.detail, a.observed_at) == (b.detail, b.observed_at)
    if not nan:
        [day4] = read_signal(signal, rolled, as_of=T0 + timedelta(days=4, hours=12, minutes=5))
        assert day4.value == pytest.approx((71 + 146) / 144 - 1)
