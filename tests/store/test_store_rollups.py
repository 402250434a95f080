"""Point rollups kept by the writer, rebuilt by `dspo db rollup`, and retention, on SQLite
and PostgreSQL, against sums worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import text

from config.schema import StoreConfig
from dspo.retention import prune, rebuild
from store import queries, rollups
from store import records as r
from store.db import Store
from store.writer import write_records

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, midnight UTC
H, M, S = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)


def _points(values: list[tuple[timedelta, float]], step: int = 0) -> list[r.Point]:
    return [r.Point("p", r.SeriesKind.USAGE, "dau", T0 + at, v, step=step) for at, v in values]


def _write(store: Store, points: list[r.Point]) -> int:
    with store.session() as s:
        return write_records(s, "src", points).rows


def _rollups(store: Store) -> list[tuple]:
    """(grain, bucket as 'day hh:mm', n, total, lo, hi, last_value, last_ts as 'day hh:mm:ss')"""
    with store.session() as s:
        rows = s.execute(text("SELECT grain, bucket, n, total, lo, hi, last_value, last_ts "
                              "FROM point_rollup ORDER BY grain, bucket")).all()
    def stamp(x: object, fmt: str) -> str:
        ts = x if isinstance(x, datetime) else datetime.fromisoformat(str(x))
        return ts.astimezone(UTC).strftime(fmt) if ts.tzinfo else ts.strftime(fmt)
    return [(g, stamp(b, "%d %H:%M"), n, t, lo, hi, last, stamp(ts, "%d %H:%M:%S"))
            for g, b, n, t, lo, hi, last, ts in rows]


# Irregular stamps over two days: 02 00:00:00 (1.0), 00:59:59 (2.0), 01:00:00 (4.0),
# 01:30:00 at steps 0 and 1 (0.5, then 8.0), 23:59:59.5 (16.0); 03 10:00 (32.0).
IRREGULAR = [(timedelta(0), 1.0), (59 * M + 59 * S, 2.0), (H, 4.0), (90 * M, 0.5),
             (timedelta(hours=23, minutes=59, seconds=59.5), 16.0), (timedelta(hours=34), 32.0)]
EXPECTED = [
    # day 02: n 6 (the two steps at 01:30 both count), 1+2+4+0.5+8+16 = 31.5, min 0.5,
    # max 16, last 16 at 23:59:59; day 03: 32
    ("day", "02 00:00", 6, 31.5, 0.5, 16.0, 16.0, "02 23:59:59"),
    ("day", "03 00:00", 1, 32.0, 32.0, 32.0, 32.0, "03 10:00:00"),
    # hour 00: 1 + 2; hour 01: 4 + 0.5 + 8, last the higher step (8.0) at 01:30
    ("hour", "02 00:00", 2, 3.0, 1.0, 2.0, 2.0, "02 00:59:59"),
    ("hour", "02 01:00", 3, 12.5, 0.5, 8.0, 8.0, "02 01:30:00"),
    ("hour", "02 23:00", 1, 16.0, 16.0, 16.0, 16.0, "02 23:59:59"),
    ("hour", "03 10:00", 1, 32.0, 32.0, 32.0, 32.0, "03 10:00:00"),
]


def test_rollups_are_the_group_by_of_the_points(store: Store) -> None:
    _write(store, [*_points(IRREGULAR), *_points([(90 * M, 8.0)], step=1)])
    assert _rollups(store) == EXPECTED


def test_nan_counts_nowhere(store: Store) -> None:
    """PostgreSQL stores NaN; it is left out of count, sum, min, max and last, as
    `kpis.signals.aggregate` leaves it out; an hour of NaN alone has no row. SQLite has no
    NaN (it binds as NULL): the writer leaves NaN points out there, and writes the rest."""
    if store.dialect == "sqlite":
        _write(store, _points([(timedelta(0), math.nan)]))  # a batch of NaN alone: no error
    _write(store, [*_points(IRREGULAR), *_points([(90 * M, 8.0)], step=1),
                   *_points([(2 * H, math.nan), (23 * H + 59 * M + 59.75 * S, math.nan)])])
    assert _rollups(store) == EXPECTED  # the NaN at 23:59:59.75 is newer, yet not `last`


def test_an_upsert_changing_a_value_updates_its_buckets(store: Store) -> None:
    _write(store, [*_points(IRREGULAR), *_points([(90 * M, 8.0)], step=1)])
    # 01:00 4.0 -> 40.0: hour 01 sum 12.5 - 4 + 40 = 48.5, max 40; day 02 sum 67.5, max 40
    assert _write(store, _points([(H, 40.0)])) == 1
    got = {(g, b): (n, t, lo, hi) for g, b, n, t, lo, hi, _, _ in _rollups(store)}
    assert got[("hour", "02 01:00")] == (3, 48.5, 0.5, 40.0)
    assert got[("day", "02 00:00")] == (6, 67.5, 0.5, 40.0)
    assert got[("hour", "03 10:00")] == (1, 32.0, 32.0, 32.0)  # untouched


def test_a_rerun_that_writes_nothing_does_no_rollup_work(store: Store, monkeypatch) -> None:
    _write(store, _points(IRREGULAR))
    before = _rollups(store)
    calls: list[object] = []
    monkeypatch.setattr(rollups, "refresh", lambda *a: calls.append(a))
    assert _write(store, _points(IRREGULAR)) == 0
    assert calls == [] and _rollups(store) == before


def test_the_bulk_path_rolls_up_like_the_row_path(store: Store) -> None:
    """600 points a minute apart from 02 00:00 (values 0..599): the bulk path (300 rows
    and up). Hour k holds values 60k..60k+59: n 60, sum 60*60k + 1770."""
    _write(store, _points([(i * M, float(i)) for i in range(600)]))
    hours = [row for row in _rollups(store) if row[0] == "hour"]
    assert len(hours) == 10
    assert hours[3][2:6] == (60, 60 * 180 + 1770.0, 180.0, 239.0)
    day = [row for row in _rollups(store) if row[0] == "day"]
    assert day[0][2:7] == (600, 599 * 600 / 2, 0.0, 599.0, 599.0)


def test_rebuild_recomputes_what_a_write_would(store: Store) -> None:
    _write(store, [*_points(IRREGULAR), *_points([(90 * M, 8.0)], step=1)])
    with store.session() as s:
        s.execute(text("UPDATE point_rollup SET total = 0"))
    assert rebuild(store) == len(EXPECTED)
    assert _rollups(store) == EXPECTED


def test_prune_deletes_old_raw_points_of_rolled_up_days_only(store: Store) -> None:
    """Points at 02 00:00 .. 03 10:00; retention 2d at 05 12:00 cuts at 03 00:00 (the
    day of 05 12:00 - 2d): the five points of day 02 go, 03 10:00 stays, every rollup
    stays; `rebuild` afterwards keeps day 02's rows (nothing left to recompute them)."""
    _write(store, _points(IRREGULAR))
    settings = StoreConfig.model_validate({"retention": {"raw_points": "2d"}})
    done = prune(store, settings, now=T0 + timedelta(days=3, hours=12))
    assert (done.before, done.points) == (T0 + timedelta(days=1), 5)
    with store.session() as s:
        left = s.execute(text("SELECT value FROM point")).scalars().all()
    assert left == [32.0]
    assert len(_rollups(store)) == 6
    rebuild(store)
    assert [row[:4] for row in _rollups(store)][:2] == [("day", "02 00:00", 5, 23.5),
                                                        ("day", "03 00:00", 1, 32.0)]
    assert prune(store, StoreConfig()).before is None  # no retention: nothing to do


