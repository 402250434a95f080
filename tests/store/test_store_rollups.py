"""Point rollups kept by the writer, rebuilt by `dspo db rollup`, and retention, on SQLite
and PostgreSQL, against sums worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from config.schema import StoreConfig
from dspo.retention import prune, rebuild
from store import records as r
from store import rollups
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


def test_nan_counts_nowhere_on_postgresql(store: Store) -> None:
    """PostgreSQL stores NaN; it is left out of count, sum, min, max and last, as
    `kpis.signals.aggregate` leaves it out; an hour of NaN alone has no row. (SQLite cannot
    store a NaN point: `point.value` is NOT NULL and a NaN binds as NULL.)"""
    if store.dialect == "sqlite":
        with pytest.raises(Exception, match="NOT NULL"):
            _write(store, _points([(timedelta(0), math.nan)]))
        return
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
