"""Point rollups: keeping `point_rollup` equal to a GROUP BY of the raw points, and retention.

Each series has a row per hour and per UTC day holding points (count, sum, min, max and the
last value of those that are not NaN, as `kpis.signals.aggregate` counts them). The writer
calls `refresh` with the days a batch of points touched, in the transaction that wrote them:
the rows of those days are deleted and recomputed from raw in SQL (hours from the points,
days from the hours), so an upsert that changed a value is reflected and a batch that wrote
nothing costs nothing. `rebuild` recomputes the rows of every day that still has raw points
(`dspo db rollup`); migration 0008 fills the table once. `prune` deletes raw points older
than the retention horizon whose day is rolled up (`dspo db prune`); reads past the horizon
then come from the day rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from store import schema as s

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
GRAINS: dict[str, timedelta] = {"hour": HOUR, "day": DAY}
_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite (text)

_HOUR = {"sqlite": "substr({ts}, 1, 13) || ':00:00.000000'",
         "postgresql": "date_trunc('hour', {ts}, 'UTC')"}
_DAY = {"sqlite": "substr({ts}, 1, 10) || ' 00:00:00.000000'",
        "postgresql": "date_trunc('day', {ts}, 'UTC')"}
VALUE_COUNTS = {"sqlite": "{v} IS NOT NULL", "postgresql": "{v} <> 'NaN'::float8"}
"""A value that counts: PostgreSQL stores NaN (and holds NaN = NaN), SQLite cannot store
one in `point.value` (a NaN binds as NULL, which the column refuses)."""

_RANGES = {
    "sqlite": "SELECT json_extract(value, '$[0]') AS sid, json_extract(value, '$[1]') AS lo, "
              "json_extract(value, '$[2]') AS hi FROM json_each(:ranges)",
    "postgresql": "SELECT * FROM unnest(CAST(:sids AS integer[]), CAST(:los AS timestamptz[]), "
                  "CAST(:his AS timestamptz[])) AS r(sid, lo, hi)",
}
_COLUMNS = "series_id, grain, bucket, n, total, lo, hi, last_value, last_ts"
_UPDATE = ("ON CONFLICT (series_id, grain, bucket) DO UPDATE SET n = excluded.n, "
           "total = excluded.total, lo = excluded.lo, hi = excluded.hi, "
           "last_value = excluded.last_value, last_ts = excluded.last_ts")

Ranges = Mapping[int, list[tuple[datetime, datetime]]]


def _statements(dialect: str) -> list[str]:
    """Delete, then hours from points, then days from hours, within the (series, [lo, hi))
    ranges of the `r` CTE."""
    value = VALUE_COUNTS[dialect].format(v="p.value")
    last_value = VALUE_COUNTS[dialect].format(v="q.value")
    hour, day = _HOUR[dialect].format(ts="p.ts"), _DAY[dialect].format(ts="h.bucket")
    with_r = f"WITH r AS ({_RANGES[dialect]}) "
    points = "r JOIN point p ON p.series_id = r.sid AND p.ts >= r.lo AND p.ts < r.hi"
    hours = ("r JOIN point_rollup h ON h.series_id = r.sid AND h.bucket >= r.lo "
             "AND h.bucket < r.hi")
    delete = (f"{with_r}DELETE FROM point_rollup WHERE id IN (SELECT d.id FROM r JOIN "
              "point_rollup d ON d.series_id = r.sid AND d.grain IN ('hour', 'day') "
              "AND d.bucket >= r.lo AND d.bucket < r.hi)")  # ranges first: index searches
    last_hour = _HOUR[dialect].format(ts="g.last_ts")
    return [
        delete,
        f"{with_r}INSERT INTO point_rollup ({_COLUMNS}) "
        f"SELECT g.series_id, 'hour', g.b, g.n, g.total, g.lo, g.hi, "
        f"(SELECT q.value FROM point q WHERE q.series_id = g.series_id AND q.ts = g.last_ts "
        f"AND {last_value} ORDER BY q.step DESC LIMIT 1), g.last_ts "
        f"FROM (SELECT p.series_id, {hour} AS b, count(*) AS n, sum(p.value) AS total, "
        f"min(p.value) AS lo, max(p.value) AS hi, max(p.ts) AS last_ts FROM {points} "
        f"WHERE {value} GROUP BY p.series_id, {hour}) g WHERE true {_UPDATE}",
        f"{with_r}INSERT INTO point_rollup ({_COLUMNS}) "
        f"SELECT g.series_id, 'day', g.b, g.n, g.total, g.lo, g.hi, "
        f"(SELECT q.last_value FROM point_rollup q WHERE q.series_id = g.series_id "
        f"AND q.grain = 'hour' AND q.bucket = {last_hour}), g.last_ts "
        f"FROM (SELECT h.series_id, {day} AS b, sum(h.n) AS n, sum(h.total) AS total, "
        f"min(h.lo) AS lo, max(h.hi) AS hi, max(h.last_ts) AS last_ts FROM {hours} "
        f"WHERE h.grain = 'hour' GROUP BY h.series_id, {day}) g WHERE true {_UPDATE}",
    ]


def sqlite_text(ts: datetime) -> str:
    """A UTC time as SQLite stores it (text), for SQL built outside SQLAlchemy's binds."""
    return ts.astimezone(UTC).strftime(_SQLITE_TS)


