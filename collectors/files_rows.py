"""Read the rows of a CSV or JSON export, with cells keyed by dspo's field names.

Kept apart from `collectors/files.py` (which turns rows into records) because reading an
export by hand is where real files go wrong: Jira's column names and repeated columns,
quotes that never close, short rows, times without a zone. Every problem names the file
and the line (CSV, counting the header as line 1; a multi-line row by the line it starts
on) or the object (JSON, from 1).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from store.records import utc

ITEM_COLUMNS: dict[str, tuple[str, ...]] = {
    "key": ("key", "issue key"),
    "title": ("title", "summary"),
    "type": ("type", "issue type"),
    "status": ("status",),
    "status_category": ("status category",),
    "points": (
        "points",
        "custom field (story points)",
        "story points",
        "custom field (story point estimate)",
        "story point estimate",
    ),
    "epic": ("epic", "custom field (epic link)", "epic link", "parent key", "parent"),
    "sprint": ("sprint",),
    "created": ("created",),
    "resolved": ("resolved",),
    "labels": ("labels",),
    "url": ("url",),
    "description": ("description",),
}
SPRINT_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("external id", "sprint id", "id"),
    "name": ("name", "sprint name", "sprint"),
    "state": ("state",),
    "start": ("start", "start date"),
    "end": ("end", "end date"),
    "completed": ("completed", "complete date", "completed date"),
    "goal": ("goal", "sprint goal"),
}
# Jira's changelog (REST `changelog.histories[].items[]`, flattened one change per row by
# export apps and scripts): the change time is the history's `created`; `from`/`to` hold
# ids (a status id, a sprint id) and `fromString`/`toString` the names, which win.
HISTORY_COLUMNS: dict[str, tuple[str, ...]] = {
    "item_key": ("item key", "key", "issue key", "issue"),
    "ts": ("ts", "date", "changed", "change date", "created"),
    "field": ("field", "field name"),
    "from": ("fromstring", "from string", "from", "from value"),
    "to": ("tostring", "to string", "to", "to value"),
}
JIRA_DATE_FORMATS = (
    "%d/%b/%y %I:%M %p",
    "%d/%b/%Y %I:%M %p",
    "%d/%b/%y %H:%M",
    "%d/%b/%Y %H:%M",
    "%d/%b/%y",
    "%d/%b/%Y",
)


class RowError(ValueError):
    """One bad value or line; the collector adds nothing but the verdict and fails the run."""

    def __init__(self, where: str, field: str, problem: str) -> None:
        super().__init__(f"{where}: {field}: {problem}")


@dataclass(frozen=True)
class Row:
    """One record of a file: where it is (for errors), its cells by canonical field, and
    the zone that times written without an offset are in."""

    where: str
    cells: Mapping[str, Sequence[str]]
    tz: tzinfo = UTC

    def first(self, field: str) -> str | None:
        return next((v for v in self.cells.get(field, ()) if v), None)

    def last(self, field: str) -> str | None:
        return next((v for v in reversed(self.cells.get(field, ())) if v), None)

    def all(self, field: str) -> list[str]:
        return [v for v in self.cells.get(field, ()) if v]

    def required(self, field: str) -> str:
        value = self.first(field)
        if value is None:
            raise RowError(self.where, field, "missing")
        return value

    def time(self, field: str) -> datetime | None:
        value = self.first(field)
        return None if value is None else parse_time(value, self.where, field, self.tz)

    def required_time(self, field: str) -> datetime:
        return parse_time(self.required(field), self.where, field, self.tz)


def norm(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").split())


def parse_time(value: str, where: str, field: str, tz: tzinfo = UTC) -> datetime:
    """ISO 8601 or Jira's '26/Nov/26 9:15 AM'; a time without an offset is in `tz`."""
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        for fmt in JIRA_DATE_FORMATS:
            try:
                parsed = datetime.strptime(value, fmt)  # noqa: DTZ007 - zone added below
                break
            except ValueError:
                continue
    if parsed is None:
        raise RowError(where, field, f"unparseable date {value!r}")
    return utc(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz))


