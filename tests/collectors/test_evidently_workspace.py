"""Evidently UI workspaces read in place: a real Evidently 0.7 local workspace built with
`evidently.ui.workspace.Workspace`, snapshots computed on the seeded frames of drift_data.py
(drifted columns per week ending 11-16: none, 11-23: a and c, 11-30: a, c and e)."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import flask
import pytest
from drift_data import COMPARED, DRIFTED, WEEK_ENDS, current_frame, reference_frame, week

from collectors.base import FatalSourceError
from collectors.evidently_drift import EvidentlyCollector
from collectors.runner import run_sources
from config.reports import report_dirs, report_path_url
from config.schema import DspoConfig, EvidentlySource
from dashboard.reports import register_reports
from store import queries
from store.db import Store
from store.records import DataQuality, DriftReport, Point, Record

UNTIL = datetime(2026, 12, 1, 12, tzinfo=UTC)
CHURN = "churn-monitoring"  # the slug of the project name "Churn monitoring"
WEEKS = WEEK_ENDS[1:]  # the churn project has one snapshot per week ending 11-16, 11-23, 11-30


@pytest.fixture(scope="module", autouse=True)
def no_telemetry() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DO_NOT_TRACK", "1")
        yield


def snapshot(end: datetime, *, quality: bool = True, **report_args: Any) -> Any:
    """A real 0.7 report over the week ending at `end`, stamped naively (as Evidently
    keeps times) with the week's end."""
    from evidently import Report
    from evidently.presets import DataDriftPreset, DataSummaryPreset

    metrics = [DataDriftPreset(), *([DataSummaryPreset()] if quality else [])]
    return Report(metrics, **report_args).run(
        current_data=week(current_frame(), end),
        reference_data=reference_frame()[COMPARED],
        timestamp=end.replace(tzinfo=None),
    )


@dataclass(frozen=True)
class Built:
    root: Path
    churn_id: str
    orders_id: str
    weekly: tuple[str, ...]  # snapshot ids of the churn project, by week
    other: str  # a churn snapshot with neither drift nor data quality


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    from evidently import Report
    from evidently.metrics import MeanValue
    from evidently.ui.workspace import Workspace

    root = tmp_path_factory.mktemp("evidently") / "workspace"
    ws = Workspace.create(str(root))
    churn = ws.create_project("Churn monitoring", description="weekly feature drift")
    weekly = []
    for i, end in enumerate(WEEKS):
        snap = snapshot(end, metadata={"model": "churn-clf"}, tags=["prod", "weekly"])
        ref = ws.add_run(churn.id, snap, name=f"week ending {end:%Y-%m-%d}", include_data=i == 0)
        weekly.append(str(ref.id))
    means = Report([MeanValue(column="a")]).run(
        current_data=week(current_frame(), WEEKS[0]), reference_data=None,
        timestamp=WEEKS[0].replace(tzinfo=None),
    )
    other = ws.add_run(churn.id, means)
    orders = ws.create_project("Orders")
    meta = {"dataset": "orders", "window_start": "2026-11-16", "window_end": "2026-11-23"}
    ws.add_run(orders.id, snapshot(WEEKS[1], quality=False, metadata=meta,
                                   tags=["dataset:ignored-when-metadata-says"]))
    return Built(root, str(churn.id), str(orders.id), tuple(weekly), str(other.id))


@pytest.fixture
def workspace(built: Built, tmp_path: Path) -> Path:
    """A private copy (tests add and delete snapshots); copytree keeps the files' mtimes."""
    return Path(shutil.copytree(built.root, tmp_path / "workspace"))


def source(tmp_path: Path, *workspaces: dict[str, Any], **overrides: Any) -> EvidentlySource:
    return EvidentlySource(name="ui", product="shop", kind="evidently",
                           reports_dir=tmp_path / "reports", workspaces=list(workspaces),
                           **overrides)  # fmt: skip


