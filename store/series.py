"""Reading numeric series: every chart, objective and rule reads series the same way.

A series is selected by product, kind, name and a label subset. Charts ask for at most
`max_points` per series: beyond that, points are downsampled in SQL by keeping the minimum
and the maximum of each time bucket (ARCHITECTURE.md, Performance), so spikes survive and
a response stays small. Latest values use the (series_id, ts, step) index with
`ORDER BY ts DESC LIMIT 1` per series, never an aggregate over all points.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    Interval,
    String,
    bindparam,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Session

from store import rollup_reads
from store import schema as s
from store.db import Store
from store.frames import frame, read
from store.records import SeriesKind
from store.upsert import batched

POINT_COLUMNS = ["ts", "value", "step", "series_id"]
POINT_DTYPES = {"value": "float64", "step": "int64", "series_id": "int64"}
RUN_POINT_COLUMNS = ["ts", "value", "step", "run_id"]
RUN_POINT_DTYPES = {"value": "float64", "step": "int64"}
_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite (text)

P, S, Pt = s.Product, s.Series, s.SeriesPoint


def _matching_series(
    session: Session, product: str, kind: str, name: str, labels: Mapping[str, str] | None
) -> dict[int, dict[str, str]]:
    """Ids and labels of the product's series of `kind`/`name` whose labels contain `labels`."""
    found = session.execute(
        select(S.id, S.labels)
        .join(P, P.id == S.product_id)
        .where(P.key == product, S.kind == str(kind), S.name == name)
        .order_by(S.id)
    ).tuples()
    wanted = dict(labels or {})
    return {
        sid: dict(have or {})
        for sid, have in found
        if all((have or {}).get(k) == v for k, v in wanted.items())
    }


def _in_range(stmt: Any, start: datetime | None, end: datetime | None) -> Any:
    if start is not None:
        stmt = stmt.where(Pt.ts >= start)
    if end is not None:
        stmt = stmt.where(Pt.ts <= end)
    return stmt