def parse_points(value: str | None, where: str, field: str = "points") -> float | None:
    if value is None:
        return None
    try:
        points = float(value)
    except ValueError:
        raise RowError(where, field, f"unparseable points {value!r}") from None
    if not math.isfinite(points) or points < 0:
        raise RowError(where, field, f"points must be a number >= 0, got {value!r}")
    return points


def read_rows(path: Path, columns: Mapping[str, tuple[str, ...]], tz: tzinfo = UTC) -> list[Row]:
    """Rows of a CSV or JSON file with cells keyed by canonical field; unknown columns
    dropped. An empty file (or a header alone, or `[]`) gives no rows: the caller warns."""
    alias = {a: f for f, aliases in columns.items() for a in aliases}
    # Within one field an earlier alias wins: order cells by the alias's rank.
    rank = {a: i for aliases in columns.values() for i, a in enumerate(aliases)}
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _json_rows(path, alias, rank, tz)
    if suffix == ".csv":
        return _csv_rows(path, alias, rank, tz)
    raise RowError(str(path), "file", "unsupported file type (expected .csv or .json)")


def _cells(
    pairs: list[tuple[str, str]], alias: Mapping[str, str], rank: Mapping[str, int]
) -> dict[str, list[str]]:
    cells: dict[str, list[str]] = {}
    for name, value in sorted(
        ((n, v) for n, v in pairs if n in alias), key=lambda p: rank[p[0]]
    ):  # stable sort: repeated columns keep their file order
        cells.setdefault(alias[name], []).append(value.strip())
    return cells


def _csv_rows(
    path: Path, alias: Mapping[str, str], rank: Mapping[str, int], tz: tzinfo
) -> list[Row]:
    rows: list[Row] = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, strict=True)  # strict: a bad quote is an error, not a guess
        line = 0  # the last line read by a complete record (the header is line 1)
        try:
            header = [norm(h) for h in next(reader, [])]
            line = reader.line_num
            for record in reader:
                start, line = line + 1, reader.line_num
                if not any(cell.strip() for cell in record):
                    continue
                if len(record) != len(header):
                    raise _width_error(path, start, line, len(record), len(header))
                pairs = list(zip(header, record, strict=True))
                rows.append(Row(f"{path}:{start}", _cells(pairs, alias, rank), tz))
        except csv.Error as e:
            start = line + 1
            if "unexpected end of data" in str(e):
                raise RowError(
                    f"{path}:{start}",
                    "row",
                    "unterminated quote: a quoted value opened on this line never closes "
                    "(the rest of the file would have been read into it)",
                ) from None
            raise RowError(f"{path}:{start}", "row", f"malformed CSV: {e}") from None
    return rows


def _width_error(path: Path, start: int, end: int, values: int, columns: int) -> RowError:
    what = "a short row" if values < columns else "a long row"
    problem = f"{what}: {values} values for {columns} header columns"
    if end > start:  # quotes joined several lines into this row
        problem += f" (the row runs over lines {start}-{end}: check its quotes)"
    return RowError(f"{path}:{start}", "row", problem)


def _json_rows(
    path: Path, alias: Mapping[str, str], rank: Mapping[str, int], tz: tzinfo
) -> list[Row]:
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        return []
    data = json.loads(text)
    if not isinstance(data, list):
        raise RowError(str(path), "file", "expected a JSON list of objects")
    rows: list[Row] = []
    for n, obj in enumerate(data, start=1):
        where = f"{path} object {n}"
        if not isinstance(obj, dict):
            raise RowError(where, "row", "not an object")
        pairs = [
            (norm(k), _text(v))
            for k, value in obj.items()
            for v in (value if isinstance(value, list) else [value])
        ]
        rows.append(Row(where, _cells(pairs, alias, rank), tz))
    return rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
