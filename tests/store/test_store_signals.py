"""The one query path of health signals, on both backends: what each kind reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from config.signals import DriftSignal, UsageSignal
from kpis.signals import read_signal
from store import records as r
from store.db import Store
from store.signals import signal_frame
from store.writer import write_records

WEEK = timedelta(days=7)
T0 = datetime(2026, 3, 2, tzinfo=UTC)


def report(end: datetime, share: float, rows: int | None) -> list[r.Record]:
    drift = r.DriftReport("p", "features", end - WEEK, end, dataset_drift=share > 0.5,
                          drifted_share=share, drifted_count=round(share * 6), column_count=6)
    if rows is None:
        return [drift]
    return [drift, r.DataQuality("p", "features", end, rows=rows, columns=6, missing_share=0.0)]


def test_a_drift_report_carries_its_windows_row_count(store: Store) -> None:
    """The row count is the dataset's data quality at the window's end (written with the
    report); a report whose source gave none has none, and is judged anyway."""
    with store.session() as s:
        write_records(s, "drift", [*report(T0, 0.83, 70), *report(T0 + WEEK, 0.17, 1200),
                                   *report(T0 + 2 * WEEK, 0.5, None)])
    signal = DriftSignal(kind="drift", dataset="features")
    frame = signal_frame(store, "p", signal, as_of=T0 + 3 * WEEK)
    assert frame["drifted_share"].tolist() == [0.83, 0.17, 0.5]
    assert frame["rows"].tolist()[:2] == [70.0, 1200.0] and pd.isna(frame["rows"].iloc[2])
    first, second = (read_signal(signal, frame, as_of=T0 + k * WEEK)[0] for k in (0, 1))
    assert (first.value, first.insufficient) == (None, True)  # 70 rows < 200
    assert "insufficient data: 70 rows" in first.detail
    assert (second.value, second.insufficient) == (0.17, False)
    [third] = read_signal(signal, frame, as_of=T0 + 2 * WEEK)
    assert third.value == 0.5  # no row count known: not held against the report


def test_a_windowed_signal_reads_only_its_window_and_history(store: Store) -> None:
    points = [r.Point("p", r.SeriesKind.USAGE, "dau", T0 + d * timedelta(days=1), float(d))
              for d in range(60)]
    with store.session() as s:
        write_records(s, "usage", points)
    signal = UsageSignal(kind="usage", kpi="dau")  # 7-day mean by default
    at = T0 + timedelta(days=59)
    frame = signal_frame(store, "p", signal, as_of=at, history=timedelta(days=10))
    # the window (7 d) plus the history (10 d) plus a day of slack before `at`
    assert frame["ts"].min() > at - timedelta(days=19)
    # days 53..59 are in (at - 7d, at]: mean (53 + ... + 59) / 7 = 56
    assert read_signal(signal, frame, as_of=at)[0].value == 56.0
