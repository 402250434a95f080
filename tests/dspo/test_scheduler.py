"""`dspo collect --loop`: sources on their own intervals, failures and stuck sources
isolated, alert rules evaluated after the sources of their product."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal

import pytest

from collectors.base import Collector
from collectors.runner import SourceResult, run_sources
from config.schema import DspoConfig
from config.sources import SourceBase
from config.sources.files import FilesSource
from config.sources.sql import SqlKpiQuery, SqlKpisSource
from dspo.scheduler import Scheduler
from store.db import Store
from store.records import Record

ITEMS = (
    "key,title,type,status,status_category,points,created\n"
    "A-1,First,Story,Done,done,3,2026-02-01T10:00:00Z\n"
)
RELEASE = threading.Event()


@pytest.fixture(autouse=True)
def _release() -> Iterator[None]:
    RELEASE.clear()
    yield
    RELEASE.set()


class StuckSource(SourceBase):
    collector: ClassVar[str | None] = f"{__name__}:StuckCollector"
    kind: Literal["stuck"] = "stuck"


class StuckCollector(Collector[StuckSource]):
    kind = "stuck"

    @property
    def where(self) -> str:
        return "nowhere:stuck"

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        RELEASE.wait(60)
        return iter(())


def config(tmp_path: Path, *sources: SourceBase, alerts: list[dict[str, object]] | None = None
           ) -> DspoConfig:
    cfg = DspoConfig.model_validate({
        "products": [{"key": "p", "name": "P"}, {"key": "q", "name": "Q"}],
        "alerts": alerts or [],
    })
    return cfg.model_copy(update={"sources": list(sources)})  # test kinds are not registered


def files(tmp_path: Path, name: str = "backlog", product: str = "p") -> FilesSource:
    items = tmp_path / f"{name}.csv"
    items.write_text(ITEMS)
    return FilesSource(name=name, kind="files", product=product, items=items,
                       interval=timedelta(seconds=1))


def broken(tmp_path: Path) -> SqlKpisSource:
    return SqlKpisSource(name="broken", kind="sql_kpis", product="q",
                         url=f"sqlite:///{tmp_path / 'missing' / 'x.db'}",
                         queries=[SqlKpiQuery(name="dau", sql="SELECT 1")],
                         interval=timedelta(seconds=1))


def run(scheduler: Scheduler, cycles: int) -> list[SourceResult]:
    results: list[SourceResult] = []
    scheduler.on_result = results.append
    stop = threading.Event()
    timer = threading.Timer(60, stop.set)  # a broken scheduler must not hang the suite
    timer.start()
    try:
        scheduler.run(stop, max_cycles=cycles)
    finally:
        timer.cancel()
    return results


def test_each_source_runs_again_and_a_failing_one_does_not_stop_the_other(
    store: Store, tmp_path: Path
) -> None:
    cfg = config(tmp_path, files(tmp_path), broken(tmp_path))
    results = run(Scheduler(store, cfg), cycles=4)
    runs = {name: [r.status for r in results if r.source == name] for name in ("backlog", "broken")}
    assert runs["backlog"][:2] == ["ok", "ok"]
    assert runs["broken"][:2] == ["failed", "failed"]


def test_a_stuck_source_does_not_hold_the_others(store: Store, tmp_path: Path) -> None:
    stuck = StuckSource(name="stuck", product="q", deadline=timedelta(seconds=4))
    cfg = config(tmp_path, files(tmp_path), stuck)
    results = run(Scheduler(store, cfg, parallel=2), cycles=3)
    assert [r.source for r in results] == ["backlog"] * 3  # three runs while stuck hangs
    RELEASE.set()


def test_alert_rules_of_the_sources_product_are_evaluated_after_it(
    store: Store, tmp_path: Path
) -> None:
    rule = {"name": "dau-low", "product": "p", "backlog": {"title": "DAU low"},
            "condition": {"kind": "usage", "kpi": "dau", "op": "<", "threshold": 1}}
    other = rule | {"name": "other", "product": "q"}
    cfg = config(tmp_path, files(tmp_path), alerts=[rule, other])
    evaluated: list[list[str]] = []
    scheduler = Scheduler(store, cfg,
                          evaluate=lambda c, _now: evaluated.append([r.name for r in c.alerts]))
    run(scheduler, cycles=2)
    assert evaluated == [["dau-low"], ["dau-low"]]


def test_a_source_that_just_ran_is_not_due_until_its_interval(
    store: Store, tmp_path: Path
) -> None:
    source = files(tmp_path).model_copy(update={"interval": timedelta(hours=1)})
    run_sources(store, [source])
    scheduler = Scheduler(store, config(tmp_path, source))
    scheduler.plan()
    assert scheduler.due["backlog"] > datetime.now(UTC) + timedelta(minutes=59)