def _chart(store: Store, **kw: object) -> list[tuple[float, float]]:
    """(hours since T0, value) of a chart read of dau."""
    df = queries.series_points(store, "p", r.SeriesKind.USAGE, "dau", **kw)  # type: ignore[arg-type]
    return [((ts - pd.Timestamp(T0)) / H, v) for ts, v in zip(df["ts"], df["value"],
                                                              strict=True)]


def test_a_long_chart_takes_extremes_from_hour_rollups(store: Store) -> None:
    """Points every 10 minutes for 4 days, value i at T0 + 10i min (hour h holds 6h to
    6h+5). 20 points over 4 days is a 9.6 h raw bucket: hour rollups, 8 chart buckets of
    ceil(96 / 8) = 12 hours; bucket k's min is 72k (the start of hour 12k), its max
    72k + 71 (drawn at the start of hour 12k + 11)."""
    _write(store, _points([(i * 10 * M, float(i)) for i in range(576)]))
    assert _chart(store, max_points=20) == [
        p for k in range(8) for p in ((12.0 * k, 72.0 * k), (12.0 * k + 11, 72.0 * k + 71))]
    # a range cut inside hours: 00:30 to 53:15. Hours 1 to 52 are whole: 52 hours in 8
    # buckets of ceil(52 / 8) = 7 (1-7, 8-14, ..., 50-52); the part hours at each end come
    # raw: 00:30-00:50 (3 to 5) and 53:00-53:10 (318, 319)
    got = _chart(store, start=T0 + 30 * M, end=T0 + timedelta(hours=53, minutes=15),
                 max_points=20)
    whole = [p for k in range(8) for p in ((1.0 + 7 * k, 6.0 * (1 + 7 * k)),
                                          (min(7.0 + 7 * k, 52), 6 * min(7 + 7 * k, 52) + 5))]
    assert got == [(0.5, 3.0), (5 / 6, 5.0), *whole, (53.0, 318.0), (53 + 1 / 6, 319.0)]


def test_a_chart_over_pruned_days_shows_them_from_day_rollups(store: Store) -> None:
    """Day d (0..9) has d at 00:00 and 10 + d at 12:00. Retention 3d at day 10 12:00 cuts
    at day 7: days 0..6 lose their raw points; the chart shows each of them as its min and
    max at the day's start, days 7..9 as they were."""
    _write(store, _points([(timedelta(days=d, hours=h), float(d + (10 if h else 0)))
                           for d in range(10) for h in (0, 12)]))
    settings = StoreConfig.model_validate({"retention": {"raw_points": "3d"}})
    assert prune(store, settings, now=T0 + timedelta(days=10, hours=12)).points == 14
    pruned = [(24.0 * d, float(v)) for d in range(7) for v in (d, 10 + d)]
    raw = [(24.0 * d + h, float(d + (10 if h else 0))) for d in range(7, 10) for h in (0, 12)]
    assert _chart(store, max_points=2000) == pruned + raw
    # a range inside the pruned days: [day 2, day 5 00:00] holds days 2 to 4 whole; a day
    # only partly in the range (day 1 from 12:00) is left out
    assert _chart(store, start=T0 + timedelta(days=2), end=T0 + timedelta(days=5),
                  max_points=2000) == pruned[4:10]
    assert _chart(store, start=T0 + timedelta(days=1, hours=12), end=T0 + timedelta(days=3),
                  max_points=2000) == pruned[4:6]
