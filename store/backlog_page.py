"""One page of a product's backlog grid, answered in SQL (issue 10: reads that stay small).

The Flow page's grid uses AG Grid's infinite row model: the browser sends the rows it
wants with its sort and filter models, and this module turns them into one bounded query,
so a product with 20,000 items ships a page, not its history. The request comes from the
browser and is untrusted: columns and filter types are looked up in whitelists, values are
bound parameters (a `%` or `_` typed into a filter matches itself), anything else is
refused with `BacklogPageError`, and no page holds more than `MAX_ROWS` rows.

Rows have the grid's shape: sprint ids shown as the sprint's name, dates as YYYY-MM-DD
text (UTC days), points a float or None; epics are included, as on the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select

from store import schema as s
from store.db import Store

MAX_ROWS = 200
"""The most rows one request answers, whatever it asks for."""
MAX_TEXT = 200
"""The longest filter text accepted (a longer one is refused, not truncated)."""

Kind = Literal["text", "number", "date"]
COLUMNS: dict[str, Kind] = {
    "key": "text", "title": "text", "type": "text", "status": "text", "points": "number",
    "epic": "text", "sprint": "text", "created": "date", "resolved": "date", "origin": "text",
}
"""The grid's columns, in order, and the kind of filter each takes."""

B, P, S = s.BacklogItem, s.Product, s.Sprint
DAY = timedelta(days=1)


class BacklogPageError(ValueError):
    """A grid request this module will not answer (an unknown column, filter or value)."""


@dataclass(frozen=True)
class BacklogPage:
    rows: list[dict[str, Any]]  # COLUMNS, in the grid's shape
    total: int  # rows matching the filters, on every page


def backlog_page(store: Store, product: str, *, start: int = 0, end: int = 20,
                 sort_model: Sequence[Mapping[str, Any]] | None = None,
                 filter_model: Mapping[str, Any] | None = None) -> BacklogPage:
    """Rows `start` to `end` (exclusive, at most `MAX_ROWS`) of `product`'s backlog as the
    grid sorts and filters it, and how many rows the filters match."""
    first, limit = _window(start, end)
    sprint_names = (
        select(S.external_id.label("sprint_id"), func.max(S.name).label("name"))
        .join(P, P.id == S.product_id).where(P.key == product)
        .group_by(S.external_id).subquery()
    )
    exprs: dict[str, ColumnElement[Any]] = {
        c: getattr(B, c) for c in COLUMNS if c != "sprint"}
    exprs["sprint"] = func.coalesce(sprint_names.c.name, B.sprint)
    where = [P.key == product, *_filters(filter_model or {}, exprs)]

    def scoped(stmt: Select[Any]) -> Select[Any]:
        return (stmt.select_from(B).join(P, P.id == B.product_id)
                .outerjoin(sprint_names, sprint_names.c.sprint_id == B.sprint).where(*where))

    page = scoped(select(*(exprs[c].label(c) for c in COLUMNS))).order_by(
        *_order(sort_model or [], exprs)).offset(first).limit(limit)
    with store.session() as session:
        total = int(session.execute(scoped(select(func.count()))).scalar_one())
        found = session.execute(page).all() if limit else []
    return BacklogPage([_row(r) for r in found], total)


def _window(start: object, end: object) -> tuple[int, int]:
    """The offset and the row count, bounded by `MAX_ROWS`."""
    if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) \
            or not isinstance(end, int) or start < 0 or end < 0:
        raise BacklogPageError(f"startRow and endRow must be whole numbers ≥ 0, not "
                               f"{start!r} and {end!r}")
    return start, max(0, min(end - start, MAX_ROWS))


def _row(found: Sequence[Any]) -> dict[str, Any]:
    row = dict(zip(COLUMNS, found, strict=True))
    for column in ("created", "resolved"):
        when = row[column]
        row[column] = None if when is None else when.astimezone(UTC).strftime("%Y-%m-%d")
    row["points"] = None if row["points"] is None else float(row["points"])
    return row


def _column(col_id: object, exprs: Mapping[str, ColumnElement[Any]]) -> str:
    if not isinstance(col_id, str) or col_id not in exprs:
        raise BacklogPageError(f"unknown column {col_id!r}; the grid's columns are "
                               f"{', '.join(COLUMNS)}")
    return col_id


def _order(sort_model: Sequence[Mapping[str, Any]],
           exprs: Mapping[str, ColumnElement[Any]]) -> list[Any]:
    """ORDER BY the grid's sort (empty values first going up, last going down, as the grid
    sorts them), then by key and id, so paging through ties neither repeats nor skips."""
    if not isinstance(sort_model, Sequence) or len(sort_model) > len(COLUMNS):
        raise BacklogPageError("sortModel must be a list of at most one entry per column")
    order: list[Any] = []
    for entry in sort_model:
        if not isinstance(entry, Mapping):
            raise BacklogPageError(f"a sortModel entry must be an object, not {entry!r}")
        expr = exprs[_column(entry.get("colId"), exprs)]
        direction = entry.get("sort")
        if direction == "asc":
            order.append(expr.asc().nulls_first())
        elif direction == "desc":
            order.append(expr.desc().nulls_last())
        else:
            raise BacklogPageError(f"sort must be 'asc' or 'desc', not {direction!r}")
    if not order:
        order.append(B.created)  # the store's own order of a backlog
    return [*order, B.key, B.id]


