"""Chart reads from point rollups: the min and max of each chart bucket taken from hour or
day rows instead of raw points, and the days whose raw points retention deleted.

A chart bucket here is a whole number of rollup buckets, so its min and max are exact; they
are drawn at the start of the hour (or day) that holds them, the chart's resolution being
coarser than that anyway. `store.series` calls these for the series and ranges that need
them (over the point budget with buckets of an hour or more; before the oldest raw point).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import schema as s
from store.rollups import DAY, GRAINS, HOUR, day_start

R, Pt = s.PointRollup, s.SeriesPoint
US = timedelta(microseconds=1)


def chart_grain(lo: datetime, hi: datetime, max_points: int) -> str | None:
    """The coarsest grain no wider than the buckets a raw downsampling of [lo, hi] to
    `max_points` would cut (None: under an hour, read raw)."""
    width = (hi - lo) / max(1, max_points // 2)
    return "day" if width >= DAY else "hour" if width >= HOUR else None


def floor(ts: datetime, grain: str) -> datetime:
    start = day_start(ts)
    return start if grain == "day" else start + (ts - start) // HOUR * HOUR


def whole_buckets(lo: datetime, hi: datetime, start: datetime | None, end: datetime | None,
                  grain: str) -> tuple[datetime, datetime]:
    """[first, stop) of the rollup buckets holding points of [lo, hi] (the first and last
    point in the range) and no point outside [start, end]: the bucket of `lo` unless it
    may hold points before `start`, up to the bucket of `hi` unless it may hold points
    after `end`."""
    size = GRAINS[grain]
    first = floor(lo, grain)
    if start is not None and start > first:
        first += size
    stop = floor(hi, grain) + size
    if end is not None and end < stop - US:
        stop -= size
    return first, stop


def extremes(session: Session, sid: int, grain: str, first: datetime, stop: datetime,
             buckets: int) -> list[tuple[Any, ...]]:
    """(ts, value, step, series_id) of the min and the max of each of at most `buckets`
    chart buckets over the rollup buckets [first, stop), each a whole number of them (one
    point where min and max are the same bucket's same value; a tie goes to the oldest)."""
    rows = session.execute(
        select(R.bucket, R.lo, R.hi).where(R.series_id == sid, R.grain == grain,
                                           R.bucket >= first, R.bucket < stop)
        .order_by(R.bucket)
    ).all()
    if not rows:
        return []
    size = GRAINS[grain]
    per = max(1, -(-((stop - first) // size) // max(1, buckets)))
    df = pd.DataFrame(rows, columns=["bucket", "lo", "hi"])
    df["chart"] = [(b - first) // (size * per) for b in df["bucket"]]
    groups = df.groupby("chart", sort=True)
    out: list[tuple[Any, ...]] = []
    for low, high in zip(groups["lo"].idxmin(), groups["hi"].idxmax(), strict=True):
        picked = [(low, df.at[low, "lo"]), (high, df.at[high, "hi"])]
        if picked[0][1] == picked[1][1]:
            picked = picked[:1]
        for i, value in sorted(picked, key=lambda pick: pick[0]):  # stable: min first
            out.append((df.at[i, "bucket"], float(value), 0, sid))
    return out


def pruned_span(session: Session, sid: int) -> tuple[datetime, datetime] | None:
    """(first day row, first day with raw points) when retention deleted the raw points of
    the days between; None when every day row still has its points."""
    days = session.execute(
        select(func.min(R.bucket), func.max(R.bucket)).where(R.series_id == sid,
                                                            R.grain == "day")
    ).one()
    if days[0] is None:
        return None
    oldest_point = session.execute(
        select(Pt.ts).where(Pt.series_id == sid).order_by(Pt.ts).limit(1)
    ).scalar_one_or_none()
    raw_from = day_start(oldest_point) if oldest_point is not None else days[1] + DAY
    return (days[0], raw_from) if days[0] < raw_from else None


def pruned_rows(session: Session, sid: int, start: datetime | None, end: datetime | None,
                max_points: int) -> tuple[list[tuple[Any, ...]], datetime | None]:
    """The chart points of the range's whole days whose raw points were pruned (the min
    and max of each day, or of groups of days, within a quarter of `max_points`) and the
    day raw points start; ([], None) when no day of the series was pruned."""
    span = pruned_span(session, sid)
    if span is None:
        return [], None
    oldest, raw_from = span
    lo = oldest if start is None else max(oldest, start)
    hi = raw_from - US if end is None else min(raw_from - US, end)
    if hi < lo:
        return [], raw_from
    first, stop = whole_buckets(lo, hi, start, end, "day")
    return extremes(session, sid, "day", first, stop, max(1, max_points // 4)), raw_from
