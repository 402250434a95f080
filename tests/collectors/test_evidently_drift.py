"""The Evidently collector on real reports over seeded frames (see drift_data.py's story)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from drift_data import (
    COMPARED,
    DRIFTED,
    WEEK_ENDS,
    current_frame,
    legacy_report_json,
    reference_frame,
    week,
)

from collectors.base import FatalSourceError
from collectors.evidently_drift import EvidentlyCollector, first_start, windows
from collectors.evidently_reports import ReportFormatError, is_drifted, summarize
from collectors.frames import FrameError, load_frame
from config.schema import EvidentlySource, FileFrame
from store.records import DataQuality, DriftReport, Point, Record

UNTIL = datetime(2026, 12, 1, 12, tzinfo=UTC)  # a Tuesday: the week ending 12-07 is incomplete
SHARES = [0.0, 0.0, 0.4, 0.6]


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def no_telemetry() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DO_NOT_TRACK", "1")
        yield


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("drift")
    reference_frame().to_csv(folder / "reference.csv", index=False)
    current_frame().to_csv(folder / "current.csv", index=False)
    return folder


def source(data_dir: Path, reports: Path, **overrides: Any) -> EvidentlySource:
    dataset = {
        "name": "orders",
        "model": "churn",
        "reference": {"path": str(data_dir / "reference.csv")},
        "current": {"path": str(data_dir / "current.csv")},
        **overrides.pop("dataset", {}),
    }
    return EvidentlySource(
        name="drift", product="shop", kind="evidently", reports_dir=reports,
        datasets=[dataset], **overrides,
    )  # fmt: skip


def of(records: list[Record], kind: type) -> list[Any]:
    return [r for r in records if isinstance(r, kind)]


@pytest.fixture(scope="module")
def full_run(data_dir: Path) -> tuple[list[Record], Path]:
    reports = data_dir / "reports"
    return list(EvidentlyCollector(source(data_dir, reports)).collect(None, UNTIL)), reports


# ---------------------------------------------------------------- windows (pure)


@pytest.mark.parametrize(
    ("first", "until", "since", "days", "ends"),
    [
        ("2026-11-03 10:00", "2026-12-01 12:00", None, 7,
         ["2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]),
        ("2026-11-03 10:00", "2026-12-01 12:00", "2026-11-20 08:00", 7,
         ["2026-11-23", "2026-11-30"]),
        ("2026-11-03 10:00", "2026-12-01 12:00", "2026-11-23 00:00", 7, ["2026-11-30"]),
        ("2026-11-03 10:00", "2026-11-30 00:00", None, 7,
         ["2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]),
        ("2026-11-03 10:00", "2026-11-29 23:59", "2026-11-23 00:00", 7, []),
        ("2026-11-29 23:00", "2026-12-01 05:00", None, 1, ["2026-11-30", "2026-12-01"]),
    ],
    ids=["all-complete-weeks", "since-mid-week", "since-on-boundary", "until-on-boundary",
         "nothing-complete-yet", "daily"],
)  # fmt: skip
def test_windows_are_complete_days_on_a_fixed_grid(
    first: str, until: str, since: str | None, days: int, ends: list[str]
) -> None:
    got = windows(t(first), t(until), t(since) if since else None, days)
    assert [end for _, end in got] == [t(e) for e in ends]
    assert all(end - start == timedelta(days=days) for start, end in got)


def test_first_start_is_the_start_of_the_window_holding_since() -> None:
    assert first_start(t("2026-11-20 08:00"), 7) == t("2026-11-16")
    assert first_start(t("2026-11-23 00:00"), 7) == t("2026-11-23")


# ---------------------------------------------------------------- computed reports


def test_one_report_per_complete_week_with_rows(full_run: tuple[list[Record], Path]) -> None:
    reports = of(full_run[0], DriftReport)
    assert [(r.window_start, r.window_end) for r in reports] == [
        (end - timedelta(days=7), end) for end in WEEK_ENDS
    ]
    assert {(r.product, r.dataset, r.model) for r in reports} == {("shop", "orders", "churn")}
    assert all(r.computed_at == UNTIL for r in reports)


@pytest.mark.parametrize("week_no", range(4), ids=[f"week-{i + 1}" for i in range(4)])
def test_shifted_columns_drift_and_the_others_do_not(
    full_run: tuple[list[Record], Path], week_no: int
) -> None:
    report = of(full_run[0], DriftReport)[week_no]
    features = {f.column: f for f in report.features}
    assert sorted(features) == COMPARED  # shared columns only: not ts, extra or retired
    assert {c for c, f in features.items() if f.drifted} == DRIFTED[week_no]
    assert report.drifted_count == len(DRIFTED[week_no])
    assert report.column_count == 5
    assert report.drifted_share == pytest.approx(SHARES[week_no])
    assert report.dataset_drift is (SHARES[week_no] >= 0.5)
    assert {c: f.method for c, f in features.items()} == {
        "a": "K-S p_value", "b": "K-S p_value", "e": "K-S p_value",
        "c": "chi-square p_value", "d": "chi-square p_value",
    }  # fmt: skip
    for f in features.values():
        assert f.threshold == 0.05
        assert f.drifted is (f.score < f.threshold)  # p-values: drifted below the threshold


def test_data_quality_per_window(full_run: tuple[list[Record], Path]) -> None:
    quality = of(full_run[0], DataQuality)
    assert [q.ts for q in quality] == WEEK_ENDS
    assert [q.rows for q in quality] == [300, 300, 300, 300]
    assert {q.columns for q in quality} == {6}  # a..e plus extra
    assert [q.missing_share for q in quality] == pytest.approx([0, 30 / 1800, 0, 0])
    assert {q.schema_changes for q in quality} == {("added: extra", "removed: retired")}


def test_drift_and_quality_are_stored_once(full_run: tuple[list[Record], Path]) -> None:
    """A report's drifted share and a window's quality live in their own records only: no
    copy in the points table for a page or a rule to read instead (one query path)."""
    assert of(full_run[0], Point) == []
    reports = of(full_run[0], DriftReport)
    assert [(x.window_end, x.drifted_share) for x in reports] == [
        (end, pytest.approx(s)) for end, s in zip(WEEK_ENDS, SHARES, strict=True)
    ]
    assert [q.rows for q in of(full_run[0], DataQuality)] == [300] * 4


def test_saved_snapshot_reloads_in_evidently(full_run: tuple[list[Record], Path]) -> None:
    from evidently.core.report import Snapshot

    records, reports = full_run
    report = of(records, DriftReport)[2]
    path = reports / "shop" / "orders" / "2026-11-23.json"
    assert report.report_path == str(path)
    assert sorted(p.name for p in path.parent.iterdir()) == [
        f"{end:%Y-%m-%d}.json" for end in WEEK_ENDS
    ]  # no HTML unless asked, no leftover temporary files
    snapshot = Snapshot.load(str(path))
    metrics = snapshot.dict()["metrics"]
    assert metrics[0]["value"] == {"count": 2.0, "share": 0.4}
    saved = json.loads(path.read_text())
    assert saved["metadata"]["dataset"] == "orders"
    assert saved["metadata"]["window_end"] == "2026-11-23T00:00:00+00:00"


def test_since_limits_windows_and_html_is_kept(data_dir: Path, tmp_path: Path) -> None:
    settings = source(data_dir, tmp_path / "reports", save_html=True)
    records = list(EvidentlyCollector(settings).collect(t("2026-11-23 00:00"), UNTIL))
    [report] = of(records, DriftReport)
    assert report.window_end == t("2026-11-30")
    assert {f.column for f in report.features if f.drifted} == {"a", "c", "e"}
    html = tmp_path / "reports" / "shop" / "orders" / "2026-11-30.html"
    assert html.stat().st_size > 10_000


def test_columns_restrict_the_comparison(data_dir: Path, tmp_path: Path) -> None:
    settings = source(data_dir, tmp_path, dataset={"columns": ["a", "b"]})
    records = list(EvidentlyCollector(settings).collect(t("2026-11-22 00:00"), UNTIL))
    third, _ = of(records, DriftReport)
    assert [f.column for f in third.features] == ["a", "b"]
    assert (third.drifted_count, third.drifted_share, third.dataset_drift) == (1, 0.5, True)


def test_current_rows_from_a_sqlite_query_bound_to_the_window(
    data_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "product.db"
    with sqlite3.connect(db) as conn:
        current_frame().to_sql("events", conn, index=False)
    query = "SELECT * FROM events WHERE datetime(ts) >= :since AND datetime(ts) < :until"
    settings = source(
        data_dir, tmp_path / "r", dataset={"current": {"url": f"sqlite:///{db}", "query": query}}
    )
    records = list(EvidentlyCollector(settings).collect(t("2026-11-20 00:00"), UNTIL))
    assert [r.window_end for r in of(records, DriftReport)] == WEEK_ENDS[2:]
    assert [q.rows for q in of(records, DataQuality)] == [300, 300]


def test_missing_timestamp_column_fails_naming_dataset(data_dir: Path, tmp_path: Path) -> None:
    settings = source(data_dir, tmp_path, dataset={"timestamp_column": "event_time"})
    with pytest.raises(FatalSourceError, match=r"'orders'.*no column 'event_time'"):
        list(EvidentlyCollector(settings).collect(None, UNTIL))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_load_frame_reads_files_and_names_the_missing_one(tmp_path: Path, suffix: str) -> None:
    frame = reference_frame()
    path = tmp_path / f"reference{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    loaded = load_frame(FileFrame(path=path))
    pd.testing.assert_frame_equal(loaded, frame, check_dtype=False)
    with pytest.raises(FrameError, match=re.escape(f"{tmp_path / 'gone'}{suffix}: no such file")):
        load_frame(FileFrame(path=tmp_path / f"gone{suffix}"))


# ---------------------------------------------------------------- imported reports


def importer(folder: Path, tmp_path: Path) -> EvidentlyCollector:
    return EvidentlyCollector(
        EvidentlySource(
            name="imports",
            product="shop",
            kind="evidently",
            reports_dir=tmp_path / "r",
            import_dirs=[folder],
        )
    )


def v07_snapshot(current: pd.DataFrame, **report_args: Any) -> Any:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    preset = DataDriftPreset(**report_args.pop("preset", {}))
    return Report([preset], **report_args).run(
        current_data=current, reference_data=reference_frame()[COMPARED]
    )


def test_imports_a_legacy_report_named_by_convention(tmp_path: Path) -> None:
    folder = tmp_path / "imports"
    folder.mkdir()
    current = week(current_frame(), WEEK_ENDS[2])
    path = folder / "orders__2026-11-16__2026-11-23.json"
    path.write_text(legacy_report_json(reference_frame(), current))
    [report] = list(importer(folder, tmp_path).collect(None, UNTIL))
    assert isinstance(report, DriftReport)
    assert (report.dataset, report.window_start, report.window_end) == (
        "orders", t("2026-11-16"), t("2026-11-23"),
    )  # fmt: skip
    assert {f.column for f in report.features if f.drifted} == {"a", "c"}
    assert (report.drifted_count, report.column_count, report.dataset_drift) == (2, 5, False)
    copy = Path(report.report_path or "")  # served from reports_dir, as computed ones are
    assert copy.parent == tmp_path / "r" / "shop" / "orders" / "imported"
    assert copy.read_bytes() == path.read_bytes()
    assert (report.drifted_share, report.window_end) == (0.4, t("2026-11-23"))


def test_imports_07_results_by_name_and_07_snapshots_by_metadata(tmp_path: Path) -> None:
    folder = tmp_path / "imports"
    (folder / "team").mkdir(parents=True)
    current = week(current_frame(), WEEK_ENDS[3])
    v07_snapshot(current).save_json(str(folder / "orders__2026-11-23__2026-11-30.json"))
    meta = {"dataset": "payments", "window_start": "2026-11-16", "window_end": "2026-11-23",
            "model": "fraud"}  # fmt: skip
    (folder / "team" / "nightly.json").write_text(v07_snapshot(current, metadata=meta).dumps())
    reports = of(list(importer(folder, tmp_path).collect(None, UNTIL)), DriftReport)
    by_dataset = {r.dataset: r for r in reports}
    assert set(by_dataset) == {"orders", "payments"}
    assert by_dataset["orders"].window_end == t("2026-11-30")
    assert by_dataset["payments"].window_end == t("2026-11-23")
    assert by_dataset["payments"].model == "fraud"
    for r in reports:  # no tests in these reports: verdicts come from the method rule
        assert {f.column for f in r.features if f.drifted} == {"a", "c", "e"}
        assert (r.drifted_share, r.dataset_drift) == (pytest.approx(0.6), True)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("broken.json", "{not json", "Expecting property name"),
        ("orders__2026-11-16__2026-11-23.json", '{"metrics": [{"config": {}}]}',
         "not a drift report"),
        ("nightly.json", None, "no dataset"),
        ("orders__2026-11-16__someday.json", None, "unparseable timestamp 'someday'"),
    ],
    ids=["not-json", "not-drift", "no-dataset", "bad-window"],
)  # fmt: skip
def test_malformed_report_fails_the_run_naming_the_file(
    tmp_path: Path, name: str, text: str | None, message: str
) -> None:
    folder = tmp_path / "imports"
    folder.mkdir()
    if text is None:  # a valid 0.7 results file whose identity cannot be found
        text = v07_snapshot(week(current_frame(), WEEK_ENDS[0])).json()
    (folder / name).write_text(text)
    with pytest.raises(FatalSourceError) as info:
        list(importer(folder, tmp_path).collect(None, UNTIL))
    assert f"report {folder / name}: " in str(info.value)
    assert message in str(info.value)


# ---------------------------------------------------------------- drift rule


@pytest.mark.parametrize(
    ("method", "score", "threshold", "drifted"),
    [
        ("K-S p_value", 0.01, 0.05, True),
        ("K-S p_value", 0.05, 0.05, True),  # Evidently's K-S test uses <=
        ("chi-square p_value", 0.05, 0.05, False),
        ("Z-test p_value", 0.2, 0.05, False),
        ("Wasserstein distance (normed)", 0.1, 0.1, True),
        ("PSI", 0.05, 0.1, False),
        ("psi", 0.3, 0.1, True),
        ("Jensen-Shannon distance", 0.2, 0.1, True),
        ("Energy-distance", 0.1, 0.1, False),  # strictly above
        ("my_custom p_value", 0.01, 0.05, True),
    ],
)
def test_drift_rule_per_method(method: str, score: float, threshold: float, drifted: bool) -> None:
    assert is_drifted(method, score, threshold) is drifted


def test_unknown_method_is_an_error_not_a_guess() -> None:
    with pytest.raises(ReportFormatError, match=r"unknown drift method .custom function 'f'"):
        is_drifted("custom function 'f'", 0.3, 0.1)


@pytest.mark.parametrize(
    "preset",
    [
        {"method": "psi"},
        {"method": "jensenshannon"},
        {"num_method": "wasserstein", "cat_method": "kl_div"},
        {"num_method": "ed", "cat_method": "hellinger"},
    ],
    ids=["psi", "jensenshannon", "wasserstein+kl_div", "energy+hellinger"],
)
def test_method_rule_agrees_with_evidently_own_verdicts(preset: dict[str, str]) -> None:
    current = week(current_frame(), WEEK_ENDS[3])
    snapshot = v07_snapshot(current, preset=preset, include_tests=True)
    results = snapshot.dict()
    with_tests = summarize(results)
    without = summarize({"metrics": results["metrics"], "tests": []})
    assert {f.method for f in without.features} <= set(preset.values())
    assert [f.drifted for f in without.features] == [f.drifted for f in with_tests.features]
    assert {f.column for f in with_tests.features if f.drifted} >= {"a", "c"}
    assert without.dataset_drift == with_tests.dataset_drift
