"""The product map's service on the small world (tests/world/small.py), SQLite and
PostgreSQL: the parts, their counts and outlines worked out by hand from the story."""

from __future__ import annotations

import pytest
from world import small

from dashboard.figures.overview import STATUS_COLOURS
from dashboard.services.product_map import ProductMap, build_map
from kpis.health import Status
from store.db import Store

PRODUCT = small.product_config()


@pytest.fixture
def drawn(store: Store) -> ProductMap:
    small.seed(store)
    return build_map(store, PRODUCT, as_of=small.AS_OF)


def test_parts_counted_by_kind(drawn: ProductMap) -> None:
    # the product; model rec and its 3 versions; dataset shop-features; pipelines
    # shop-scoring and shop-training; usage KPIs dau and orders; epics E1 and E2 (both
    # have work items); ALERT-1, the one item an alert created
    assert drawn.counts == {"product": 1, "model": 1, "version": 3, "dataset": 1,
                            "pipeline": 2, "kpi": 2, "epic": 2, "alert": 1}


def test_epics_say_how_many_items_are_open(drawn: ProductMap) -> None:
    labels = {e["data"]["id"]: e["data"]["label"] for e in drawn.elements
              if e["data"].get("kind") == "epic"}
    # E1: SHOP-1, SHOP-7 done; SHOP-2 in progress, SHOP-3 to do -> 2 open. E2: SHOP-4
    # done, SHOP-5 to do -> 1 open. The source's title is the label's text, as is.
    assert labels == {"epic:SHOP-E1": "Checkout revamp (2 open)",
                      "epic:SHOP-E2": f"{small.HOSTILE} (1 open)"}


def test_parts_outlined_by_their_objective(drawn: ProductMap) -> None:
    border = {e["data"]["id"]: e["data"]["border"] for e in drawn.elements
              if "source" not in e["data"]}
    # AUC 0.86 green; drift 0.25 amber; scoring 5/7 red; training's freshness 164 h
    # amber; dau: its 7-day mean 957 amber and its week over week +11.7% green, the worst
    # amber; the product takes the worst (red); orders has no objective (white)
    assert border["model:rec"] == STATUS_COLOURS[Status.GREEN]
    assert border["dataset:shop-features"] == STATUS_COLOURS[Status.AMBER]
    assert border["pipeline:shop-scoring"] == STATUS_COLOURS[Status.RED]
    assert border["pipeline:shop-training"] == STATUS_COLOURS[Status.AMBER]
    assert border["kpi:dau"] == STATUS_COLOURS[Status.AMBER]
    assert border["product:shop"] == STATUS_COLOURS[Status.RED]
    assert border["kpi:orders"] == "#ffffff"
