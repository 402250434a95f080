"""Windowed readings from hour rollups: what a trailing mean, sum, count, min or max needs at
a few instants (a sparkline's days), read without every raw point of the window.

A reading at instant t covers (a - window, a], where a is the newest point at or before t
(`kpis.signals._anchor`). Every hour lying wholly inside such a window, or wholly outside
it, can stand as one row carrying its count, sum, min and max (a rollup); only the hours
holding an edge (a, a - window, t, t - window, and the read's own start and end) must be
read as raw points. So the frame returned holds raw points for those hours and one row per
other hour (stamped with the hour's last value and its time), each with columns n, total,
lo, hi (a raw point: n 1, or 0 when NaN), and `kpis.signals` aggregates it to exactly the
numbers, and the words, the raw points would give (sums up to the order of additions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import DateTime, String, select, type_coerce, union_all
from sqlalchemy.orm import Session

from store import schema as s
from store.db import Store
from store.frames import frame
from store.rollup_reads import US, floor
from store.rollups import HOUR
from store.series import POINT_COLUMNS, POINT_DTYPES, _matching_series, _version_series
from store.upsert import batched

ROLLED_UP = ("mean", "sum", "count", "min", "max")
"""Aggregations a window's rollups give exactly; median, percentiles and last read raw."""
BUCKET_COLUMNS = ["n", "total", "lo", "hi"]

R, Pt = s.PointRollup, s.SeriesPoint


def _anchor(session: Session, ids: list[int], start: datetime | None, after: bool,
            instant: datetime, finite: bool) -> datetime:
    """The newest point's time at or before `instant` and in the read's range (from
    `start`, or after it when `after`; a value, not NaN, when `finite`), else `instant`:
    where a window ends."""
    newest = instant
    found: list[datetime] = []
    for sid in ids:
        stmt = select(Pt.ts).where(Pt.series_id == sid, Pt.ts <= instant)
        if start is not None:
            stmt = stmt.where(Pt.ts > start if after else Pt.ts >= start)
        if finite and session.get_bind().dialect.name == "postgresql":
            stmt = stmt.where(Pt.value != float("nan"))  # PostgreSQL's NaN equals NaN
        ts = session.execute(stmt.order_by(Pt.ts.desc()).limit(1)).scalar_one_or_none()
        if ts is not None:
            found.append(ts)
    return max(found) if found else newest


@dataclass(frozen=True)
class Windows:
    """What readings are taken: a `window` (or `count` windows back to back, as a change
    against the window before reads) ending at the newest point at or before each instant
    (the newest value, not NaN, when `finite_anchor`)."""

    window: timedelta
    instants: Sequence[datetime]
    count: int = 1
    finite_anchor: bool = False


def _edge_hours(session: Session, ids: list[int], start: datetime | None, end: datetime,
                w: Windows, after: bool) -> set[datetime]:
    """The hours holding an edge of some instant's windows, or of the read's range."""
    edges = {floor(end, "hour")} | ({floor(start, "hour")} if start is not None else set())
    for instant in {min(t, end) for t in w.instants}:
        anchor = _anchor(session, ids, start, after, instant, w.finite_anchor)
        for k in range(w.count + 1):
            edges |= {floor(anchor - k * w.window, "hour"), floor(instant - k * w.window,
                                                                  "hour")}
    return edges


def _hour_runs(hours: set[datetime]) -> list[tuple[datetime, datetime]]:
    """Sorted hours as [start, end) runs, consecutive hours merged."""
    runs: list[tuple[datetime, datetime]] = []
    for hour in sorted(hours):
        if runs and runs[-1][1] == hour:
            runs[-1] = (runs[-1][0], hour + HOUR)
        else:
            runs.append((hour, hour + HOUR))
    return runs