def collect(settings: EvidentlySource, since: datetime | None = None,
            until: datetime = UNTIL) -> list[Record]:  # fmt: skip
    return list(EvidentlyCollector(settings).collect(since, until))


def of(records: list[Record], kind: type) -> list[Any]:
    return [r for r in records if isinstance(r, kind)]


# ---------------------------------------------------------------- reading a workspace


def test_every_project_with_its_snapshots_own_times_and_metadata(
    workspace: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="collectors.evidently_workspace"):
        records = collect(source(tmp_path, {"path": str(workspace)}))
    reports = {(r.dataset, r.window_end): r for r in of(records, DriftReport)}
    assert sorted(reports) == [(CHURN, end) for end in WEEKS] + [("orders", WEEK_ENDS[2])]
    for i, end in enumerate(WEEKS):
        r = reports[(CHURN, end)]
        assert r.window_start == end  # a bare snapshot is a point in time
        assert r.model == "churn-clf"  # from the snapshot's metadata
        assert {f.column for f in r.features if f.drifted} == DRIFTED[i + 1]
        assert r.computed_at == end
    orders = reports[("orders", WEEK_ENDS[2])]
    assert (orders.window_start, orders.model) == (WEEK_ENDS[1], None)  # metadata window
    quality = {q.ts: q for q in of(records, DataQuality) if q.dataset == CHURN}
    assert sorted(quality) == list(WEEKS)
    # Week ending 11-16 has 30 missing `b` of 300 rows x 5 columns.
    assert (quality[WEEKS[0]].rows, quality[WEEKS[0]].columns) == (300, 5)
    assert quality[WEEKS[0]].missing_share == pytest.approx(30 / 1500)
    assert quality[WEEKS[1]].missing_share == 0.0
    assert of(records, Point) == []  # shares and quality are stored once, in their records
    assert "has no drift or data quality: skipped" in caplog.text


def test_evidently_itself_lists_the_runs_dspo_read(built: Built, tmp_path: Path) -> None:
    from evidently.ui.workspace import Workspace

    records = collect(source(tmp_path, {"path": str(built.root), "project": "Churn monitoring"}))
    read = {Path(r.report_path).stem for r in of(records, DriftReport)}
    listed = {str(i) for i in Workspace(str(built.root)).list_runs(built.churn_id)}
    assert read == listed - {built.other} == set(built.weekly)


@pytest.mark.parametrize("by", ["name", "id", "folder"])
def test_one_project_by_name_id_or_folder(built: Built, tmp_path: Path, by: str) -> None:
    entry = {
        "name": {"path": str(built.root), "project": "churn MONITORING"},
        "id": {"path": str(built.root), "project": built.churn_id},
        "folder": {"path": str(built.root / built.churn_id)},
    }[by]
    reports = of(collect(source(tmp_path, entry)), DriftReport)
    assert [(r.dataset, r.window_end) for r in reports] == [(CHURN, end) for end in WEEKS]


def test_dataset_and_model_of_the_entry_win(built: Built, tmp_path: Path) -> None:
    entry = {"path": str(built.root), "project": "Orders", "dataset": "orders-eu",
             "model": "orders-v2"}  # fmt: skip
    [report] = of(collect(source(tmp_path, entry)), DriftReport)
    assert (report.dataset, report.model) == ("orders-eu", "orders-v2")


def test_naive_snapshot_times_are_read_in_the_configured_zone(
    built: Built, tmp_path: Path
) -> None:
    settings = source(tmp_path, {"path": str(built.root), "project": built.churn_id},
                      timezone="Europe/Paris")  # fmt: skip
    ends = [r.window_end for r in of(collect(settings), DriftReport)]
    assert ends == [end - timedelta(hours=1) for end in WEEKS]  # Paris is UTC+1 in November


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"project": "Fraud"}, "has no project named or with id 'Fraud'"),
        ({"dataset": "all-in-one"}, "dataset 'all-in-one' for 2 projects would merge"),
        ({"path": "nowhere"}, "nowhere does not exist or is not a folder"),
    ],
    ids=["unknown-project", "dataset-without-project", "missing-folder"],
)
def test_a_bad_workspace_entry_fails_the_run_clearly(
    built: Built, tmp_path: Path, entry: dict[str, str], message: str
) -> None:
    settings = source(tmp_path, {"path": str(built.root), **entry})
    with pytest.raises(FatalSourceError, match=message):
        collect(settings)


