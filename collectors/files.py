"""Backlog items, sprints and item history from CSV or JSON exports (dspo's own or Jira's).

Many teams cannot give dspo an API token but can export a CSV each sprint. Three files
(columns and Jira's names for them in `collectors/files_rows.py`):

* items (required): `key, title, type, status, status_category, points, epic, sprint,
  created, resolved, labels, url`, or Jira's export names (Issue key, Summary, Issue Type,
  Status, Status Category, Custom field (Story Points) / Story Points / Story point
  estimate, Custom field (Epic Link) / Parent key / Parent, Sprint, Created, Resolved,
  Labels). Jira repeats a column once per value: every Labels column is read, and of the
  Sprint columns the last non-empty one is the item's current sprint. Labels in one cell
  may also be separated by commas or semicolons. Without a status category, the status
  is mapped to one through `status_categories` over a built-in map of common statuses
  (To Do/Backlog/Open -> todo, In Progress/In Review/Review -> in_progress,
  Done/Closed/Resolved -> done, and a few more). Sprint names are mapped to sprint ids
  through the sprints file; a value found there neither as id nor as name is kept as is.
  With `base_url`, url = base_url + key (a '/' is added unless base_url ends with '/',
  '=' or '#').
* sprints: `external_id` (or Sprint Id, id), name, state (future/active/closed), start,
  end, completed, goal.
* history: `item_key, ts, field, from, to`, or a Jira changelog (Issue key, Created,
  Field, fromString, toString). Fields read: status, status_category, points (also Story
  Points, Story point estimate) and sprint; changes of any other field (assignee, Rank,
  resolution...) are skipped and their names logged. An item whose history has `status`
  changes but no `status_category` ones (Jira logs only status) gets a status category
  change for every status change that crosses categories, through the same map as items:
  so cycle time starts when work moved to an in-progress status, not at creation.

Times without an offset are in `timezone` (Jira's CSV export writes the exporting user's
local time). Bad rows refuse the whole file: a row with no key, an unparseable date or
points, an unknown state or status, an unterminated quote, a short row fails the run
with a FatalSourceError naming the file and its line or object. The runner then rolls
back, so the store keeps the last good import instead of a silently partial one. Rows
repeating a key: the last one wins. An empty file is logged as a warning and imports
nothing from it (the store keeps what it had: an export job that wrote nothing is more
likely broken than the backlog empty).

Deletions: the items and sprints files are complete lists, so the items and sprints of
this source that a non-empty file no longer lists are deleted (`Present`).

Files are small, so every run re-reads them in full; upserts make that idempotent.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable, Hashable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from collectors.base import Collector
from collectors.deadline import Deadline
from collectors.files_rows import (
    HISTORY_COLUMNS,
    ITEM_COLUMNS,
    SPRINT_COLUMNS,
    Row,
    RowError,
    norm,
    parse_points,
    read_rows,
)
from config.schema import FilesSource
from store.records import (
    BacklogItem,
    Entity,
    ItemEvent,
    ItemField,
    Present,
    Record,
    Sprint,
    StatusCategory,
    description_text,
)

log = logging.getLogger(__name__)

RecordT = TypeVar("RecordT", BacklogItem, Sprint)
SprintIds = Callable[[str | None], str | None]
"""Maps a sprint name or id as an item file gives it to the sprint's external id."""

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
# Field names of a history file, dspo's and Jira's changelog's, by canonical field.
HISTORY_FIELDS: dict[str, ItemField] = {
    "status": ItemField.STATUS,
    "status category": ItemField.STATUS_CATEGORY,
    **dict.fromkeys(
        ("points", "story points", "story point estimate", "custom field (story points)",
         "custom field (story point estimate)"),
        ItemField.POINTS,
    ),
    "sprint": ItemField.SPRINT,
}
# fmt: on
SPRINT_STATES = ("future", "active", "closed")


