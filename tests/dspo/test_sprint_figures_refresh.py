"""Collecting stores each product's closed-sprint figures: `dspo collect` once and the
`--loop` scheduler after each run, on a files source with one closed sprint."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pandas as pd

from config.schema import DspoConfig
from config.sources.files import FilesSource
from dspo.collecting import collect_all
from dspo.scheduler import Scheduler
from store.db import Store
from store.sprint_figures import valid_sprint_figures

# Sprint 7, 2 to 13 Mar 2026, closed. A-1 (3 pts) and A-2 (5 pts) in it from before the
# start; A-1 done on 5 Mar, A-2 never. commitment 3 + 5 = 8; completed 3; carried A-2 5,
# left in the closed sprint (no move recorded): stayed 5.
ITEMS = (
    "key,title,type,status,status_category,points,sprint,created,resolved\n"
    "A-1,First,Story,Done,done,3,7,2026-02-01T10:00:00Z,2026-03-05T10:00:00Z\n"
    "A-2,Second,Story,To Do,todo,5,7,2026-02-01T10:00:00Z,\n"
)
SPRINTS = (
    "external_id,name,state,start,end,completed\n"
    "7,Sprint 7,closed,2026-03-02T09:00:00Z,2026-03-13T17:00:00Z,2026-03-13T17:00:00Z\n"
)


def _source(tmp_path: Path) -> FilesSource:
    (tmp_path / "items.csv").write_text(ITEMS)
    (tmp_path / "sprints.csv").write_text(SPRINTS)
    return FilesSource(name="backlog", kind="files", product="p", items=tmp_path / "items.csv",
                       sprints=tmp_path / "sprints.csv", interval=timedelta(seconds=1))


def _stored(store: Store) -> list[tuple[object, ...]]:
    frame = valid_sprint_figures(store, "p")
    columns = ["external_id", "commitment", "completed", "carry_points", "stayed"]
    return [tuple(row) for row in frame[columns].itertuples(index=False)]


def test_the_scheduler_stores_figures_after_a_run(store: Store, tmp_path: Path) -> None:
    cfg = DspoConfig.model_validate({"products": [{"key": "p", "name": "P"}]})
    scheduler = Scheduler(store, cfg.model_copy(update={"sources": [_source(tmp_path)]}))
    stop = threading.Event()
    timer = threading.Timer(60, stop.set)  # a broken scheduler must not hang the suite
    timer.start()
    try:
        scheduler.run(stop, max_cycles=1)
    finally:
        timer.cancel()
    assert _stored(store) == [("7", 8.0, 3.0, 5.0, 5.0)]


def test_collect_stores_figures(tmp_path: Path) -> None:
    _source(tmp_path)
    url = f"sqlite:///{tmp_path / 'dspo.db'}"
    config = tmp_path / "dspo.yaml"
    config.write_text(f"store: {{url: '{url}'}}\nproducts: [{{key: p, name: P}}]\n"
                      "sources:\n- {name: backlog, kind: files, product: p, "
                      "items: items.csv, sprints: sprints.csv}\n")
    store = Store(url)
    try:
        store.upgrade()
        assert collect_all(config) == 0
        assert _stored(store) == [("7", 8.0, 3.0, 5.0, 5.0)]
        assert valid_sprint_figures(store, "p")["closed_at"].tolist() == [
            pd.Timestamp("2026-03-13T17:00", tz="UTC")]
    finally:
        store.dispose()
