"""The shared page components render what they are given, where a test can find it."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
from dash import html

from dashboard.components.graphs import FALLBACK_HEIGHT, graph, graph_card
from dashboard.components.stats import stat, stat_tile, tile_row
from dashboard.components.tables import Cell, Column, Row, data_table


def _find(component: object, testid: str) -> object | None:
    """The first descendant carrying data-testid `testid` (depth first)."""
    if getattr(component, "data-testid", None) == testid:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = _find(child, testid)
            if found is not None:
                return found
    return None


def test_graph_is_as_tall_as_its_figure() -> None:
    assert graph(go.Figure().update_layout(height=290)).style == {"height": "290px"}
    assert graph(go.Figure()).style == {"height": f"{FALLBACK_HEIGHT}px"}
    card = graph_card("Runs", go.Figure(), "runs-card", caption="one tick per run",
                      graph_id="runs-graph")
    assert card.id == "runs-card"
    body = card.children[1].children
    assert body[0].children == "one tick per run" and body[1].id == "runs-graph"


def test_stat_and_tile_carry_their_test_ids() -> None:
    block = stat("957", "usage-judged-dau", "7-day mean", unit="users")
    assert _find(block, "usage-judged-dau").children == "957"
    tile = stat_tile("Change failure rate", "33.3%", "dora-cfr", "within 7 days",
                     detail="1 of 3 promotions")
    assert _find(tile, "dora-cfr").children == "33.3%"
    assert _find(tile, "dora-cfr-detail").children == "1 of 3 promotions"
    assert len(tile_row([tile, tile], md=6).children) == 2


def test_data_table_cells_rows_and_alignment() -> None:
    hostile = "<b>not bold</b>"
    table = data_table(
        [Column("Name"), Column("Points", "end", "nowrap")],
        [["SHOP-1", Cell("3", testid="points-1", title="story points")],
         Row([hostile, "5"], testid="row-2", className="table-danger")],
        testid="items")
    assert isinstance(table, html.Div)  # the box that carries the test id
    inner = table.children
    head, body = inner.children
    assert [th.className for th in head.children.children] == [None, "text-end"]
    first, second = body.children
    assert first.children[1].className == "text-end nowrap"
    assert getattr(first.children[1], "data-testid") == "points-1"
    assert first.children[1].title == "story points"
    assert getattr(second, "data-testid") == "row-2" and second.className == "table-danger"
    assert second.children[0].children == hostile  # a string child: React shows it as text


def test_a_row_must_fill_its_columns() -> None:
    with pytest.raises(ValueError, match="1 cells for 2 columns"):
        data_table([Column("a"), Column("b")], [["only one"]])
