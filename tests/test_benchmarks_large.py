"""The large-store benchmark writes what it says it writes, and counts traces right.

The benchmark's figures are only worth something if the store holds the records its
docstring promises; these checks run it at a tiny scale and count rows by hand.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from sqlalchemy import func, select

from config.loader import load_config
from store import schema as s
from store.db import Store

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_tiny_store_holds_the_promised_records(tmp_path: Path) -> None:
    large_store = _module("large_store")
    url = f"sqlite:///{tmp_path / 'dspo.db'}"
    # scale 0.004: 2 steps per run, 20 runs per pipeline, 40 items per product
    tally = large_store.build(url, 0.004, seed=10)
    path = tmp_path / "dspo.yaml"
    path.write_text(large_store.config_text(url))
    config = load_config(path)

    store = Store(url)
    try:
        with store.session() as session:
            def count(table: type[s.Base]) -> int:
                return int(session.scalar(select(func.count()).select_from(table)) or 0)

            # 5 products x 10 models x 10 runs x 4 metrics x 2 steps, + 5 x 10 KPIs x 730 days
            assert count(s.SeriesPoint) == 4_000 + 36_500
            assert count(s.Model) == 50
            assert count(s.Run) == 500
            assert count(s.PipelineRun) == 5 * 4 * 20
            assert count(s.BacklogItem) == 5 * 40
            assert count(s.Sprint) == 5 * 50
            # stored like a collection stores them: every sprint but the last (active) one
            assert count(s.SprintFigures) == 5 * 49
            assert count(s.DriftReport) == 5 * 2 * 104
            assert count(s.DriftFeature) == 5 * 2 * 104 * 50
    finally:
        store.dispose()
    assert tally.records["Point"] == 40_500
    assert {p.key for p in config.products} == set(large_store.PRODUCTS)
    kinds = {o.kind for o in config.products[0].objectives}
    assert len(kinds) == 9  # one objective of every kind, so every page has something


def test_largest_trace_counts_points_and_bytes() -> None:
    large_pages = _module("large_pages")
    small = {"type": "scatter", "x": [1, 2], "y": [3, 4]}
    big = {"type": "scatter", "x": list(range(5)), "y": [0] * 5}
    answer = {"response": {"a": {"figure": {"data": [small, big], "layout": {}}},
                           "b": [{"data": [1, 2, 3]}]}}  # no layout: not a figure
    trace = large_pages.largest_trace(answer)
    assert trace.points == 5
    # '{"type":"scatter","x":[0,1,2,3,4],"y":[0,0,0,0,0]}'
    assert trace.bytes == 50
