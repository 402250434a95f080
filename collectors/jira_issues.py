"""Jira issues as backlog items, and their changelog as item events.

What each record holds, and from where:
- `BacklogItem`: summary, issue type, status, status category (the status's
  statusCategory: new -> todo, indeterminate -> in_progress, done -> done, unless the
  source's `status_categories` forces one for that status name), story points (the field
  named or given by id in `points_field`, resolved through GET /rest/api/2/field), epic
  (the Epic Link field where the site has one and it is set, else the parent of a
  standard-level issue: team-managed and modern company-managed projects keep the epic
  there; a sub-task's parent is a story, not an epic, so sub-tasks get none), the current
  sprint, created, resolutiondate, labels, and the browse link.
- `ItemEvent`s, one per changed field of each changelog entry: status (names) and, when
  the category changes, status category; story points; sprint (Jira's sprint ids).

The Sprint field holds every sprint an issue has been in (closed ones stay listed when
Jira carries it over), so "the" sprint of an issue is its open sprint (active or future;
Jira allows one) if any, else the one of them that started last. A changelog entry "Sprint:
12 -> 12, 13" thus reads as a move from 12 to 13. Jira stamps the moves it makes when a
sprint is completed a moment after the sprint's completeDate; a move out of a closed sprint
within `CLOSE_SNAP` of its completion is dated at the completion, which is what the KPIs
read as "carried over at the close" rather than "removed during the sprint".

Changelog: Cloud's search embeds at most the first 40-100 histories of an issue (its
`changelog.total` says how many exist); when it holds fewer than the total, the issue's
full changelog is read from GET /rest/api/2/issue/{key}/changelog, page by page
(https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-changelog-get).
Data Center's expand=changelog returns it whole; should one ever be cut, the issue is read
again with GET /rest/api/2/issue/{key}?expand=changelog.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.jira_client import JiraApi, parse_time
from store.records import BacklogItem, ItemEvent, ItemField, StatusCategory, description_text

log = logging.getLogger(__name__)

STORY_POINT_ESTIMATE = "com.pyxis.greenhopper.jira:jsw-story-points"
SPRINT_SCHEMA = "com.pyxis.greenhopper.jira:gh-sprint"
EPIC_LINK_SCHEMA = "com.pyxis.greenhopper.jira:gh-epic-link"
DEFAULT_POINT_NAMES = ("story point estimate", "story points")
CATEGORY_KEYS: Mapping[str, StatusCategory] = {
    "new": StatusCategory.TODO,
    "indeterminate": StatusCategory.IN_PROGRESS,
    "done": StatusCategory.DONE,
}
CLOSE_SNAP = timedelta(seconds=60)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FieldError(ValueError):
    """A configured field the site does not have (or has more than once)."""


@dataclass(frozen=True)
class JiraFields:
    """Ids (and names, which Data Center's changelog uses instead) of the custom fields read."""

    points: str | None = None
    points_name: str | None = None
    sprint: str | None = None
    sprint_name: str = "Sprint"
    epic_link: str | None = None

    def requested(self) -> list[str]:
        base = ["summary", "issuetype", "status", "created", "updated", "resolutiondate",
                "labels", "parent", "description"]
        return base + [f for f in (self.points, self.sprint, self.epic_link) if f]


def _name(f: Mapping[str, Any]) -> str:
    return str(f.get("name") or "").casefold().strip()


def _custom(f: Mapping[str, Any]) -> str:
    return str((f.get("schema") or {}).get("custom") or "")


def resolve_fields(fields: list[dict[str, Any]], points_field: str | None) -> JiraFields:
    """Find the points, sprint and Epic Link fields among the site's fields (GET /field)."""
    by_id = {str(f.get("id")): f for f in fields}
    points = _points(fields, by_id, points_field)
    sprint = next((f for f in fields if _custom(f) == SPRINT_SCHEMA), None)
    epic = next((f for f in fields if _custom(f) == EPIC_LINK_SCHEMA), None)
    return JiraFields(
        points=str(points["id"]) if points else None,
        points_name=str(points.get("name")) if points else None,
        sprint=str(sprint["id"]) if sprint else None,
        sprint_name=str(sprint.get("name") or "Sprint") if sprint else "Sprint",
        epic_link=str(epic["id"]) if epic else None,
    )


def _points(fields: list[dict[str, Any]], by_id: Mapping[str, dict[str, Any]],
            wanted: str | None) -> dict[str, Any] | None:
    if wanted is None:
        estimate = [f for f in fields if _custom(f) == STORY_POINT_ESTIMATE]
        for name in DEFAULT_POINT_NAMES:
            estimate += [f for f in fields if _name(f) == name]
        if not estimate:
            log.warning("no 'Story point estimate' or 'Story Points' field on this site: "
                        "items get no points (set points_field)")
        return estimate[0] if estimate else None
    if wanted in by_id:
        return by_id[wanted]
    named = [f for f in fields if _name(f) == wanted.casefold().strip()]
    numeric = [f for f in named if (f.get("schema") or {}).get("type") == "number"]
    if len(named) == 1 or len(numeric) == 1:
        return (numeric or named)[0]
    if named:
        ids = ", ".join(sorted(str(f.get("id")) for f in named))
        raise FieldError(f"points_field {wanted!r} names several fields ({ids}): give its id")
    similar = sorted({str(f.get("name")) for f in fields
                      if "point" in _name(f) or "estimate" in _name(f)})
    hint = f" (fields with similar names: {', '.join(similar)})" if similar else ""
    raise FieldError(f"points_field {wanted!r} is neither a field name nor an id on this "
                     f"site{hint}")


@dataclass
class Statuses:
    """Status id or name -> category, from GET /rest/api/2/status, with the overrides."""

    by_id: dict[str, StatusCategory] = field(default_factory=dict)
    by_name: dict[str, StatusCategory] = field(default_factory=dict)
    forced: dict[str, StatusCategory] = field(default_factory=dict)

    @classmethod
    def read(cls, statuses: Iterable[Mapping[str, Any]], forced: Mapping[str, str]) -> Statuses:
        book = cls(forced={k.casefold().strip(): StatusCategory(v) for k, v in forced.items()})
        for s in statuses:
            category = CATEGORY_KEYS.get(str((s.get("statusCategory") or {}).get("key")))
            if category is None:
                continue
            book.by_id[str(s.get("id"))] = category
            book.by_name.setdefault(_name(s), category)
        return book

    def category(self, status_id: Any, name: Any, given: Any = None) -> StatusCategory | None:
        """The category of a status: forced by name, else `given` (an issue's own
        statusCategory key), else the site's status list by id, then by name."""
        folded = str(name or "").casefold().strip()
        if folded in self.forced:
            return self.forced[folded]
        if given in CATEGORY_KEYS:
            return CATEGORY_KEYS[given]
        return self.by_id.get(str(status_id)) or self.by_name.get(folded)


@dataclass
class SprintBook:
    """What is known of each sprint id, to tell which of an issue's sprints is current."""

    state: dict[str, str] = field(default_factory=dict)
    start: dict[str, datetime] = field(default_factory=dict)
    completed: dict[str, datetime] = field(default_factory=dict)

    def learn(self, sprint_id: str, state: Any, start: datetime | None,
              completed: datetime | None = None) -> None:
        if isinstance(state, str) and state:
            self.state.setdefault(sprint_id, state.lower())
        if start is not None:
            self.start.setdefault(sprint_id, start)
        if completed is not None:
            self.completed.setdefault(sprint_id, completed)

    def current(self, ids: Iterable[str]) -> str | None:
        """The open sprint among `ids` if any, else the one started last (else highest id)."""
        def rank(sprint_id: str) -> tuple[bool, datetime, int]:
            is_open = self.state.get(sprint_id) in ("active", "future")
            number = int(sprint_id) if sprint_id.isdigit() else -1
            return is_open, self.start.get(sprint_id, _EPOCH), number

        chosen = list(dict.fromkeys(ids))
        return max(chosen, key=rank) if chosen else None


_DC_SPRINT = re.compile(r"\[(.*)\]\s*$", re.S)
_DC_PAIR = re.compile(r",(?=\w+=)")


def sprint_values(value: Any, book: SprintBook) -> list[str]:
    """Sprint ids of an issue's Sprint field, learning states and starts on the way.

    Cloud gives objects {id, name, state, startDate, ...}; older Data Center gives strings
    "com.atlassian.greenhopper.service.sprint.Sprint@1f[id=12,rapidViewId=3,state=CLOSED,
    name=Sprint 1,startDate=2026-03-02T09:00:00.000+01:00,...]".
    """
    ids: list[str] = []
    for entry in value if isinstance(value, list) else []:
        if isinstance(entry, dict) and entry.get("id") is not None:
            sprint_id = str(entry["id"])
            book.learn(sprint_id, entry.get("state"), parse_time(entry.get("startDate")),
                       parse_time(entry.get("completeDate")))
        elif isinstance(entry, str) and (m := _DC_SPRINT.search(entry)):
            pairs = dict(p.split("=", 1) for p in _DC_PAIR.split(m.group(1)) if "=" in p)
            if not pairs.get("id"):
                continue
            sprint_id = pairs["id"]
            book.learn(sprint_id, pairs.get("state"), parse_time(pairs.get("startDate")),
                       parse_time(pairs.get("completeDate")))
        else:
            continue
        ids.append(sprint_id)
    return ids


def _number(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _points_text(value: Any) -> str | None:
    number = _number(value)
    return None if number is None else f"{number:g}"


def _ids(value: Any) -> list[str]:
    """Changelog sprint values: "12, 13" (or None)."""
    return [p.strip() for p in str(value or "").split(",") if p.strip()]


@dataclass
class IssueReader:
    """Turns search results into records; reads the rest of long changelogs."""

    api: JiraApi
    product: str
    fields: JiraFields
    statuses: Statuses
    sprints: SprintBook
    histories_read: int = 0

    def records(self, issue: dict[str, Any]) -> Iterator[BacklogItem | ItemEvent]:
        item = self.item(issue)
        yield item
        yield from self.events(item.key, self.histories(issue))

    # ------------------------------------------------------------ the item

    def item(self, issue: dict[str, Any]) -> BacklogItem:
        key = str(issue["key"])
        f = issue.get("fields") or {}
        status = f.get("status") or {}
        given = (status.get("statusCategory") or {}).get("key")
        category = self.statuses.category(status.get("id"), status.get("name"), given)
        created = parse_time(f.get("created"))
        if created is None:
            raise self.api.collector.fail(f"issue {key}: no readable 'created' date")
        sprint_ids = sprint_values(f.get(self.fields.sprint), self.sprints) \
            if self.fields.sprint else []
        return BacklogItem(
            product=self.product,
            key=key,
            title=str(f.get("summary") or ""),
            type=str((f.get("issuetype") or {}).get("name") or ""),
            status=str(status.get("name") or ""),
            status_category=category or StatusCategory.TODO,
            created=created,
            points=_number(f.get(self.fields.points)) if self.fields.points else None,
            epic=self._epic(f),
            sprint=self.sprints.current(sprint_ids),
            resolved=parse_time(f.get("resolutiondate")),
            labels=tuple(str(x) for x in f.get("labels") or ()),
            url=f"{self.api.settings.base_url}/browse/{key}",
            description=description_text(f.get("description")),
        )

    def _epic(self, f: Mapping[str, Any]) -> str | None:
        if self.fields.epic_link and f.get(self.fields.epic_link):
            return str(f[self.fields.epic_link])
        parent = f.get("parent") or {}
        if not parent.get("key") or (f.get("issuetype") or {}).get("subtask"):
            return None
        return str(parent["key"])

    # ------------------------------------------------------------ the changelog

    def histories(self, issue: dict[str, Any]) -> list[dict[str, Any]]:
        key = str(issue["key"])
        changelog = issue.get("changelog") or {}
        embedded = [h for h in changelog.get("histories") or [] if isinstance(h, dict)]
        total = int(changelog.get("total") or len(embedded))
        if total > len(embedded):
            embedded = self._full_changelog(key)
        self.histories_read += len(embedded)
        return embedded

    def _full_changelog(self, key: str) -> list[dict[str, Any]]:
        if self.api.cloud:
            return [h for page in self.api.pages(f"issue/{key}/changelog", api="api")
                    for h in page]
        whole = self.api.get(f"issue/{key}", {"expand": "changelog", "fields": "created"})
        return list(((whole or {}).get("changelog") or {}).get("histories") or [])

    def events(self, key: str, histories: list[dict[str, Any]]) -> Iterator[ItemEvent]:
        dated = [(parse_time(h.get("created")), h) for h in histories]
        ordered = sorted(((t, h) for t, h in dated if t is not None),
                         key=lambda th: (th[0], _as_int(th[1].get("id"))))
        for ts, history in ordered:
            for change in history.get("items") or []:
                if isinstance(change, dict):
                    yield from self._change(key, ts, change)

    def _change(self, key: str, ts: datetime, c: Mapping[str, Any]) -> Iterator[ItemEvent]:
        field_id = c.get("fieldId")
        name = str(c.get("field") or "")
        if field_id == "status" or (field_id is None and name.lower() == "status"):
            yield ItemEvent(self.product, key, ts, ItemField.STATUS, c.get("fromString"),
                            c.get("toString"))
            before = self.statuses.category(c.get("from"), c.get("fromString"))
            after = self.statuses.category(c.get("to"), c.get("toString"))
            if after is not None and before != after:
                yield ItemEvent(self.product, key, ts, ItemField.STATUS_CATEGORY,
                                None if before is None else str(before), str(after))
        elif self._is(c, self.fields.points, self.fields.points_name):
            old, new = _points_text(c.get("fromString")), _points_text(c.get("toString"))
            if old != new:
                yield ItemEvent(self.product, key, ts, ItemField.POINTS, old, new)
        elif self._is(c, self.fields.sprint, self.fields.sprint_name):
            left = self.sprints.current(_ids(c.get("from")))
            joined = self.sprints.current(_ids(c.get("to")))
            if left != joined:
                yield ItemEvent(self.product, key, self._snap(ts, left), ItemField.SPRINT,
                                left, joined)

    @staticmethod
    def _is(c: Mapping[str, Any], field_id: str | None, name: str | None) -> bool:
        if field_id is None:
            return False
        if c.get("fieldId") is not None:
            return c.get("fieldId") == field_id
        return name is not None and str(c.get("field") or "").casefold() == name.casefold()

    def _snap(self, ts: datetime, left: str | None) -> datetime:
        """A move out of a sprint completed just before is Jira carrying it over at the close."""
        closed = self.sprints.completed.get(left) if left else None
        if closed is not None and abs(ts - closed) <= CLOSE_SNAP:
            return closed
        return ts


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
