"""Backlog items, sprints and item history from CSV or JSON exports (dspo's own or Jira's).

Many teams cannot give dspo an API token but can export a CSV each sprint. Three files:

* items (required): `key, title, type, status, status_category, points, epic, sprint,
  created, resolved, labels, url`, or Jira's export names: Issue key, Summary, Issue Type,
  Status, Status Category, Custom field (Story Points) / Story Points / Story point
  estimate, Custom field (Epic Link) / Parent key / Parent, Sprint, Created, Resolved,
  Labels. Jira repeats a column once per value: every Labels column is read, and of the
  Sprint columns the last non-empty one is the item's current sprint. Labels in one cell
  may also be separated by commas or semicolons. Without a status category, common
  statuses map to one (To Do/Backlog/Open -> todo, In Progress/In Review/Review ->
  in_progress, Done/Closed/Resolved -> done, and a few more); another status needs the
  column. Sprint names are mapped to sprint ids through the sprints file; a value found
  there neither as id nor as name is kept as is. With `base_url`, url = base_url + key
  (a '/' is added unless base_url ends with '/', '=' or '#').
* sprints: `external_id` (or Sprint Id, id), name, state (future/active/closed), start,
  end, completed, goal.
* history: `item_key, ts, field, from, to`; field is status, status_category, points or
  sprint; empty from/to means none.

Headers match case-insensitively, '_' and ' ' alike; other columns are ignored. JSON files
hold a list of objects with the same names (a list value counts as repeated columns).
Dates are ISO 8601 or Jira's "26/Nov/26 9:15 AM" (also with a 4-digit year, a 24-hour
time, or no time); times without a zone are taken as UTC.

Bad rows refuse the whole file. A row with no key, an unparseable date or points, an
unknown state, field or status fails the run with a FatalSourceError naming the file, its
line (CSV lines counted from the header as line 1; the line where a multi-line row starts)
or object number (JSON, from 1), and the field. The runner then rolls back, so the store
keeps the last good import instead of a silently partial one. Rows repeating a key: the
last one wins.

Files are small, so every run re-reads them in full; upserts make that idempotent.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from collectors.base import Collector
from config.schema import FilesSource
from store.records import (
    BacklogItem,
    ItemEvent,
    ItemField,
    Record,
    Sprint,
    StatusCategory,
    utc,
)

RecordT = TypeVar("RecordT", BacklogItem, Sprint, ItemEvent)
SprintIds = Callable[[str | None], str | None]
"""Maps a sprint name or id as an item file gives it to the sprint's external id."""

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
HISTORY_COLUMNS: dict[str, tuple[str, ...]] = {
    "item_key": ("item key", "key", "issue key"),
    "ts": ("ts", "date", "changed"),
    "field": ("field",),
    "from": ("from", "from value"),
    "to": ("to", "to value"),
}
CATEGORIES: dict[str, StatusCategory] = {
    **dict.fromkeys(("todo", "to do", "new"), StatusCategory.TODO),
    **dict.fromkeys(("in progress", "indeterminate"), StatusCategory.IN_PROGRESS),
    **dict.fromkeys(("done", "complete"), StatusCategory.DONE),
}
# fmt: off
STATUS_DEFAULTS: dict[str, StatusCategory] = {
    **dict.fromkeys(
        ("to do", "todo", "backlog", "open", "new", "selected for development", "reopened"),
        StatusCategory.TODO,
    ),
    **dict.fromkeys(
        ("in progress", "in review", "review", "code review", "in development", "in testing",
         "testing", "in qa", "qa"),
        StatusCategory.IN_PROGRESS,
    ),
    **dict.fromkeys(
        ("done", "closed", "resolved", "released", "complete", "completed", "cancelled",
         "canceled", "won't do", "won't fix"),
        StatusCategory.DONE,
    ),
}
# fmt: on
SPRINT_STATES = ("future", "active", "closed")
JIRA_DATE_FORMATS = (
    "%d/%b/%y %I:%M %p",
    "%d/%b/%Y %I:%M %p",
    "%d/%b/%y %H:%M",
    "%d/%b/%Y %H:%M",
    "%d/%b/%y",
    "%d/%b/%Y",
)


class RowError(ValueError):
    """One bad value; the collector adds the file and line and fails the run."""

    def __init__(self, where: str, field: str, problem: str) -> None:
        super().__init__(f"{where}: {field}: {problem}")


@dataclass(frozen=True)
class Row:
    """One record of a file: where it is (for errors) and its cells by canonical field."""

    where: str
    cells: Mapping[str, Sequence[str]]

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
        return None if value is None else parse_time(value, self.where, field)

    def required_time(self, field: str) -> datetime:
        return parse_time(self.required(field), self.where, field)


