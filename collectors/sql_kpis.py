"""Usage KPIs (active users, requests, conversions...) from SQL against the product's database.

Each configured query returns columns `ts` and `value`, one row per point, and becomes the
usage series named after the query. Queries may bind `:since` and `:until` to read only
what changed: `since` is the previous run's watermark (1970-01-01 on a first run) and
`until` the run's start. On SQLite they are bound as UTC text 'YYYY-MM-DD HH:MM:SS' (how
SQLAlchemy and SQLite's datetime() store times; compare with `datetime(ts) >= :since` if
the column holds ISO text with a 'T'); elsewhere as timezone-aware datetimes. A query that
ignores them re-reads everything each run, which is safe: points are upserted by (series,
ts). The rows a query returns are taken as they are, including points at or after `until`.

Naive `ts` values are taken as UTC. A row with an empty `value` is skipped (no measurement);
a non-numeric value or an unparseable or empty `ts` fails the run, naming the query. The
database is opened read-only (see `collectors.frames`); an unreachable database is a
retriable error, a failing query a fatal one. Each query may run for `read_timeout` (capped
at what is left of the run's deadline) before the database cancels it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd

from collectors.base import Collector
from collectors.frames import FrameError, masked_url, read_sql
from config.schema import SqlKpiQuery, SqlKpisSource
from store.records import Point, Record, SeriesKind

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SqlKpisCollector(Collector[SqlKpisSource]):
    kind = "sql_kpis"

    @property
    def where(self) -> str:
        return masked_url(self.settings.url)

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        params = {"since": since or EPOCH, "until": until}
        for query in self.settings.queries:
            limits = self.settings
            try:
                frame = read_sql(
                    self.settings.url, query.sql, params=params,
                    timeout=self.deadline.cap(limits.read_timeout.total_seconds()),
                    connect_timeout=self.deadline.cap(limits.connect_timeout.total_seconds()),
                )
            except FrameError as e:
                raise self.fail(f"query {query.name!r}: {e.problem}", retriable=e.retriable) from e
            yield from self._points(query, frame)

    def _points(self, query: SqlKpiQuery, frame: pd.DataFrame) -> Iterator[Point]:
        missing = [c for c in ("ts", "value") if c not in frame.columns]
        if missing:
            raise self.fail(
                f"query {query.name!r} returned no column {' or '.join(missing)} "
                f"(columns: {', '.join(map(str, frame.columns)) or 'none'}); "
                "alias them: SELECT ... AS ts, ... AS value"
            )
        frame = frame[frame["value"].notna()]
        if frame.empty:
            return
        if pd.api.types.is_numeric_dtype(frame["ts"]):
            raise self.fail(
                f"query {query.name!r}: ts holds numbers, not times; convert epoch values "
                "in SQL (e.g. datetime(ts, 'unixepoch') on SQLite)"
            )
        try:
            stamps = pd.to_datetime(frame["ts"], utc=True, format="mixed")
        except (ValueError, TypeError) as e:
            raise self.fail(f"query {query.name!r}: unparseable ts: {e}") from e
        values = pd.to_numeric(frame["value"], errors="coerce")
        bad = stamps.isna() | values.isna()
        if bad.any():
            at = frame.index[bad.to_numpy()][0]  # the result's own row order, from 0
            row = frame.loc[at]
            raise self.fail(
                f"query {query.name!r}: row {at + 1} has "
                f"ts={row['ts']!r} value={row['value']!r}: need a time and a number"
            )
        # One point per ts (last wins): a bulk upsert must not touch the same row twice.
        latest = dict(zip(stamps, values.astype(float), strict=True))
        for ts, value in latest.items():
            yield Point(
                self.product,
                SeriesKind.USAGE,
                query.name,
                ts.to_pydatetime(),
                value,
                labels={},
                unit=query.unit,
            )