class FilesCollector(Collector[FilesSource]):
    kind = "files"

    def __init__(self, settings: FilesSource, deadline: Deadline | None = None) -> None:
        super().__init__(settings, deadline)
        self.tz = ZoneInfo(self.settings.timezone)
        self.statuses = {
            **STATUS_DEFAULTS,
            **{norm(k): StatusCategory(v) for k, v in self.settings.status_categories.items()},
        }

    @property
    def where(self) -> str:
        return str(self.settings.items)

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        # Everything is parsed before the first yield: a bad row anywhere yields nothing.
        sprint_rows = self._rows(self.settings.sprints, SPRINT_COLUMNS)
        sprints = self._build(self.settings.sprints, sprint_rows, self._sprint)
        ids = {s.external_id for s in sprints.values()}
        by_name = {s.name: s.external_id for s in sprints.values() if s.name}

        def sprint_id(value: str | None) -> str | None:
            if value is None or value in ids:
                return value
            if value not in by_name and "," in value:
                # Jira's changelog lists every sprint an issue is in: "Sprint 41, Sprint 42";
                # the last one is where it is now.
                value = value.rsplit(",", 1)[1].strip()
                if value in ids:
                    return value
            return by_name.get(value, value)

        item_rows = self._rows(self.settings.items, ITEM_COLUMNS)
        items = self._build(self.settings.items, item_rows, lambda r: self._item(r, sprint_id))
        events = self._history(sprint_id)
        yield from sprints.values()
        yield from items.values()
        yield from events
        if item_rows:
            yield Present(self.product, Entity.BACKLOG_ITEM, frozenset(items))
        if sprint_rows:
            yield Present(self.product, Entity.SPRINT, frozenset(sprints))

    # ------------------------------------------------------------ reading files

    def _rows(self, path: Path | None, columns: Mapping[str, tuple[str, ...]]) -> list[Row]:
        """The file's rows; an empty file warns and gives none; unreadable ones fail."""
        if path is None:
            return []
        try:
            rows = read_rows(path, columns, self.tz)
        except FileNotFoundError:
            raise self.fail(f"{path}: no such file") from None
        except RowError as e:  # already names the file and the line
            raise self.fail(f"{e} (file refused, nothing imported)") from e
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as e:
            raise self.fail(f"{path}: {e} (file refused, nothing imported)") from e
        if not rows:
            log.warning(
                "source %s: %s has no rows: nothing imported from it (the store keeps "
                "what it had)", self.name, path,
            )
        return rows

    def _build(
        self, path: Path | None, rows: list[Row], build: Callable[[Row], RecordT]
    ) -> dict[str, RecordT]:
        """Records keyed by natural key (last row wins); any bad row fails the run."""
        out: dict[str, RecordT] = {}
        try:
            for row in rows:
                record = build(row)
                out[_natural_key(record)] = record
        except RowError as e:
            raise self.fail(f"{e} (file refused, nothing imported)") from e
        return out

    def _history(self, sprint_id: SprintIds) -> list[ItemEvent]:
        rows = self._rows(self.settings.history, HISTORY_COLUMNS)
        parsed: dict[Hashable, tuple[Row, ItemEvent]] = {}
        skipped: dict[str, int] = {}
        try:
            for row in rows:
                event = self._event(row, sprint_id)
                if isinstance(event, str):
                    skipped[event] = skipped.get(event, 0) + 1
                    continue
                parsed[(event.item_key, event.ts, event.field)] = (row, event)
            derived = self._derived_categories(list(parsed.values()))
        except RowError as e:
            raise self.fail(f"{e} (file refused, nothing imported)") from e
        if skipped:
            log.info(
                "source %s: %s: skipped changes of fields dspo does not track: %s",
                self.name, self.settings.history,
                ", ".join(f"{name} ({n})" for name, n in sorted(skipped.items())),
            )
        return [e for _, e in parsed.values()] + derived

    # ------------------------------------------------------------ building records

    def category(self, status: str, where: str, field: str) -> StatusCategory:
        category = self.statuses.get(norm(status))
        if category is None:
            raise RowError(
                where,
                field,
                f"status {status!r} has no category: add it to the source's "
                "status_categories (e.g. {'" + status + "': in_progress}) or give a "
                "status_category (Jira: Status Category) column",
            )
        return category

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
            category = self.category(status, row.where, "status")
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
            description=description_text(row.first("description")),
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

    def _event(self, row: Row, sprint_id: SprintIds) -> ItemEvent | str:
        """The change of a row, or the name of an untracked field it changes."""
        key, ts = row.required("item_key"), row.required_time("ts")
        raw_field = row.required("field")
        field = HISTORY_FIELDS.get(norm(raw_field))
        if field is None:
            return raw_field
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

    def _derived_categories(self, parsed: list[tuple[Row, ItemEvent]]) -> list[ItemEvent]:
        """Status category changes implied by status changes, for items whose history has
        none of its own (an explicit status_category history always wins)."""
        explicit = {e.item_key for _, e in parsed if e.field is ItemField.STATUS_CATEGORY}
        derived: list[ItemEvent] = []
        for row, e in parsed:
            if e.field is not ItemField.STATUS or e.item_key in explicit:
                continue
            before, after = (
                None if value is None else self.category(value, row.where, name).value
                for value, name in ((e.from_value, "from"), (e.to_value, "to"))
            )
            if before != after:
                derived.append(
                    ItemEvent(self.product, e.item_key, e.ts, ItemField.STATUS_CATEGORY,
                              before, after)
                )
        return derived


def _natural_key(record: BacklogItem | Sprint) -> str:
    return record.key if isinstance(record, BacklogItem) else record.external_id
