"""Windowed readings from hour rollups: what a trailing mean, sum, count, min or max needs at
a few instants (a sparkline's days), read without every raw point of the window.

A reading at instant t covers (a - window, a], where a is the newest point at or before t
(`kpis.signals._anchor`). Every hour lying wholly inside such a window, or wholly outside
it, can stand as one row carrying its count, sum, min and max (a rollup). An hour holding
an edge (a, a - window, t, t - window, the read's start and end) is cut at every edge in
it into pieces, each wholly inside or outside every window, and each piece is aggregated
in SQL the same way. Every row is stamped with its last point's time (a piece ending at an
anchor, with the anchor's), carries columns n, total, lo, hi, and `kpis.signals` adds them
up to exactly the numbers, and the words, the raw points would give (sums up to the order
of additions). `value` is a representative (an hour's last value, a piece's mean; NaN when
it holds no value): no reading of these frames uses it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import case, func, select, union_all
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


def _cuts(session: Session, ids: list[int], start: datetime | None, end: datetime,
          w: Windows, after: bool) -> set[datetime]:
    """Every instant where some reading's window starts or ends, and the read's bounds."""
    cuts = {end} | ({start} if start is not None else set())
    for instant in {min(t, end) for t in w.instants}:
        anchor = _anchor(session, ids, start, after, instant, w.finite_anchor)
        cuts |= {x - k * w.window for x in (anchor, instant) for k in range(w.count + 1)}
    return cuts


def _pieces(cuts: set[datetime], start: datetime | None, end: datetime, after: bool
            ) -> list[tuple[datetime, datetime]]:
    """(lo, hi] pieces of the hours holding a cut, split at every cut in them and kept
    within the read's range: each lies wholly inside or wholly outside every window
    (windows are (a - w, a], so a cut closes the piece it ends)."""
    floor_of_start = (start if after else start - US) if start is not None else None
    by_hour: dict[datetime, list[datetime]] = {}
    for cut in cuts:
        by_hour.setdefault(floor(cut, "hour"), []).append(cut)
    pieces = []
    for hour, inside in by_hour.items():
        bounds = [hour - US, *sorted(set(inside)), hour + HOUR - US]
        for lo, hi in itertools.pairwise(bounds):
            lo = max(lo, floor_of_start) if floor_of_start is not None else lo
            hi = min(hi, end)
            if lo < hi:
                pieces.append((lo, hi))
    return pieces


def _piece_rows(session: Session, ids: list[int], pieces: list[tuple[datetime, datetime]]
                ) -> list[tuple[object, ...]]:
    """Per series and piece: (last point's time, mean of the values or NaN, 0, series id,
    count, sum, min, max of the values): a GROUP BY per piece in one UNION ALL (SQLite
    allows 500 terms: 400 a statement)."""
    finite = (Pt.value.is_not(None) if session.get_bind().dialect.name == "sqlite"
              else Pt.value != float("nan"))  # PostgreSQL's NaN equals NaN
    value = case((finite, Pt.value))
    reads = [select(func.max(Pt.ts), Pt.series_id, func.count(value), func.sum(value),
                    func.min(value), func.max(value))
             .where(Pt.series_id.in_(ids), Pt.ts > lo, Pt.ts <= hi).group_by(Pt.series_id)
             for lo, hi in pieces]
    rows: list[tuple[object, ...]] = []
    for chunk in batched(reads, 400):
        stmt: Any = union_all(*chunk) if len(chunk) > 1 else chunk[0]
        for ts, sid, n, total, lo, hi in session.execute(stmt):
            mean = total / n if n else math.nan
            rows.append((ts, mean, 0, sid, n, float(total or 0.0),
                         math.nan if lo is None else lo, math.nan if hi is None else hi))
    return rows


def _windowed(session: Session, ids: list[int], start: datetime | None, end: datetime,
              w: Windows, after: bool) -> pd.DataFrame:
    """[ts, value, step, series_id, n, total, lo, hi] over [start, end] (or (start, end]
    when `after`): a row per piece of the hours holding a window edge, one per other hour."""
    cuts = _cuts(session, ids, start, end, w, after)
    edges = {floor(cut, "hour") for cut in cuts}
    rows = _piece_rows(session, ids, _pieces(cuts, start, end, after))
    stmt = select(R.last_ts, R.last_value, R.series_id, R.n, R.total, R.lo, R.hi).where(
        R.series_id.in_(ids), R.grain == "hour", R.bucket <= end)
    if start is not None:
        stmt = stmt.where(R.bucket >= start)
    rows += [(ts, value, 0, sid, n, total, lo, hi)
             for ts, value, sid, n, total, lo, hi in session.execute(stmt)
             if floor(ts, "hour") not in edges]
    out = frame(rows, [*POINT_COLUMNS, *BUCKET_COLUMNS], ["ts"],
                {**POINT_DTYPES, "n": "int64", "total": "float64", "lo": "float64",
                 "hi": "float64"})
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


def hour_sums(store: Store, product: str, kind: str, name: str, *, start: datetime,
              end: datetime) -> pd.DataFrame:
    """[bucket, n, total] of the series' hour rollups from the hour holding `start` to the
    one holding `end`, summed over every series of that name: what a trailing mean drawn
    over a long, downsampled chart needs instead of every raw point."""
    with store.session() as session:
        ids = list(_matching_series(session, product, kind, name, None))
        rows = session.execute(
            select(R.bucket, func.sum(R.n), func.sum(R.total))
            .where(R.series_id.in_(ids), R.grain == "hour", R.bucket >= floor(start, "hour"),
                   R.bucket <= end)
            .group_by(R.bucket).order_by(R.bucket)
        ).all() if ids else []
    return frame([tuple(r) for r in rows], ["bucket", "n", "total"], ["bucket"],
                 {"n": "int64", "total": "float64"})
