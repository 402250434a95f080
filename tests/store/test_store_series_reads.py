"""Series reads that stay bounded: the downsampled chart read and the latest point, checked
against answers worked out by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from config.signals import ModelMetricSignal
from kpis.models import version_stats
from kpis.signals import daily_instants, readings_over_days
from store import queries
from store import records as r
from store.signals import signal_frame
from store.writer import write_records

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _write(store, name: str, values: list[float]) -> None:
    with store.session() as session:
        write_records(session, "src", [r.Point("p", r.SeriesKind.USAGE, name, T0 + i * MINUTE, v)
                                       for i, v in enumerate(values)])


def _minutes_and_values(df: pd.DataFrame) -> list[tuple[int, float]]:
    return [(int((ts - pd.Timestamp(T0)) / MINUTE), v) for ts, v in zip(df["ts"], df["value"],
                                                                       strict=True)]


def test_downsampling_keeps_the_oldest_min_and_max_of_each_bucket(store):
    # 10 points a minute apart; max_points=4 -> 2 buckets over [0 min, 9 min]:
    # span 540 s + 1 us = 540,000,001 us, width ceil(/2) = 270,000,001 us (270.000001 s),
    # so bucket 0 holds minutes 0-4 (240 s < 270.000001 s) and bucket 1 minutes 5-9.
    # bucket 0 values 5 1 1 9 3: min 1 at minutes 1 and 2 (the oldest, 1, kept), max 9 at 3
    # bucket 1 values 3 8 7 2 8: min 2 at 8, max 8 at minutes 6 and 9 (the oldest, 6, kept)
    _write(store, "rps", [5, 1, 1, 9, 3, 3, 8, 7, 2, 8])
    df = queries.series_points(store, "p", "usage", "rps", max_points=4)
    assert df.attrs["downsampled"] is True
    assert _minutes_and_values(df) == [(1, 1.0), (3, 9.0), (6, 8.0), (8, 2.0)]
    assert str(df["ts"].dtype) == "datetime64[ns, UTC]"


def test_a_flat_bucket_gives_one_point_and_a_range_cuts_its_own_buckets(store):
    # all values 4: each bucket's min and max are the same, oldest, point: minutes 0 and 5
    _write(store, "flat", [4.0] * 10)
    flat = queries.series_points(store, "p", "usage", "flat", max_points=4)
    assert _minutes_and_values(flat) == [(0, 4.0), (5, 4.0)]
    # values = the minute; range [2, 8] min -> 7 points, lo 2 hi 8: span 360 s + 1 us,
    # width 180.000001 s: bucket 0 minutes 2-5 (offsets 0-180 s; min 2, max 5), bucket 1
    # minutes 6-8 (min 6, max 8)
    _write(store, "ramp", [float(i) for i in range(10)])
    ramp = queries.series_points(store, "p", "usage", "ramp", start=T0 + 2 * MINUTE,
                                 end=T0 + 8 * MINUTE, max_points=4)
    assert _minutes_and_values(ramp) == [(2, 2.0), (5, 5.0), (6, 6.0), (8, 8.0)]


HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def _metric(run: str, name: str, ts: datetime, value: float, step: int = 0) -> r.Point:
    return r.Point("p", r.SeriesKind.MODEL_METRIC, name, ts, value, {"run_id": run}, step=step)


def _registry(store) -> None:
    with store.session() as session:
        write_records(session, "mlflow", [
            r.Model("p", "clf"),
            r.Run("p", "run1", "e", "train", "FINISHED", T0),
            r.Run("p", "eval1", "e", "eval", "FINISHED", T0, model="clf", model_version="1"),
            r.Run("p", "run2", "e", "other", "FINISHED", T0),
            r.ModelVersion("p", "clf", "1", "run1", T0),
            _metric("run1", "auc", T0, 0.5), _metric("run1", "auc", T0 + DAY, 0.6),
            _metric("run1", "auc", T0 + DAY, 0.65, step=1), _metric("run1", "loss", T0, 0.3),
            _metric("eval1", "auc", T0 + 2 * DAY, 0.7), _metric("run2", "f1", T0, 0.9),
        ])


def test_latest_model_metric_at_each_instant(store):
    _registry(store)
    instants = [T0 + 12 * HOUR, T0 + DAY + HOUR, T0 + 5 * DAY, T0 - HOUR]
    df = queries.model_metric_latest(store, "p", "clf", "1", "auc", instants)
    # run1: 12 h -> T0 (0.5); 1 d 1 h -> T0 + 1 d at its highest step (0.65); 5 d -> the
    # same point again (kept once); -1 h -> nothing. eval1 (tagged with the version): only
    # 5 d -> T0 + 2 d (0.7)
    got = [(ts, v, st, run) for ts, v, st, run in df.itertuples(index=False)]
    assert got == [(pd.Timestamp(T0), 0.5, 0, "run1"), (pd.Timestamp(T0 + DAY), 0.65, 1, "run1"),
                   (pd.Timestamp(T0 + 2 * DAY), 0.7, 0, "eval1")]
    assert queries.model_metric_latest(store, "p", "clf", "1", "auc", [T0 - HOUR]).empty


def test_metric_names_of_runs(store):
    _registry(store)
    assert queries.metric_names(store, "p", ["run1", "eval1"]) == ["auc", "loss"]
    assert queries.metric_names(store, "p", {"run2"}) == ["f1"]
    assert queries.metric_names(store, "p", []) == []
    assert queries.metric_names(store, "other", ["run1"]) == []


def test_a_latest_value_sparkline_reads_one_point_per_day(store):
    # champion-less objective on version 1's auc, 'last' of all values by default
    _registry(store)
    objective = ModelMetricSignal(kind="model_metric", model="clf", version="1", metric="auc")
    as_of = T0 + 3 * DAY + HOUR
    thin = signal_frame(store, "p", objective, as_of=as_of, history=4 * DAY,
                        instants=daily_instants(as_of, 4))
    full = signal_frame(store, "p", objective, as_of=as_of, history=4 * DAY)
    # instants T0+1h: 0.5 (T0); T0+1d1h: 0.65 (T0+1d, step 1); T0+2d1h and T0+3d1h: 0.7
    # (eval1's T0+2d is the newest); the thin frame holds those three points, not all four
    expected = [0.5, 0.65, 0.7, 0.7]
    assert readings_over_days(objective, thin, as_of=as_of, days=4)["value"].tolist() == expected
    assert readings_over_days(objective, full, as_of=as_of, days=4)["value"].tolist() == expected
    assert len(thin) == 3 and len(full) == 4
    assert thin.attrs["version"] == "1"


def test_the_newest_points_of_a_version_for_its_comparison(store):
    _registry(store)
    # run1: T0 0.5, T0+1d 0.6 (step 0) and 0.65 (step 1); eval1: T0+2d 0.7. The newest two
    # per series at T0+5d: run1's two T0+1d points, eval1's one
    tail = queries.model_metric_tail(store, "p", "clf", "1", "auc", T0 + 5 * DAY, 2)
    assert tail["value"].tolist() == [0.6, 0.65, 0.7]
    # the last two overall are 0.65 and 0.7: latest 0.7, mean 0.675, as from every point
    full = queries.model_metric_points(store, "p", "clf", "1", "auc")
    for points in (tail, full):
        stats = version_stats("1", points, as_of=T0 + 5 * DAY, last_n=2)
        assert (stats.latest, stats.mean_last, stats.points) == (0.7, pytest.approx(0.675), 2)
    early = queries.model_metric_tail(store, "p", "clf", "1", "auc", T0 + 12 * HOUR, 2)
    assert early["value"].tolist() == [0.5]