def _edges(lo: datetime, hi: datetime, buckets: int) -> tuple[timedelta, list[datetime]]:
    """Equal buckets [lo + k*width, lo + (k+1)*width) covering [lo, hi], k < `buckets`:
    whole microseconds (the stored precision), so every backend cuts at the same instants."""
    span_us = (hi - lo) // timedelta(microseconds=1) + 1
    width = timedelta(microseconds=-(-span_us // buckets))
    return width, [lo + k * width for k in range(buckets + 1)]


_SQLITE_EXTREMES = text(
    """
    WITH bucket(lo, hi) AS (
        SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(:edges)
    )
    SELECT ts, value, step FROM point WHERE id IN (
        SELECT (SELECT id FROM (SELECT min(value), id FROM point
                WHERE series_id = :sid AND ts >= bucket.lo AND ts < bucket.hi)) FROM bucket
        UNION
        SELECT (SELECT id FROM (SELECT max(value), id FROM point
                WHERE series_id = :sid AND ts >= bucket.lo AND ts < bucket.hi)) FROM bucket
    )
    """
).columns(ts=s.UTCDateTime(), value=Float(), step=Integer())
"""SQLite: per bucket, the point holding the min (and the max) value, found by an indexed
range read with a bare column (SQLite keeps the first row reaching the extreme, and the
(series_id, ts, step) index yields rows oldest first, so a tie goes to the oldest point).
A GROUP BY over a computed bucket would sort every point first (SQLite does not know the
bucket grows with ts); walking the buckets in order sorts nothing."""

_POSTGRES_EXTREMES = text(
    """
    WITH bucket AS (
        SELECT date_bin(:width, ts, :lo) AS b, min(value) AS low, max(value) AS high
        FROM point WHERE series_id = :sid AND ts >= :lo AND ts <= :hi GROUP BY 1
    )
    SELECT DISTINCT ON (bucket.b, point.value = bucket.low) point.ts, point.value, point.step
    FROM point JOIN bucket ON date_bin(:width, point.ts, :lo) = bucket.b
    WHERE point.series_id = :sid AND point.ts >= :lo AND point.ts <= :hi
      AND point.value IN (bucket.low, bucket.high)
    ORDER BY bucket.b, point.value = bucket.low, point.ts, point.step
    """
).columns(ts=s.UTCDateTime(), value=Float(), step=Integer()).bindparams(
    bindparam("width", type_=Interval()), bindparam("lo", type_=s.UTCDateTime()),
    bindparam("hi", type_=s.UTCDateTime()),
)
"""PostgreSQL: min and max per bucket in one hashed GROUP BY over `date_bin` (integer
arithmetic on the timestamps), then the oldest point holding each extreme."""


def _downsampled(session: Session, series_id: int, lo: datetime, hi: datetime,
                 max_points: int) -> list[tuple[Any, ...]]:
    """The min and max point of each of max_points // 2 equal time buckets over [lo, hi]
    (one point where they coincide; a tie goes to the oldest point)."""
    width, edges = _edges(lo, hi, max_points // 2)
    if session.get_bind().dialect.name == "sqlite":
        stamp = [e.astimezone(UTC).strftime(_SQLITE_TS) for e in edges]
        pairs = json.dumps([[a, b] for a, b in itertools.pairwise(stamp)])
        found = session.execute(_SQLITE_EXTREMES, {"edges": pairs, "sid": series_id})
    else:
        found = session.execute(_POSTGRES_EXTREMES, {"width": width, "lo": lo, "hi": hi,
                                                     "sid": series_id})
    return [(ts, value, step, series_id) for ts, value, step in found]


def _extremes(session: Session, sid: int, lo: datetime, hi: datetime, start: datetime | None,
              end: datetime | None, max_points: int) -> list[tuple[Any, ...]]:
    """`_downsampled`, but from hour or day rollups when its buckets would be that wide:
    the whole rollup buckets of the range, plus the min and max of the raw points in the
    part of an hour (or day) at each end of the range that a rollup would overstep."""
    grain = rollup_reads.chart_grain(lo, hi, max_points)
    if grain is not None:
        first, stop = rollup_reads.whole_buckets(lo, hi, start, end, grain)
        if first < stop:
            rows = rollup_reads.extremes(session, sid, grain, first, stop, max_points // 2 - 2)
            if lo < first:
                rows += _downsampled(session, sid, lo, first - rollup_reads.US, 2)
            if stop <= hi:
                rows += _downsampled(session, sid, stop, hi, 2)
            return rows
    return _downsampled(session, sid, lo, hi, max_points)


def _chart(session: Session, sid: int, start: datetime | None, end: datetime | None,
           max_points: int) -> tuple[list[tuple[Any, ...]], bool]:
    """A chart's rows of one series when it needs more than its raw points: the days
    retention pruned (from day rollups) and, over the budget left, the extremes of each
    bucket; ([], False) when its raw points in the range are the answer."""
    old, _ = rollup_reads.pruned_rows(session, sid, start, end, max_points)
    budget = max(2, max_points - len(old))
    over = _over_budget(session, [sid], start, end, budget)
    if not over:
        return old, False
    _, lo, hi = over[0]
    return old + _extremes(session, sid, lo, hi, start, end, budget), True


def _over_budget(session: Session, ids: list[int], start: datetime | None,
                 end: datetime | None, max_points: int) -> list[tuple[int, datetime, datetime]]:
    """(series id, first ts, last ts) in the range of each series with more than
    `max_points` points there. Counts stop at max_points + 1 and the ends come from the
    index, so a million-point series costs a few index probes, not a count of every point."""
    over = []
    for sid in ids:
        probe = _in_range(select(Pt.id).where(Pt.series_id == sid), start, end)
        count = session.execute(
            select(func.count()).select_from(probe.limit(max_points + 1).subquery())
        ).scalar_one()
        if count > max_points:
            ends = [session.execute(_in_range(select(Pt.ts).where(Pt.series_id == sid), start,
                                              end).order_by(order).limit(1)).scalar_one()
                    for order in (Pt.ts.asc(), Pt.ts.desc())]
            over.append((sid, ends[0], ends[1]))
    return over


def _raw_frame(session: Session, ids: list[int], start: datetime | None,
               end: datetime | None) -> pd.DataFrame:
    """[ts, value, step, series_id] of the series' points in the range, without per-row
    type processing (most of the time of a large read): timestamps come as the database
    gives them (SQLite's text) and are parsed in one vectorised call."""
    if session.get_bind().dialect.name == "sqlite":
        ts: Any = type_coerce(Pt.ts, String())
    else:
        ts = type_coerce(Pt.ts, DateTime(timezone=True))
    stmt = _in_range(select(ts.label("ts"), Pt.value, Pt.step, Pt.series_id)
                     .where(Pt.series_id.in_(ids)), start, end)
    return frame(session.connection().execute(stmt).all(), POINT_COLUMNS, ["ts"],
                 POINT_DTYPES)


def _joined(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The downsampled and the raw rows in one frame (pandas warns on concatenating an
    empty frame, so only non-empty ones are joined)."""
    full = [part for part in parts if len(part)]
    if len(full) > 1:
        return pd.concat(full, ignore_index=True)
    return full[0] if full else parts[0]


def series_points(
    store: Store,
    product: str,
    kind: str | SeriesKind,
    name: str,
    labels: Mapping[str, str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    max_points: int | None = None,
) -> pd.DataFrame:
    """Points of every matching series: [ts, value, step, series_id, labels].

    With `max_points`, a series with more points in the range is downsampled in SQL to the
    minimum and maximum of each time bucket (at most `max_points` points per series), from
    hour or day rollups when a bucket spans an hour or more; days whose raw points
    retention deleted are drawn from their day rollups. `attrs["downsampled"]` says
    whether any series was.
    """
    if max_points is not None and max_points < 2:
        raise ValueError("max_points must be at least 2 (a bucket keeps its min and max)")
    rows: list[tuple[Any, ...]] = []
    downsampled = False
    with store.session() as session:
        matched = _matching_series(session, product, str(kind), name, labels)
        ids = list(matched)
        for sid in list(ids) if max_points is not None else []:
            found, whole = _chart(session, sid, start, end, max_points or 0)
            rows += found
            downsampled |= bool(found)
            if whole:
                ids.remove(sid)
        parts = [frame(rows, POINT_COLUMNS, ["ts"], POINT_DTYPES)]
        if ids:
            parts.append(_raw_frame(session, ids, start, end))
    df = _joined(parts)
    df = df.sort_values(["series_id", "ts", "step"], ignore_index=True)
    df["labels"] = [matched[sid] for sid in df["series_id"]]
    df.attrs["downsampled"] = downsampled
    return df


def latest_point(
    store: Store,
    product: str,
    kind: str | SeriesKind,
    name: str,
    labels: Mapping[str, str] | None = None,
) -> tuple[datetime, float] | None:
    """(ts, value) of the newest point among the matching series; None when there is none."""
    newest: tuple[datetime, float] | None = None
    with store.session() as session:
        for sid in _matching_series(session, product, str(kind), name, labels):
            row = session.execute(
                select(Pt.ts, Pt.value)
                .where(Pt.series_id == sid)
                .order_by(Pt.ts.desc(), Pt.step.desc())
                .limit(1)
            ).first()
            if row is not None and (newest is None or row[0] > newest[0]):
                newest = (row[0], float(row[1]))
    return newest


def series_catalog(store: Store, product: str, kind: str | SeriesKind | None = None
                   ) -> pd.DataFrame:
    """Every series of a product (of one `kind` if given): [series_id, kind, name, labels,
    unit]."""
    stmt = (
        select(S.id, S.kind, S.name, S.labels, S.unit)
        .join(P, P.id == S.product_id)
        .where(P.key == product)
        .order_by(S.kind, S.name, S.labels_key)
    )
    if kind is not None:
        stmt = stmt.where(S.kind == str(kind))
    df = read(store, stmt, ["series_id", "kind", "name", "labels", "unit"])
    df["labels"] = [dict(x or {}) for x in df["labels"]]
    return df


def metric_names(store: Store, product: str, run_ids: Iterable[str]) -> list[str]:
    """Names of the model metrics the given runs logged, sorted: a DISTINCT over the series
    table (the run is a label), never a read of every series of the product."""
    run_label = S.labels["run_id"].as_string()
    names: set[str] = set()
    with store.session() as session:
        for chunk in batched(sorted(set(run_ids)), 1000):
            names.update(session.execute(
                select(S.name).distinct()
                .join(P, P.id == S.product_id)
                .where(P.key == product, S.kind == str(SeriesKind.MODEL_METRIC),
                       run_label.in_(chunk))
            ).scalars())
    return sorted(names)


def _version_series(session: Session, product: str, model: str, version: str, metric: str
                    ) -> dict[int, str]:
    """Series id -> run id of `metric` logged by the version's own run or by runs tagged
    with the model and version (evaluation runs)."""
    M, V, R = s.Model, s.ModelVersion, s.Run
    run_ids = set(session.execute(
        select(V.run_id).join(M, M.id == V.model_id).join(P, P.id == M.product_id)
        .where(P.key == product, M.name == model, V.version == version)
    ).scalars())
    run_ids |= set(session.execute(
        select(R.run_id).join(P, P.id == R.product_id)
        .where(P.key == product, R.model == model, R.model_version == version)
    ).scalars())
    run_ids.discard(None)
    matched = _matching_series(session, product, SeriesKind.MODEL_METRIC, metric, None)
    return {sid: lab["run_id"] for sid, lab in matched.items() if lab.get("run_id") in run_ids}


def model_metric_latest(store: Store, product: str, model: str, version: str, metric: str,
                        instants: Iterable[datetime]) -> pd.DataFrame:
    """The newest point at or before each instant of every series `model_metric_points`
    reads, as its frame: [ts, value, step, run_id], sorted by ts, without repeats.

    What a 'last value' reading at any of those instants needs, in one indexed
    `ORDER BY ts DESC LIMIT 1` per series and instant, whatever the series' length.
    """
    rows: set[tuple[Any, ...]] = set()
    with store.session() as session:
        series_runs = _version_series(session, product, model, version, metric)
        for sid, run_id in series_runs.items():
            for instant in set(instants):
                row = session.execute(
                    select(Pt.ts, Pt.value, Pt.step).where(Pt.series_id == sid, Pt.ts <= instant)
                    .order_by(Pt.ts.desc(), Pt.step.desc()).limit(1)
                ).first()
                if row is not None:
                    rows.add((*row, run_id))
    df = frame(sorted(rows, key=lambda row: (row[0], row[3], row[2])),
               ["ts", "value", "step", "run_id"], ["ts"], {"value": "float64", "step": "int64"})
    df.attrs["downsampled"] = False
    return df


def model_metric_tail(store: Store, product: str, model: str, version: str, metric: str,
                      at: datetime, n: int) -> pd.DataFrame:
    """The newest `n` points with a value (not NaN) at or before `at` of every series
    `model_metric_points` reads, as its frame: enough for 'the latest value and the mean
    of the last n' (`kpis.models.version_stats`) in one indexed LIMIT per series."""
    rows: list[tuple[Any, ...]] = []
    with store.session() as session:
        valid = (Pt.value.is_not(None) if session.get_bind().dialect.name == "sqlite"
                 else Pt.value != float("nan"))  # SQLite keeps no NaN; PostgreSQL's equals NaN
        for sid, run_id in _version_series(session, product, model, version, metric).items():
            newest = session.execute(
                select(Pt.ts, Pt.value, Pt.step).where(Pt.series_id == sid, Pt.ts <= at, valid)
                .order_by(Pt.ts.desc(), Pt.step.desc()).limit(n))
            rows += [(*row, run_id) for row in newest]
    df = frame(rows, RUN_POINT_COLUMNS, ["ts"], RUN_POINT_DTYPES)
    df = df.sort_values(["ts", "run_id", "step"], ignore_index=True)
    df.attrs["downsampled"] = False
    return df


def model_metric_points(
    store: Store,
    product: str,
    model: str,
    version: str,
    metric: str,
    max_points: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pd.DataFrame:
    """Points of `metric` logged by the version's own run, or by runs tagged with the
    model and version (evaluation runs): [ts, value, step, run_id], sorted by ts; only
    those in [start, end] when given.

    With `max_points`, a run's series with more points (a per-step training curve) is
    downsampled in SQL as `series_points` does; `attrs["downsampled"]` says whether any was.
    """
    if max_points is not None and max_points < 2:
        raise ValueError("max_points must be at least 2 (a bucket keeps its min and max)")
    with store.session() as session:
        series_runs = _version_series(session, product, model, version, metric)
        rows: list[tuple[Any, ...]] = []
        raw_ids = list(series_runs)
        downsampled = False
        for sid in list(raw_ids) if max_points is not None else []:
            picked, whole = _chart(session, sid, start, end, max_points or 0)
            rows += [(ts, v, st, series_runs[sid]) for ts, v, st, _ in picked]
            downsampled |= bool(picked)
            if whole:
                raw_ids.remove(sid)
        parts = [frame(rows, RUN_POINT_COLUMNS, ["ts"], RUN_POINT_DTYPES)]
        if raw_ids:
            raw = _raw_frame(session, raw_ids, start, end)
            raw["run_id"] = raw["series_id"].map(series_runs)
            parts.append(raw[RUN_POINT_COLUMNS])
    df = _joined(parts)
    df = df.sort_values(["ts", "run_id", "step"], ignore_index=True)
    df.attrs["downsampled"] = downsampled
    return df