def _edge_points(session: Session, ids: list[int], ranges: list[tuple[datetime, datetime]]
                 ) -> pd.DataFrame:
    """[ts, value, step, series_id] of the points in each [lo, hi] of `ranges`: one UNION
    ALL of indexed range reads (SQLite allows 500 terms: 400 a statement), times parsed
    in one vectorised call (a read per range, parsed apart, cost ten times more)."""
    if session.get_bind().dialect.name == "sqlite":
        ts: Any = type_coerce(Pt.ts, String())
    else:
        ts = type_coerce(Pt.ts, DateTime(timezone=True))
    reads = [select(ts.label("ts"), Pt.value, Pt.step, Pt.series_id)
             .where(Pt.series_id.in_(ids), Pt.ts >= lo, Pt.ts <= hi) for lo, hi in ranges]
    rows: list[Any] = []
    for chunk in batched(reads, 400):
        stmt = union_all(*chunk) if len(chunk) > 1 else chunk[0]
        rows += session.connection().execute(stmt).all()
    df = pd.DataFrame(rows, columns=POINT_COLUMNS)
    df["ts"] = pd.to_datetime(df["ts"], utc=True, format="ISO8601")
    return df.astype(POINT_DTYPES)


def _windowed(session: Session, ids: list[int], start: datetime | None, end: datetime,
              w: Windows, after: bool) -> pd.DataFrame:
    """[ts, value, step, series_id, n, total, lo, hi]: raw points of the edge hours within
    [start, end], one row per other hour of the range."""
    edges = _edge_hours(session, ids, start, end, w, after)
    points = _edge_points(session, ids, [(lo if start is None else max(lo, start),
                                          min(hi - US, end)) for lo, hi in _hour_runs(edges)])
    values = points["value"]
    points = points.assign(n=values.notna().astype("int64"), total=values.fillna(0.0),
                           lo=values, hi=values)
    stmt = select(R.last_ts, R.last_value, R.series_id, R.n, R.total, R.lo, R.hi).where(
        R.series_id.in_(ids), R.grain == "hour", R.bucket <= end)
    if start is not None:
        stmt = stmt.where(R.bucket >= start)
    buckets = [(ts, value, 0, sid, n, total, lo, hi)
               for ts, value, sid, n, total, lo, hi in session.execute(stmt)
               if floor(ts, "hour") not in edges]
    hours = frame(buckets, [*POINT_COLUMNS, *BUCKET_COLUMNS], ["ts"],
                  {**POINT_DTYPES, "n": "int64", "total": "float64", "lo": "float64",
                   "hi": "float64"})
    full = [part for part in (points, hours) if len(part)]
    out = pd.concat(full, ignore_index=True) if len(full) > 1 else (full or [points])[0]
    out.attrs["downsampled"] = False
    out.attrs["rolled_up"] = True
    return out


def series_windowed(store: Store, product: str, kind: str, name: str, *,
                    start: datetime | None, end: datetime, windows: Windows) -> pd.DataFrame:
    """`series_points` over [start, end] as the readings of `windows` need it:
    [ts, value, step, series_id, labels, n, total, lo, hi]."""
    with store.session() as session:
        matched = _matching_series(session, product, kind, name, None)
        ids = list(matched)
        if not ids:
            return _empty()
        df = _windowed(session, ids, start, end, windows, after=False)
    df = df.sort_values(["series_id", "ts", "step"], ignore_index=True)
    df["labels"] = [matched[sid] for sid in df["series_id"]]
    return df


def model_metric_windowed(store: Store, product: str, model: str, version: str, metric: str,
                          *, since: datetime | None, end: datetime, window: timedelta,
                          instants: Sequence[datetime]) -> pd.DataFrame:
    """`model_metric_points` over (since, end] as a windowed reading at `instants` needs
    it: [ts, value, step, run_id, n, total, lo, hi], sorted by ts."""
    with store.session() as session:
        series_runs = _version_series(session, product, model, version, metric)
        if not series_runs:
            empty = _empty().drop(columns=["series_id", "labels"])
            return empty.assign(run_id=pd.Series([], dtype=object))
        df = _windowed(session, list(series_runs), since, end, Windows(window, instants),
                       after=True)
    df["run_id"] = df["series_id"].map(series_runs)
    df = df.drop(columns=["series_id"]).sort_values(["ts", "run_id", "step"],
                                                    ignore_index=True)
    return df.loc[df["ts"] > pd.Timestamp(since)] if since is not None else df


def _empty() -> pd.DataFrame:
    df = frame([], [*POINT_COLUMNS, *BUCKET_COLUMNS], ["ts"],
               {**POINT_DTYPES, "n": "int64", "total": "float64", "lo": "float64",
                "hi": "float64"})
    df["labels"] = pd.Series([], dtype=object)
    df.attrs["downsampled"] = False
    return df
