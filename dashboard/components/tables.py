"""Tables on a page: columns declared once, rows as lists of cells, rendered as a
Bootstrap table (`dbc.Table`), so no page builds a table cell by cell.

A cell is any Dash child: text from a source (a run name, an error, a title) is passed as
a string, which React renders as text, never as HTML. A `Cell` adds a test id, a tooltip
or a class to one cell; a `Row` a test id or a class to one row. The whole backlog, which
a PO sorts and filters, is an AG Grid on the Flow page instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import dash_bootstrap_components as dbc
from dash import html


@dataclass(frozen=True)
class Column:
    header: str
    align: Literal["start", "end"] = "start"  # "end" for numbers
    className: str = ""  # given to every cell of the column: "nowrap", "text-muted", ...


@dataclass(frozen=True)
class Cell:
    content: Any
    testid: str | None = None
    title: str | None = None
    className: str = ""


@dataclass(frozen=True)
class Row:
    cells: Sequence[Any]
    testid: str | None = None
    className: str | None = None


def _classes(*names: str | None) -> str | None:
    joined = " ".join(n for n in names if n)
    return joined or None


def _td(column: Column, cell: Any) -> html.Td:
    if not isinstance(cell, Cell):
        cell = Cell(cell)
    extra: dict[str, Any] = {"data-testid": cell.testid} if cell.testid else {}
    if cell.title:
        extra["title"] = cell.title
    align = "text-end" if column.align == "end" else None
    return html.Td(cell.content, className=_classes(align, column.className, cell.className),
                   **extra)


def _tr(columns: Sequence[Column], row: Any) -> html.Tr:
    if not isinstance(row, Row):
        row = Row(row)
    if len(row.cells) != len(columns):
        raise ValueError(f"a row of {len(row.cells)} cells for {len(columns)} columns")
    extra = {"data-testid": row.testid} if row.testid else {}
    return html.Tr([_td(c, v) for c, v in zip(columns, row.cells, strict=True)],
                   className=row.className, **extra)


def data_table(columns: Sequence[Column], rows: Sequence[Row | Sequence[Any]], *,
               testid: str | None = None, className: str = "sources-table",
               max_height: int | None = None) -> dbc.Table | html.Div:
    """A small table: `className` sets the density (`sources-table` compact rows,
    `health-table` rows centred on a sparkline); `max_height` (px) scrolls a long one;
    `testid` names the box around it (a `dbc.Table` takes no data attributes)."""
    head = html.Thead(html.Tr([
        html.Th(c.header, className="text-end" if c.align == "end" else None)
        for c in columns]))
    table = dbc.Table([head, html.Tbody([_tr(columns, r) for r in rows])], size="sm",
                      className=_classes("mb-0", className))
    if testid is None and max_height is None:
        return table
    style = {"maxHeight": f"{max_height}px", "overflowY": "auto"} if max_height else None
    extra = {"data-testid": testid} if testid else {}
    return html.Div(table, style=style, **extra)