def _bind(dialect: str, ranges: list[tuple[int, datetime, datetime]]) -> dict[str, Any]:
    if dialect == "sqlite":
        return {"ranges": json.dumps([[sid, sqlite_text(lo), sqlite_text(hi)]
                                      for sid, lo, hi in ranges])}
    return {"sids": [sid for sid, _, _ in ranges], "los": [lo for _, lo, _ in ranges],
            "his": [hi for _, _, hi in ranges]}


def day_ranges(days: Iterable[date]) -> list[tuple[datetime, datetime]]:
    """Sorted days as [start, end) UTC ranges, consecutive days merged into one."""
    out: list[tuple[datetime, datetime]] = []
    for day in sorted(set(days)):
        start = datetime.combine(day, time(), tzinfo=UTC)
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], start + DAY)
        else:
            out.append((start, start + DAY))
    return out


def touched_days(series_ids: list[int], stamps: list[datetime]) -> dict[int, list[
        tuple[datetime, datetime]]]:
    """The day ranges each series' points fall in (`stamps` aware UTC, parallel lists)."""
    days: dict[int, set[date]] = {}
    for sid, ts in zip(series_ids, stamps, strict=True):
        days.setdefault(sid, set()).add(ts.astimezone(UTC).date())
    return {sid: day_ranges(found) for sid, found in days.items()}


def refresh(session: Session, ranges: Ranges) -> None:
    """Recompute the hour and day rows of each series within its [start, end) day ranges
    (day-aligned, so hour and day rows are replaced together) from the raw points."""
    flat = [(sid, lo, hi) for sid, spans in ranges.items() for lo, hi in spans]
    if not flat:
        return
    dialect = session.get_bind().dialect.name
    connection = session.connection()
    for chunk in range(0, len(flat), 5000):
        params = _bind(dialect, flat[chunk:chunk + 5000])
        for sql in _statements(dialect):
            connection.execute(text(sql), params)


def rebuild(session: Session) -> int:
    """The rollup rows of every day that holds raw points, recomputed from them (days
    already pruned keep their rows: nothing is left to recompute them from); returns how
    many rollup rows there are."""
    connection = session.connection()
    spans = connection.execute(
        select(s.SeriesPoint.series_id, func.min(s.SeriesPoint.ts), func.max(s.SeriesPoint.ts))
        .group_by(s.SeriesPoint.series_id)
    ).tuples()
    refresh(session, {sid: [(day_start(first), day_start(last) + DAY)]
                      for sid, first, last in spans})
    return int(connection.execute(select(func.count()).select_from(s.PointRollup)).scalar_one())


def day_start(ts: datetime) -> datetime:
    """Midnight UTC of the day holding `ts`."""
    return datetime.combine(ts.astimezone(UTC).date(), time(), tzinfo=UTC)


def horizon(now: datetime, keep: timedelta) -> datetime:
    """Where retention cuts: the start of the UTC day holding `now - keep`, so a day is
    pruned whole and its day row stands for all of it."""
    return day_start(now - keep)


def prune(session: Session, before: datetime) -> int:
    """Delete the raw points older than `before` (a day start) whose day has a rollup row
    (a day of NaN alone has none and stays); returns how many were deleted."""
    dialect = session.get_bind().dialect.name
    day = _DAY[dialect].format(ts="point.ts")
    stmt = text(
        f"DELETE FROM point WHERE ts < :before AND EXISTS (SELECT 1 FROM point_rollup d "
        f"WHERE d.series_id = point.series_id AND d.grain = 'day' AND d.bucket = {day})"
    ).bindparams(bindparam("before", type_=s.UTCDateTime()))
    result = session.connection().execute(stmt, {"before": before})
    return max(int(result.rowcount or 0), 0)
