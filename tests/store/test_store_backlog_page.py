"""One page of the backlog grid in SQL (`store.backlog_page`), on SQLite and PostgreSQL,
against pages worked out by hand from a six-item backlog.

The shop backlog, T = Mon 2 Mar 2026 (UTC):

    key  type   points epic sprint  created        resolved     origin   title
    E-1  Epic   -      -    -       2 Mar 00:00    -            imported Checkout epic
    A-1  Bug    3      E1   s1      2 Mar 09:00    5 Mar 10:00  imported Fix login
    A-2  Story  5      E1   s2      3 Mar 08:00    -            imported 100% coverage_report
    A-3  Bug    3      -    s1      3 Mar 23:30    -            alert    Rename O'Brien's field
    A-4  Story  -      E2   -       4 Mar 00:00    7 Mar 12:00  imported Speed up 100x report
    A-5  Task   8      -    s9      6 Mar 12:00    -            imported Quotes "here"

Sprints s1 "Sprint 1", s2 "Sprint 2"; s9 has no sprint row (its id is shown). Another
product has an item "Fix login elsewhere" in its own sprint s1 "Other S1": never shown.
The store's order (no sort): created, then key: E-1 A-1 A-2 A-3 A-4 A-5.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from store import backlog_page as bp
from store import records as r
from store.backlog_page import BacklogPageError, backlog_page
from store.db import Store
from store.writer import write_records

T = datetime(2026, 3, 2, tzinfo=UTC)
H = timedelta(hours=1)
DAY = timedelta(days=1)
TODO, DOING, DONE = r.StatusCategory.TODO, r.StatusCategory.IN_PROGRESS, r.StatusCategory.DONE


def _item(key: str, title: str, kind: str, status: str, category: r.StatusCategory,
          created: datetime, **more: Any) -> r.BacklogItem:
    return r.BacklogItem("shop", key, title, kind, status, category, created, **more)


SHOP = [
    r.Sprint("shop", "s1", "Sprint 1", "closed", T, T + 14 * DAY),
    r.Sprint("shop", "s2", "Sprint 2", "active", T + 14 * DAY, T + 28 * DAY),
    _item("E-1", "Checkout epic", "Epic", "In Progress", DOING, T),
    _item("A-1", "Fix login", "Bug", "Done", DONE, T + 9 * H, points=3, epic="E1",
          sprint="s1", resolved=T + 3 * DAY + 10 * H),
    _item("A-2", "100% coverage_report", "Story", "To Do", TODO, T + DAY + 8 * H, points=5,
          epic="E1", sprint="s2"),
    _item("A-3", "Rename O'Brien's field", "Bug", "In Progress", DOING,
          T + DAY + 23 * H + 30 * H / 60, points=3, sprint="s1", origin=r.Origin.ALERT),
    _item("A-4", "Speed up 100x report", "Story", "Done", DONE, T + 2 * DAY, epic="E2",
          resolved=T + 5 * DAY + 12 * H),
    _item("A-5", 'Quotes "here"', "Task", "To Do", TODO, T + 4 * DAY + 12 * H, points=8,
          sprint="s9"),
]
OTHER = [
    r.Sprint("other", "s1", "Other S1", "active", T, T + 14 * DAY),
    r.BacklogItem("other", "O-1", "Fix login elsewhere", "Bug", "To Do", TODO, T, points=3,
                  sprint="s1"),
]


@pytest.fixture(scope="module")
def shop(module_store: Store) -> Store:
    """One store per backend for the whole module: every test only reads."""
    with module_store.session() as session:
        write_records(session, "jira", SHOP)
        write_records(session, "jira-other", OTHER)
    return module_store


def keys(store: Store, **request: Any) -> tuple[list[str], int]:
    page = backlog_page(store, "shop", **{"start": 0, "end": 20, **request})
    return [row["key"] for row in page.rows], page.total


def text(how: str, value: str) -> dict[str, Any]:
    return {"filterType": "text", "type": how, "filter": value}


def number(how: str, value: float, to: float | None = None) -> dict[str, Any]:
    return {"filterType": "number", "type": how, "filter": value, "filterTo": to}


def date(how: str, day: str, to: str | None = None) -> dict[str, Any]:
    """As the grid sends it: days with a midnight time."""
    return {"filterType": "date", "type": how, "dateFrom": f"{day} 00:00:00",
            "dateTo": None if to is None else f"{to} 00:00:00"}


def test_a_page_has_the_grids_rows_and_the_total(shop: Store) -> None:
    page = backlog_page(shop, "shop", start=0, end=2)
    assert page.total == 6
    assert page.rows == [
        {"key": "E-1", "title": "Checkout epic", "type": "Epic", "status": "In Progress",
         "points": None, "epic": None, "sprint": None, "created": "2026-03-02",
         "resolved": None, "origin": "imported"},
        {"key": "A-1", "title": "Fix login", "type": "Bug", "status": "Done", "points": 3.0,
         "epic": "E1", "sprint": "Sprint 1", "created": "2026-03-02",
         "resolved": "2026-03-05", "origin": "imported"},
    ]
    rest = backlog_page(shop, "shop", start=2, end=6).rows
    assert [(x["key"], x["sprint"], x["origin"]) for x in rest] == [
        ("A-2", "Sprint 2", "imported"), ("A-3", "Sprint 1", "alert"),
        ("A-4", None, "imported"), ("A-5", "s9", "imported")]  # s9: no sprint row
    assert rest[1]["created"] == "2026-03-03"  # 23:30 UTC is still the 3rd


def test_sorting_with_ties_broken_by_key(shop: Store) -> None:
    # points up: empty first (A-4, E-1 by key), 3, 5, 8
    up = [{"colId": "points", "sort": "asc"}]
    assert keys(shop, sort_model=up) == (["A-4", "E-1", "A-1", "A-3", "A-2", "A-5"], 6)
    # points down: 8, 5, the tie of 3 still by key going up, then empty
    down = [{"colId": "points", "sort": "desc"}]
    assert keys(shop, sort_model=down) == (["A-5", "A-2", "A-1", "A-3", "A-4", "E-1"], 6)
    assert keys(shop, sort_model=down, start=2, end=4) == (["A-1", "A-3"], 6)
    # two columns: type up (Bug, Epic, Story, Task), then created down within a type
    both = [{"colId": "type", "sort": "asc"}, {"colId": "created", "sort": "desc"}]
    assert keys(shop, sort_model=both)[0] == ["A-3", "A-1", "E-1", "A-4", "A-2", "A-5"]


def test_text_filters_ignore_case_and_stay_in_the_product(shop: Store) -> None:
    assert keys(shop, filter_model={"type": text("equals", "bug")}) == (["A-1", "A-3"], 2)
    assert keys(shop, filter_model={"title": text("contains", "LOGIN")}) == (["A-1"], 1)
    assert keys(shop, filter_model={"key": text("startsWith", "a-")})[1] == 5
    assert keys(shop, filter_model={"title": text("endsWith", "REPORT")}) == (
        ["A-2", "A-4"], 2)
    # 'not' filters keep empty cells: every item but those in Sprint 1
    assert keys(shop, filter_model={"sprint": text("notContains", "sprint 1")}) == (
        ["E-1", "A-2", "A-4", "A-5"], 4)
    assert keys(shop, filter_model={"epic": {"filterType": "text", "type": "blank"}}) == (
        ["E-1", "A-3", "A-5"], 3)


def test_number_filters(shop: Store) -> None:
    assert keys(shop, filter_model={"points": number("greaterThanOrEqual", 5)}) == (
        ["A-2", "A-5"], 2)
    assert keys(shop, filter_model={"points": number("inRange", 3, 5)}) == (
        ["A-1", "A-2", "A-3"], 3)  # both ends included
    assert keys(shop, filter_model={"points": number("lessThan", 4)}) == (["A-1", "A-3"], 2)
    assert keys(shop, filter_model={"points": number("notEqual", 3)}) == (["A-2", "A-5"], 2)
    blank = {"filterType": "number", "type": "blank"}
    assert keys(shop, filter_model={"points": blank}) == (["E-1", "A-4"], 2)


def test_date_filters_on_utc_days(shop: Store) -> None:
    # created 3 or 4 Mar: A-2 (3rd 08:00), A-3 (3rd 23:30), A-4 (4th 00:00)
    on_3_to_4 = {"created": date("inRange", "2026-03-03", "2026-03-04")}
    assert keys(shop, filter_model=on_3_to_4) == (["A-2", "A-3", "A-4"], 3)
    assert keys(shop, filter_model={"created": date("equals", "2026-03-02")}) == (
        ["E-1", "A-1"], 2)
    assert keys(shop, filter_model={"created": date("lessThan", "2026-03-03")}) == (
        ["E-1", "A-1"], 2)
    # resolved after 5 Mar: A-4 (7th); A-1 resolved on the 5th is not after it
    assert keys(shop, filter_model={"resolved": date("greaterThan", "2026-03-05")}) == (
        ["A-4"], 1)


def test_combined_filters_and_the_total(shop: Store) -> None:
    both = {"type": text("equals", "bug"), "sprint": text("contains", "sprint 1"),
            "created": date("greaterThan", "2026-03-02")}
    assert keys(shop, filter_model=both) == (["A-3"], 1)
    either = {"type": {"filterType": "text", "operator": "OR",
                       "conditions": [text("equals", "Task"), text("equals", "Epic")]},
              "points": {"filterType": "number", "type": "blank"}}
    assert keys(shop, filter_model=either) == (["E-1"], 1)
    # the total counts every match, not the page: 4 stories or bugs, a page of 1
    stories_or_bugs = {"type": {"filterType": "text", "operator": "OR",
                                "conditions": [text("equals", "Story"), text("equals", "Bug")]}}
    assert keys(shop, filter_model=stories_or_bugs, start=1, end=2) == (["A-2"], 4)


def test_a_page_past_the_end_is_empty_and_pages_are_bounded(
        shop: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert keys(shop, start=10, end=30) == ([], 6)
    assert keys(shop, start=3, end=3) == ([], 6)
    monkeypatch.setattr(bp, "MAX_ROWS", 2)
    assert keys(shop, start=1, end=10_000) == (["A-1", "A-2"], 6)


def test_hostile_filter_values_match_literally(shop: Store) -> None:
    # unescaped, '100%' would match 'Speed up 100x report' too and '_' every title
    assert keys(shop, filter_model={"title": text("contains", "100%")}) == (["A-2"], 1)
    assert keys(shop, filter_model={"title": text("contains", "_")}) == (["A-2"], 1)
    assert keys(shop, filter_model={"title": text("contains", "o'brien's")}) == (["A-3"], 1)
    assert keys(shop, filter_model={"title": text("contains", '"here"')}) == (["A-5"], 1)
    assert keys(shop, filter_model={"key": text("equals", "' OR '1'='1")}) == ([], 0)
    assert keys(shop, filter_model={"key": text("contains", "/")}) == ([], 0)  # the escape


REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"filter_model": {"secret": text("equals", "x")}}, "unknown column 'secret'"),
    ({"sort_model": [{"colId": "product_id", "sort": "asc"}]}, "unknown column"),
    ({"sort_model": [{"colId": "key", "sort": "up; DROP TABLE x"}]}, "sort must be"),
    ({"filter_model": {"points": text("equals", "3")}}, "takes a number filter"),
    ({"filter_model": {"title": text("regex", ".*")}}, "unknown text filter type"),
    ({"filter_model": {"points": number("equals", True)}}, "needs a number"),
    ({"filter_model": {"created": date("equals", "yesterday")}}, "YYYY-MM-DD"),
    ({"filter_model": {"title": text("contains", "x" * 201)}}, "at most 200"),
    ({"start": -1}, "whole numbers"),
    ({"end": "20"}, "whole numbers"),
]


def test_requests_it_will_not_answer_are_refused(shop: Store) -> None:
    for request, says in REFUSED:
        with pytest.raises(BacklogPageError, match=says):
            keys(shop, **request)
