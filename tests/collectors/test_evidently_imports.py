"""Imported Evidently reports are recognised by content, not by file modification time:
copies that keep an old mtime import, re-runs import nothing twice, a run that failed to
commit is caught up, and reports hold drift, data quality or both (see drift_data.py)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from drift_data import COMPARED, WEEK_ENDS, current_frame, legacy_report_json, reference_frame, week

from collectors.evidently_drift import EvidentlyCollector
from collectors.runner import run_sources
from config.schema import EvidentlySource
from store import queries
from store.db import Store
from store.records import DataQuality, DriftReport, Record

T0, T1, T2, T3 = (datetime(2026, 12, 1, h, tzinfo=UTC) for h in (8, 9, 10, 11))
OLD = (WEEK_ENDS[0] - timedelta(days=60)).timestamp()  # an mtime long before any run


@pytest.fixture(scope="module", autouse=True)
def no_telemetry() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DO_NOT_TRACK", "1")
        yield


@pytest.fixture(scope="module")
def legacy_text() -> str:
    return legacy_report_json(reference_frame(), week(current_frame(), WEEK_ENDS[2]))


def importer(tmp_path: Path) -> EvidentlySource:
    return EvidentlySource(name="imports", product="shop", kind="evidently",
                           reports_dir=tmp_path / "reports", import_dirs=[tmp_path / "in"])


def collect(settings: EvidentlySource, since: datetime | None, until: datetime) -> list[Record]:
    return list(EvidentlyCollector(settings).collect(since, until))


def reports(records: list[Record]) -> list[str]:
    return sorted(r.dataset for r in records if isinstance(r, DriftReport))


def place(folder: Path, name: str, text: str, *, mtime: float = OLD) -> Path:
    """Write a report elsewhere, age it, and copy it in as `cp -p` / `rsync -a` would."""
    outside = folder.parent / "outside" / name
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_text(text)
    os.utime(outside, (mtime, mtime))
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(outside, folder / name))


def test_a_copy_with_its_old_mtime_imports_and_nothing_imports_twice(
    tmp_path: Path, store: Store, legacy_text: str
) -> None:
    settings = importer(tmp_path)
    place(tmp_path / "in", "orders__2026-11-16__2026-11-23.json", legacy_text)
    [first] = run_sources(store, [settings])
    assert first.ok and first.rows > 0, first.error
    copied = place(tmp_path / "in", "payments__2026-11-16__2026-11-23.json", legacy_text)
    assert copied.stat().st_mtime == OLD  # older than the watermark the first run left
    [second] = run_sources(store, [settings])
    assert second.ok and second.records == 1, second.error  # its report
    assert sorted(queries.drift_reports(store, "shop")["dataset"]) == ["orders", "payments"]
    [third] = run_sources(store, [settings])
    assert (third.ok, third.rows, third.records) == (True, 0, 0)
    # A report deleted from the folder is not a deleted measurement: it stays.
    copied.unlink()
    [fourth] = run_sources(store, [settings])
    assert (fourth.ok, fourth.rows) == (True, 0)
    assert sorted(queries.drift_reports(store, "shop")["dataset"]) == ["orders", "payments"]


def test_a_run_whose_records_were_not_committed_is_caught_up(
    tmp_path: Path, legacy_text: str
) -> None:
    settings = importer(tmp_path)
    (tmp_path / "in").mkdir()
    assert collect(settings, None, T0) == []  # committed: the watermark is T0
    place(tmp_path / "in", "orders__2026-11-16__2026-11-23.json", legacy_text)
    assert reports(collect(settings, T0, T1)) == ["orders"]  # ...but this run failed to write
    assert reports(collect(settings, T0, T2)) == ["orders"]  # so the next run yields it again
    assert collect(settings, T2, T3) == []  # once committed, never again


def test_a_scheduler_with_a_clock_behind_the_watermark_still_catches_up(
    tmp_path: Path, legacy_text: str
) -> None:
    settings = importer(tmp_path)
    place(tmp_path / "in", "orders__2026-11-16__2026-11-23.json", legacy_text)
    # Another machine committed a run at T2; this one's clock says T1 and its run fails.
    assert reports(collect(settings, T2, T1)) == ["orders"]
    assert reports(collect(settings, T2, T3)) == ["orders"]  # not taken as committed


def test_changed_content_reimports_even_with_the_same_mtime(
    tmp_path: Path, legacy_text: str
) -> None:
    settings = importer(tmp_path)
    path = place(tmp_path / "in", "orders__2026-11-16__2026-11-23.json", legacy_text)
    [before] = [r for r in collect(settings, None, T0) if isinstance(r, DriftReport)]
    assert before.drifted_share == pytest.approx(0.4)
    data = json.loads(legacy_text)
    for metric in data["metrics"]:  # DatasetDriftMetric and DataDriftTable
        metric["result"]["share_of_drifted_columns"] = 0.8
    path.write_text(json.dumps(data))
    os.utime(path, (OLD, OLD))
    [after] = [r for r in collect(settings, T0, T1) if isinstance(r, DriftReport)]
    assert after.drifted_share == pytest.approx(0.8)
    assert Path(after.report_path or "").read_bytes() == path.read_bytes()


def test_a_lost_ledger_reads_everything_again_and_writes_nothing(
    tmp_path: Path, store: Store, legacy_text: str
) -> None:
    settings = importer(tmp_path)
    place(tmp_path / "in", "orders__2026-11-16__2026-11-23.json", legacy_text)
    assert run_sources(store, [settings])[0].ok
    ledger = tmp_path / "reports" / ".dspo" / "imports-imports.json"
    assert json.loads(ledger.read_text())["version"] == 1
    ledger.unlink()
    [again] = run_sources(store, [settings])
    assert (again.ok, again.records, again.rows) == (True, 1, 0)  # the report, again


# ---------------------------------------------------------------- report shapes


def v07(end: datetime, presets: list[Any], **report_args: Any) -> Any:
    from evidently import Report

    return Report(presets, **report_args).run(
        current_data=week(current_frame(), end), reference_data=reference_frame()[COMPARED],
        timestamp=end.replace(tzinfo=None),
    )


def test_a_data_quality_report_imports_as_data_quality(tmp_path: Path) -> None:
    from evidently.presets import DataSummaryPreset

    folder = tmp_path / "in"
    folder.mkdir()
    v07(WEEK_ENDS[1], [DataSummaryPreset()]).save_json(
        str(folder / "orders__2026-11-09__2026-11-16.json")
    )
    [quality] = collect(importer(tmp_path), None, T0)[:1]
    assert isinstance(quality, DataQuality)
    assert (quality.dataset, quality.ts, quality.rows, quality.columns) == (
        "orders", WEEK_ENDS[1], 300, 5,
    )  # fmt: skip
    assert quality.missing_share == pytest.approx(30 / 1500)  # 30 missing `b` cells


def test_a_legacy_snapshot_imports_with_its_metadata(tmp_path: Path) -> None:
    from evidently.legacy.metric_preset import DataDriftPreset
    from evidently.legacy.report import Report

    folder = tmp_path / "in"
    folder.mkdir()
    report = Report(metrics=[DataDriftPreset()], timestamp=datetime(2026, 11, 30),  # noqa: DTZ001
                    metadata={"dataset": "orders", "model": "churn"})
    report.run(reference_data=reference_frame()[COMPARED],
               current_data=week(current_frame(), WEEK_ENDS[3]))
    report.save(str(folder / "nightly.json"))  # a legacy snapshot: {"suite": {...}}
    [drift] = [r for r in collect(importer(tmp_path), None, T0) if isinstance(r, DriftReport)]
    assert (drift.dataset, drift.model, drift.window_end) == ("orders", "churn", WEEK_ENDS[3])
    assert {f.column for f in drift.features if f.drifted} == {"a", "c", "e"}