def test_a_workspace_given_as_import_dir_says_where_it_belongs(
    built: Built, tmp_path: Path
) -> None:
    settings = EvidentlySource(name="ui", product="shop", kind="evidently",
                               reports_dir=tmp_path / "reports", import_dirs=[built.root])
    with pytest.raises(FatalSourceError, match="looks like an Evidently UI workspace: list it "
                                               "under workspaces"):
        collect(settings)


def test_folders_inside_reports_dir_are_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lies inside reports_dir"):
        source(tmp_path, {"path": str(tmp_path / "reports" / "ws")})


# ---------------------------------------------------------------- the full-report link


def test_the_full_report_link_serves_the_snapshot_as_json(
    workspace: Path, built: Built, tmp_path: Path
) -> None:
    settings = source(tmp_path, {"path": str(workspace), "project": "Orders"})
    [report] = of(collect(settings), DriftReport)
    config = DspoConfig(products=[{"key": "shop", "name": "Shop"}], sources=[settings])
    url = report_path_url(report_dirs(config), report.report_path)
    assert url is not None and url.startswith("/reports/ui/shop/orders/imported/")
    app = flask.Flask(__name__)
    register_reports(app, config)
    answer = app.test_client().get(url)
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"  # data for the browser, never a page
    [original] = (workspace / built.orders_id / "snapshots").glob("*.json")
    assert answer.data == original.read_bytes()
    assert json.loads(answer.data)["metadata"]["dataset"] == "orders"


# ---------------------------------------------------------------- through the store


def test_rerun_writes_nothing_and_new_snapshots_import_whatever_their_mtime(
    workspace: Path, built: Built, tmp_path: Path, store: Store
) -> None:
    settings = source(tmp_path, {"path": str(workspace)})
    [first] = run_sources(store, [settings])
    assert first.ok and first.rows > 0, first.error
    [again] = run_sources(store, [settings])
    assert (again.ok, again.rows, again.records) == (True, 0, 0)
    # A snapshot copied in from elsewhere with its old mtime (cp -p, rsync -a) is new content.
    late = tmp_path / "elsewhere" / "01a2a000-0000-7000-8000-000000000001.json"
    late.parent.mkdir()
    meta = {"dataset": "orders", "window_start": "2026-11-23", "window_end": "2026-11-30"}
    late.write_text(snapshot(WEEK_ENDS[3], quality=False, metadata=meta).dumps())
    old = (WEEK_ENDS[0] - timedelta(days=30)).timestamp()
    os.utime(late, (old, old))
    shutil.copy2(late, workspace / built.orders_id / "snapshots" / late.name)
    [third] = run_sources(store, [settings])
    assert third.ok and third.records == 1  # its DriftReport (the share is not copied)
    orders = queries.drift_reports(store, "shop", "orders")
    assert sorted(orders["window_end"].dt.strftime("%m-%d")) == ["11-23", "11-30"]
    # A snapshot deleted in Evidently keeps its measurement (and its copy) in dspo.
    (workspace / built.orders_id / "snapshots" / late.name).unlink()
    [fourth] = run_sources(store, [settings])
    assert (fourth.ok, fourth.rows) == (True, 0)
    assert len(queries.drift_reports(store, "shop", "orders")) == 2
    assert Path(queries.drift_reports(store, "shop", "orders")["report_path"].iloc[-1]).is_file()