def _filters(filter_model: Mapping[str, Any],
             exprs: Mapping[str, ColumnElement[Any]]) -> list[ColumnElement[bool]]:
    if not isinstance(filter_model, Mapping):
        raise BacklogPageError("filterModel must be an object of column -> filter")
    return [_filter(COLUMNS[_column(col, exprs)], exprs[col], model)
            for col, model in filter_model.items()]


def _filter(kind: Kind, expr: ColumnElement[Any], model: object) -> ColumnElement[bool]:
    """One column's filter: a condition, or two or more joined by AND / OR (AG Grid's
    combined model, `{"operator": ..., "conditions": [...]}`)."""
    if not isinstance(model, Mapping) or model.get("filterType") != kind:
        raise BacklogPageError(f"this column takes a {kind} filter, not {model!r}")
    if "conditions" not in model:
        return _CONDITIONS[kind](expr, model)
    conditions, operator = model["conditions"], model.get("operator")
    if operator not in ("AND", "OR") or not isinstance(conditions, list) \
            or not 1 <= len(conditions) <= 4:
        raise BacklogPageError("a combined filter needs operator AND or OR and 1 to 4 "
                               "conditions")
    parts = [_filter(kind, expr, c) for c in conditions]
    return and_(*parts) if operator == "AND" else or_(*parts)


def _text(expr: ColumnElement[Any], model: Mapping[str, Any]) -> ColumnElement[bool]:
    """Text filters ignore case, as the grid's do; 'not' filters keep empty cells."""
    how = model.get("type")
    blank = or_(expr.is_(None), expr == "")
    if how == "blank":
        return blank
    if how == "notBlank":
        return not_(blank)
    value = model.get("filter")
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise BacklogPageError(f"a text filter needs text of at most {MAX_TEXT} characters")
    lowered, wanted = func.lower(expr), value.lower()
    matches: dict[str, Callable[[], ColumnElement[bool]]] = {
        "contains": lambda: lowered.contains(wanted, autoescape=True),
        "notContains": lambda: or_(expr.is_(None),
                                   not_(lowered.contains(wanted, autoescape=True))),
        "equals": lambda: lowered == wanted,
        "notEqual": lambda: or_(expr.is_(None), lowered != wanted),
        "startsWith": lambda: lowered.startswith(wanted, autoescape=True),
        "endsWith": lambda: lowered.endswith(wanted, autoescape=True),
    }
    if how not in matches:
        raise BacklogPageError(f"unknown text filter type {how!r}")
    return matches[str(how)]()


def _number(expr: ColumnElement[Any], model: Mapping[str, Any]) -> ColumnElement[bool]:
    """Number filters; empty cells match only 'blank'; ranges include both ends."""
    how = model.get("type")
    if how in ("blank", "notBlank"):
        return expr.is_(None) if how == "blank" else expr.is_not(None)
    low = _number_value(model.get("filter"))
    compare: dict[str, Callable[[], ColumnElement[bool]]] = {
        "equals": lambda: expr == low,
        "notEqual": lambda: expr != low,
        "lessThan": lambda: expr < low,
        "lessThanOrEqual": lambda: expr <= low,
        "greaterThan": lambda: expr > low,
        "greaterThanOrEqual": lambda: expr >= low,
        "inRange": lambda: expr.between(low, _number_value(model.get("filterTo"))),
    }
    if how not in compare:
        raise BacklogPageError(f"unknown number filter type {how!r}")
    return compare[str(how)]()


def _number_value(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        raise BacklogPageError(f"a number filter needs a number, not {value!r}")
    return float(value)


def _date(expr: ColumnElement[Any], model: Mapping[str, Any]) -> ColumnElement[bool]:
    """Date filters on UTC days (the grid shows days): 'equals' is the whole day, a range
    includes both its days; empty cells match only 'blank'."""
    how = model.get("type")
    if how in ("blank", "notBlank"):
        return expr.is_(None) if how == "blank" else expr.is_not(None)
    day = _day(model.get("dateFrom"))
    compare: dict[str, Callable[[], ColumnElement[bool]]] = {
        "equals": lambda: and_(expr >= day, expr < day + DAY),
        "notEqual": lambda: or_(expr < day, expr >= day + DAY),
        "lessThan": lambda: expr < day,
        "greaterThan": lambda: expr >= day + DAY,
        "inRange": lambda: and_(expr >= day, expr < _day(model.get("dateTo")) + DAY),
    }
    if how not in compare:
        raise BacklogPageError(f"unknown date filter type {how!r}")
    return compare[str(how)]()


def _day(value: object) -> datetime:
    """The UTC midnight of the grid's 'YYYY-MM-DD' or 'YYYY-MM-DD hh:mm:ss'."""
    try:
        if not isinstance(value, str):
            raise ValueError
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise BacklogPageError(f"a date filter needs a YYYY-MM-DD date, not {value!r}") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


_CONDITIONS: dict[Kind, Callable[[ColumnElement[Any], Mapping[str, Any]], ColumnElement[bool]]] = {
    "text": _text, "number": _number, "date": _date}

