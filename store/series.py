"""Reading numeric series: every chart, objective and rule reads series the same way.

A series is selected by product, kind, name and a label subset. Charts ask for at most
`max_points` per series: beyond that, points are downsampled in SQL by keeping the minimum
and the maximum of each time bucket (ARCHITECTURE.md, Performance), so spikes survive and
a response stays small. Latest values use the (series_id, ts, step) index with
`ORDER BY ts DESC LIMIT 1` per series, never an aggregate over all points.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Integer, func, or_, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from store import schema as s
from store.db import Store
from store.frames import frame, read
from store.records import SeriesKind

POINT_COLUMNS = ["ts", "value", "step", "series_id"]
POINT_DTYPES = {"value": "float64", "step": "int64", "series_id": "int64"}
_MARGIN_S = 1e-3  # seconds; larger than SQLite's julianday rounding (~5e-5 s)
_JULIAN_UNIX_EPOCH = 2440587.5

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


def _epoch_seconds(session: Session) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(Pt.ts) - _JULIAN_UNIX_EPOCH) * 86400.0
    return func.extract("epoch", Pt.ts)


def _downsampled(
    session: Session,
    series_id: int,
    lo: datetime,
    hi: datetime,
    max_points: int,
    start: datetime | None,
    end: datetime | None,
) -> list[tuple[Any, ...]]:
    """The min and max point of each of max_points // 2 equal time buckets over [lo, hi]."""
    buckets = max_points // 2
    t0 = lo.timestamp() - _MARGIN_S
    width = ((hi - lo).total_seconds() + 2 * _MARGIN_S) / buckets
    offset = (_epoch_seconds(session) - t0) / width
    if session.get_bind().dialect.name == "sqlite":
        bucket: Any = sql_cast(offset, Integer)  # offset > 0, so truncation is floor
    else:
        bucket = func.floor(offset)
    ranked = _in_range(
        select(
            Pt.ts,
            Pt.value,
            Pt.step,
            func.row_number().over(partition_by=bucket, order_by=(Pt.value, Pt.ts)).label("lo"),
            func.row_number()
            .over(partition_by=bucket, order_by=(Pt.value.desc(), Pt.ts))
            .label("hi"),
        ).where(Pt.series_id == series_id),
        start,
        end,
    ).subquery()
    picked = select(ranked.c.ts, ranked.c.value, ranked.c.step).where(
        or_(ranked.c.lo == 1, ranked.c.hi == 1)
    )
    return [(ts, value, step, series_id) for ts, value, step in session.execute(picked)]


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
    minimum and maximum of each time bucket (at most `max_points` points per series);
    `attrs["downsampled"]` says whether any series was.
    """
    if max_points is not None and max_points < 2:
        raise ValueError("max_points must be at least 2 (a bucket keeps its min and max)")
    rows: list[tuple[Any, ...]] = []
    downsampled = False
    with store.session() as session:
        matched = _matching_series(session, product, str(kind), name, labels)
        ids = list(matched)
        if ids and max_points is not None:
            stats = session.execute(
                _in_range(
                    select(Pt.series_id, func.count(), func.min(Pt.ts), func.max(Pt.ts))
                    .where(Pt.series_id.in_(ids))
                    .group_by(Pt.series_id),
                    start,
                    end,
                )
            ).tuples()
            for sid, count, lo, hi in stats:
                if count > max_points:
                    rows += _downsampled(session, sid, lo, hi, max_points, start, end)
                    ids.remove(sid)
                    downsampled = True
        if ids:
            raw = _in_range(
                select(Pt.ts, Pt.value, Pt.step, Pt.series_id).where(Pt.series_id.in_(ids)),
                start,
                end,
            )
            rows += [tuple(row) for row in session.execute(raw)]
    df = frame(rows, POINT_COLUMNS, ["ts"], POINT_DTYPES)
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


def series_catalog(store: Store, product: str) -> pd.DataFrame:
    """Every series of a product: [series_id, kind, name, labels, unit]."""
    stmt = (
        select(S.id, S.kind, S.name, S.labels, S.unit)
        .join(P, P.id == S.product_id)
        .where(P.key == product)
        .order_by(S.kind, S.name, S.labels_key)
    )
    df = read(store, stmt, ["series_id", "kind", "name", "labels", "unit"])
    df["labels"] = [dict(x or {}) for x in df["labels"]]
    return df


def model_metric_points(
    store: Store,
    product: str,
    model: str,
    version: str,
    metric: str,
    max_points: int | None = None,
) -> pd.DataFrame:
    """Points of `metric` logged by the version's own run, or by runs tagged with the
    model and version (evaluation runs): [ts, value, step, run_id], sorted by ts.

    With `max_points`, a run's series with more points (a per-step training curve) is
    downsampled in SQL as `series_points` does; `attrs["downsampled"]` says whether any was.
    """
    if max_points is not None and max_points < 2:
        raise ValueError("max_points must be at least 2 (a bucket keeps its min and max)")
    M, V, R = s.Model, s.ModelVersion, s.Run
    with store.session() as session:
        run_ids = set(
            session.execute(
                select(V.run_id)
                .join(M, M.id == V.model_id)
                .join(P, P.id == M.product_id)
                .where(P.key == product, M.name == model, V.version == version)
            ).scalars()
        )
        run_ids |= set(
            session.execute(
                select(R.run_id)
                .join(P, P.id == R.product_id)
                .where(P.key == product, R.model == model, R.model_version == version)
            ).scalars()
        )
        run_ids.discard(None)
        matched = _matching_series(session, product, SeriesKind.MODEL_METRIC, metric, None)
        series_runs = {
            sid: lab["run_id"] for sid, lab in matched.items() if lab.get("run_id") in run_ids
        }
        rows: list[tuple[Any, ...]] = []
        raw_ids = list(series_runs)
        downsampled = False
        if raw_ids and max_points is not None:
            stats = session.execute(
                select(Pt.series_id, func.count(), func.min(Pt.ts), func.max(Pt.ts))
                .where(Pt.series_id.in_(raw_ids))
                .group_by(Pt.series_id)
            ).tuples()
            for sid, count, lo, hi in stats:
                if count > max_points:
                    picked = _downsampled(session, sid, lo, hi, max_points, None, None)
                    rows += [(ts, v, st, series_runs[sid]) for ts, v, st, _ in picked]
                    raw_ids.remove(sid)
                    downsampled = True
        if raw_ids:
            stmt = select(Pt.ts, Pt.value, Pt.step, Pt.series_id).where(Pt.series_id.in_(raw_ids))
            rows += [(ts, v, st, series_runs[sid]) for ts, v, st, sid in session.execute(stmt)]
    df = frame(
        rows, ["ts", "value", "step", "run_id"], ["ts"], {"value": "float64", "step": "int64"}
    )
    df = df.sort_values(["ts", "run_id", "step"], ignore_index=True)
    df.attrs["downsampled"] = downsampled
    return df
