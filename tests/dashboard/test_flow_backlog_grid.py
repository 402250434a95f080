"""The Flow page's backlog grid callback through Flask's test client, as the grid's infinite
row model sends it: one block of rows and the count its filters match, for the product the
user looks after only.

The hostile world's shop backlog (tests/world/small.py), every item created 10 Feb 2026
09:00 but ALERT-1 (8 Mar 01:00, from an alert, Bug, 3 points):

    SHOP-E1 Epic -   SHOP-E2 Epic - (its title is markup: sent as text)
    SHOP-1 Story 3 sprint 2   SHOP-2 Story 5 sprint 2   SHOP-3 Story 2
    SHOP-4 Bug 1 sprint 1     SHOP-5 Task 8             SHOP-6 Story -
    SHOP-7 Story 5 sprint 1
    SHOP-X0..X3 Story 1 sprint 2 and SHOP-XE Experiment 1 sprint 2 (tests/world/hostile.py,
    titles that are script and markup payloads)

15 items in all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hostile_app import HostileApp, build, post
from world import hostile, small

OUTPUT = "flow-backlog-grid.getRowsResponse"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileApp]:
    yield from build(tmp_path_factory.mktemp("grid"))


@pytest.fixture(scope="module")
def clients(app: HostileApp) -> dict[str, Any]:
    """Signed in once per module: signing in hashes a password (a second or more)."""
    return {name: app.client(name) for name in ("ada", "ana", "bo", "sam")}


def body(request: dict[str, Any] | None, product: str = small.PRODUCT) -> dict[str, Any]:
    """The callback as the renderer sends it when the grid asks for rows."""
    return {"output": OUTPUT,
            "outputs": {"id": "flow-backlog-grid", "property": "getRowsResponse"},
            "inputs": [{"id": "flow-backlog-grid", "property": "getRowsRequest",
                        "value": request}],
            "state": [{"id": "flow-backlog-product", "property": "data", "value": product}],
            "changedPropIds": ["flow-backlog-grid.getRowsRequest"]}


def rows(client: Any, request: dict[str, Any], product: str = small.PRODUCT
         ) -> dict[str, Any]:
    answer = post(client, body(request, product))
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    found: dict[str, Any] = answer.get_json()["response"]["flow-backlog-grid"][
        "getRowsResponse"]
    return found


def grid(start: int = 0, end: int = 100, sort: list[dict[str, str]] | None = None,
         filters: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"startRow": start, "endRow": end, "sortModel": sort or [],
            "filterModel": filters or {}}


def test_a_block_sorted_by_points_going_down(clients: dict[str, Any]) -> None:
    # points: SHOP-5 8; SHOP-2 5 and SHOP-7 5 (a tie, by key); SHOP-1 3 and ALERT-1 3 ...
    answer = rows(clients["ana"], grid(0, 3, [{"colId": "points", "sort": "desc"}]))
    assert answer["rowCount"] == 15
    assert [r["key"] for r in answer["rowData"]] == ["SHOP-5", "SHOP-2", "SHOP-7"]
    assert answer["rowData"][0] == {
        "key": "SHOP-5", "title": "Drift report per region", "type": "Task",
        "status": "To Do", "points": 8.0, "epic": "SHOP-E2", "sprint": None,
        "created": "2026-02-10", "resolved": None, "origin": "imported"}
    # the next block: SHOP-1 and ALERT-1 tie at 3 (ALERT-1 first by key), SHOP-3 2
    after = rows(clients["ana"], grid(3, 6, [{"colId": "points", "sort": "desc"}]))
    assert [r["key"] for r in after["rowData"]] == ["ALERT-1", "SHOP-1", "SHOP-3"]


def test_a_filtered_block_counts_only_its_matches(clients: dict[str, Any]) -> None:
    bugs = {"type": {"filterType": "text", "type": "equals", "filter": "bug"}}
    answer = rows(clients["ada"], grid(filters=bugs))
    # SHOP-4 (created 10 Feb) before ALERT-1 (8 Mar); sprint "1" shown by its name
    assert answer["rowCount"] == 2
    assert [(r["key"], r["sprint"], r["origin"], r["created"]) for r in answer["rowData"]] == [
        ("SHOP-4", "Sprint 1", "imported", "2026-02-10"),
        ("ALERT-1", None, "alert", "2026-03-08")]
    markup = {"title": {"filterType": "text", "type": "contains", "filter": "onerror=\"document"}}
    [epic] = rows(clients["ana"], grid(filters=markup))["rowData"]
    assert (epic["key"], epic["title"]) == ("SHOP-E2", small.HOSTILE)


def test_a_request_it_will_not_answer_gets_an_empty_block(clients: dict[str, Any]) -> None:
    unknown = {"product_id": {"filterType": "text", "type": "equals", "filter": "1"}}
    assert rows(clients["ana"], grid(filters=unknown)) == {"rowData": [], "rowCount": 0}
    dropped = grid(sort=[{"colId": "key; DROP TABLE backlog_item", "sort": "asc"}])
    assert rows(clients["ana"], dropped) == {"rowData": [], "rowCount": 0}
    assert rows(clients["ana"], grid())["rowCount"] == 15  # the table is still there


def test_only_the_products_a_po_looks_after(clients: dict[str, Any]) -> None:
    """bo looks after elsewhere only: the guard refuses shop's rows (403)."""
    assert post(clients["bo"], body(grid())).status_code == 403
    assert post(clients["ana"], body(grid(), hostile.OTHER)).status_code == 403
    assert post(clients["sam"], body(grid())).status_code == 403  # a stakeholder