def norm(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").split())


def parse_time(value: str, where: str, field: str) -> datetime:
    try:
        return utc(datetime.fromisoformat(value))
    except ValueError:
        pass
    for fmt in JIRA_DATE_FORMATS:
        try:
            return utc(datetime.strptime(value, fmt))  # noqa: DTZ007 - naive means UTC, see utc()
        except ValueError:
            continue
    raise RowError(where, field, f"unparseable date {value!r}")


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


def read_rows(path: Path, columns: Mapping[str, tuple[str, ...]]) -> list[Row]:
    """Rows of a CSV or JSON file with cells keyed by canonical field; unknown columns dropped."""
    alias = {a: f for f, aliases in columns.items() for a in aliases}
    # Within one field an earlier alias wins: order cells by the alias's rank.
    rank = {a: i for aliases in columns.values() for i, a in enumerate(aliases)}
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _json_rows(path, alias, rank)
    if suffix == ".csv":
        return _csv_rows(path, alias, rank)
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


def _csv_rows(path: Path, alias: Mapping[str, str], rank: Mapping[str, int]) -> list[Row]:
    rows: list[Row] = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = [norm(h) for h in next(reader, [])]
        line = reader.line_num
        for record in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(header):
                raise RowError(
                    f"{path}:{start}",
                    "row",
                    f"{len(record)} values for {len(header)} header columns",
                )
            rows.append(
                Row(f"{path}:{start}", _cells(list(zip(header, record, strict=False)), alias, rank))
            )
    return rows


def _json_rows(path: Path, alias: Mapping[str, str], rank: Mapping[str, int]) -> list[Row]:
    data = json.loads(path.read_text(encoding="utf-8"))
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
        rows.append(Row(where, _cells(pairs, alias, rank)))
    return rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class FilesCollector(Collector[FilesSource]):
    kind = "files"

    @property
    def where(self) -> str:
        return str(self.settings.items)

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        # Everything is parsed before the first yield: a bad row anywhere yields nothing.
        sprints = self._parse(self.settings.sprints, SPRINT_COLUMNS, self._sprint)
        ids = {s.external_id for s in sprints.values()}
        by_name = {s.name: s.external_id for s in sprints.values() if s.name}

        def sprint_id(value: str | None) -> str | None:
            if value is None or value in ids:
                return value
            return by_name.get(value, value)

        items = self._parse(self.settings.items, ITEM_COLUMNS, lambda r: self._item(r, sprint_id))
        events = self._parse(
            self.settings.history, HISTORY_COLUMNS, lambda r: self._event(r, sprint_id)
        )
        yield from sprints.values()
        yield from items.values()
        yield from events.values()

    def _parse(
        self,
        path: Path | None,
        columns: Mapping[str, tuple[str, ...]],
        build: Callable[[Row], RecordT],
    ) -> dict[Hashable, RecordT]:
        """Records keyed by natural key (last row wins); any bad row fails the run."""
        if path is None:
            return {}
        out: dict[Hashable, RecordT] = {}
        try:
            rows = read_rows(path, columns)
            for row in rows:
                record = build(row)
                out[_natural_key(record)] = record
        except FileNotFoundError:
            raise self.fail(f"{path}: no such file") from None
        except RowError as e:  # already names the file and the line
            raise self.fail(f"{e} (file refused, nothing imported)") from e
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as e:
            raise self.fail(f"{path}: {e} (file refused, nothing imported)") from e
        return out

    def _item(self, row: Row, sprint_id: SprintIds) -> BacklogItem:
        key = row.required("key")
        status = row.first("status") or ""
        category_text = row.first("status_category")
        if category_text is not None:
            category = CATEGORIES.get(norm(category_text))
            if category is None:
                raise RowError(row.where, "status_category", f"unknown {category_text!r}")
        elif not status:
            raise RowError(row.where, "status", "missing (and no status_category)")
        else:
            category = STATUS_DEFAULTS.get(norm(status))
            if category is None:
                raise RowError(
                    row.where,
                    "status",
                    f"{status!r} has no default category: "
                    "add a status_category (Jira: Status Category) column",
                )
        labels = [p.strip() for v in row.all("labels") for p in v.replace(";", ",").split(",")]
        base = self.settings.base_url
        if base is not None and not base.endswith(("/", "=", "#")):
            base += "/"
        return BacklogItem(
            product=self.product,
            key=key,
            title=row.first("title") or "",
            type=row.first("type") or "",
            status=status or category.value,
            status_category=category,
            created=row.required_time("created"),
            points=parse_points(row.first("points"), row.where),
            epic=row.first("epic"),
            sprint=sprint_id(row.last("sprint")),
            resolved=row.time("resolved"),
            labels=tuple(dict.fromkeys(label for label in labels if label)),
            url=base + key if base is not None else row.first("url"),
        )

    def _sprint(self, row: Row) -> Sprint:
        external_id = row.required("external_id")
        state = norm(row.required("state"))
        if state not in SPRINT_STATES:
            raise RowError(row.where, "state", f"{state!r} is not one of {SPRINT_STATES}")
        return Sprint(
            product=self.product,
            external_id=external_id,
            name=row.first("name") or external_id,
            state=state,
            start=row.time("start"),
            end=row.time("end"),
            completed=row.time("completed"),
            goal=row.first("goal") or "",
        )

    def _event(self, row: Row, sprint_id: SprintIds) -> ItemEvent:
        key, ts = row.required("item_key"), row.required_time("ts")
        raw_field = norm(row.required("field")).replace(" ", "_")
        try:
            field = ItemField(raw_field)
        except ValueError:
            choices = ", ".join(f.value for f in ItemField)
            raise RowError(row.where, "field", f"{raw_field!r} is not one of {choices}") from None
        values = [row.first("from"), row.first("to")]
        for i, value in enumerate(values):
            name = ("from", "to")[i]
            if value is None:
                continue
            if field is ItemField.POINTS:
                parse_points(value, row.where, name)
            elif field is ItemField.STATUS_CATEGORY:
                category = CATEGORIES.get(norm(value))
                if category is None:
                    raise RowError(row.where, name, f"unknown status category {value!r}")
                values[i] = category.value
            elif field is ItemField.SPRINT:
                values[i] = sprint_id(value)
        return ItemEvent(self.product, key, ts, field, values[0], values[1])


def _natural_key(record: Record) -> Hashable:
    if isinstance(record, BacklogItem):
        return record.key
    if isinstance(record, Sprint):
        return record.external_id
    assert isinstance(record, ItemEvent)
    return (record.item_key, record.ts, record.field)
