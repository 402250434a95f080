"""GitHub issues as backlog items, milestones (or a project's iterations) as sprints, and the
issue timeline as their history.

Endpoints (https://docs.github.com/en/rest/issues):
- GET /repos/{owner}/{repo}/issues?state=all&since=…&sort=updated&direction=desc
  (https://docs.github.com/en/rest/issues/issues#list-repository-issues): lists pull requests
  too (they carry a `pull_request` key and are left out).
- GET /repos/{owner}/{repo}/issues/{number}/timeline
  (https://docs.github.com/en/rest/issues/timeline#list-timeline-events-for-an-issue)
- GET /repos/{owner}/{repo}/milestones?state=all
  (https://docs.github.com/en/rest/issues/milestones#list-milestones)
- POST /graphql `repository.issues` (https://docs.github.com/en/graphql/reference/objects
  #repository): every issue number, for reconciliation; and a project's items and iteration
  field (`collectors/github_projects.py`).

Incremental rule: issues updated since the watermark (less `overlap`) are listed (`since=`)
and their timelines read; the first run lists every issue and reads the timelines of those
updated in the last `history_days`. With a project, every issue is listed each run (a
project field change does not touch the issue's `updated_at`); timelines are still read
only for updated issues. Milestones are listed in full each run (`Present` of sprints);
every `reconcile_every`, the repository's issue numbers are listed through GraphQL (cursor
pages, which no deletion shifts) and a `Present` drops deleted or transferred issues.

History: each timeline is replayed from the issue's creation (open, no labels, no
milestone, no assignee) through closed/reopened, labeled/unlabeled, assigned/unassigned and
milestoned/demilestoned events; every change of the derived status, category, points or
sprint is an `ItemEvent`. Changes in one second are merged into one. Where the replay ends
elsewhere than the issue is now (a label or milestone renamed or deleted since), a change
at the issue's last update brings the history to the current value.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.base import Collector, reconcile_due
from collectors.github_common import GithubApi, iso, login, parse_time
from collectors.github_projects import ProjectView, read_project
from config.sources.github import GithubIssuesSource
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

TRACKED_EVENTS = frozenset({"closed", "reopened", "labeled", "unlabeled", "assigned",
                            "unassigned", "milestoned", "demilestoned"})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # an issue without a creation time (never seen)
PARENT_URL = re.compile(r"/repos/([^/]+/[^/]+)/issues/(\d+)$")
ISSUE_NUMBERS = """
query($owner: String!, $name: String!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    issues(first: 100, after: $cursor) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { number }
    }
  }
}
"""


@dataclass
class _State:
    """An issue's fields that its history is derived from, at one instant."""

    open: bool = True
    reason: str | None = None
    labels: set[str] = field(default_factory=set)
    assignees: set[str] = field(default_factory=set)
    milestone: str | None = None  # title, as timeline events name milestones


class Rules:
    """The configured mappings from an issue's fields to an item's."""

    def __init__(self, settings: GithubIssuesSource, milestones: dict[str, str],
                 project: ProjectView | None) -> None:
        self.settings = settings
        self.milestones = milestones  # title -> sprint id, of the milestones that are sprints
        self.project = project
        self.points_rx = (re.compile(settings.points_label_pattern)
                          if settings.points_label_pattern else None)
        name = settings.repo.split("/", 1)[1]
        self.prefix = name if settings.key_prefix is None else settings.key_prefix

    def key(self, number: Any, repo: str | None = None) -> str:
        if repo is None or repo.lower() == self.settings.repo.lower():
            return f"{self.prefix}#{number}"
        return f"{repo}#{number}"

    def points(self, labels: Iterable[str]) -> float | None:
        """The largest estimate the labels give (`points_labels`, `points_label_pattern`)."""
        found = [self.settings.points_labels[x] for x in labels if x in self.settings.points_labels]
        if self.points_rx is not None:
            found += [float(m.group(1)) for x in labels if (m := self.points_rx.fullmatch(x))]
        return max(found) if found else None

    def status(self, state: _State) -> tuple[str, StatusCategory]:
        if not state.open:
            reason = state.reason or "completed"
            words = "closed" if reason == "completed" else f"closed ({reason.replace('_', ' ')})"
            return words, StatusCategory.DONE
        if state.labels & set(self.settings.in_progress_labels) or (
            self.settings.in_progress_when_assigned and state.assignees
        ):
            return "in progress", StatusCategory.IN_PROGRESS
        return "open", StatusCategory.TODO

    def sprint(self, state: _State) -> str | None:
        return self.milestones.get(state.milestone) if state.milestone else None

    def item_type(self, issue: dict[str, Any], labels: list[str]) -> str:
        issue_type = issue.get("type")
        if isinstance(issue_type, dict) and issue_type.get("name"):
            return str(issue_type["name"])
        return next((self.settings.type_labels[x] for x in labels
                     if x in self.settings.type_labels), self.settings.default_type)

    def epic(self, issue: dict[str, Any], labels: list[str]) -> str | None:
        parent = PARENT_URL.search(str(issue.get("parent_issue_url") or ""))
        if self.settings.epic_from_parent and parent:
            return self.key(parent.group(2), parent.group(1))
        prefix = self.settings.epic_label_prefix
        if prefix:
            return next((x[len(prefix):].strip() for x in labels if x.startswith(prefix)), None)
        return None

    def item(self, product: str, issue: dict[str, Any]) -> BacklogItem:
        state = current_state(issue)
        labels = [str(x.get("name")) for x in issue.get("labels") or [] if isinstance(x, dict)]
        status, category = self.status(state)
        points, item_type, sprint = self.points(labels), self.item_type(issue, labels), None
        if self.settings.sprints == "milestones":
            sprint = self.sprint(state)
        project = self.project
        number = issue.get("number")
        fields = project.items.get(number) if project and isinstance(number, int) else None
        if project is not None and fields is not None:  # the board's fields win
            points = fields.points if project.has_points else points
            item_type = fields.type or item_type
            if self.settings.sprints == "project":
                sprint = fields.sprint
            if state.open and fields.status is not None:
                status, category = fields.status, project.category(fields.status)
        created = parse_time(issue.get("created_at")) or parse_time(issue.get("updated_at"))
        return BacklogItem(
            product=product,
            key=self.key(issue.get("number")),
            title=str(issue.get("title") or ""),
            type=item_type,
            status=status,
            status_category=category,
            created=created or EPOCH,
            points=points,
            epic=self.epic(issue, labels),
            sprint=sprint,
            resolved=parse_time(issue.get("closed_at")) if not state.open else None,
            labels=tuple(labels),
            url=issue.get("html_url"),
            description=description_text(issue.get("body")),
        )


def current_state(issue: dict[str, Any]) -> _State:
    milestone = issue.get("milestone")
    return _State(
        open=issue.get("state") != "closed",
        reason=issue.get("state_reason"),
        labels={str(x.get("name")) for x in issue.get("labels") or [] if isinstance(x, dict)},
        assignees={a for a in map(login, issue.get("assignees") or []) if a},
        milestone=milestone.get("title") if isinstance(milestone, dict) else None,
    )


class GithubIssuesCollector(Collector[GithubIssuesSource]):
    kind = "github_issues"

    @property
    def where(self) -> str:
        return f"{str(self.settings.api_url).rstrip('/')}/repos/{self.settings.repo}"

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        settings = self.settings
        with GithubApi(self) as api:
            milestones: dict[str, str] = {}
            if settings.sprints == "milestones":
                sprints, milestones = self._milestones(api, until)
                yield from self._sprints(sprints)
            project = read_project(self, api, until) if settings.project else None
            if project is not None and settings.sprints == "project":
                yield from self._sprints(project.sprints)
            rules = Rules(settings, milestones, project)
            yield from self._issues(api, rules, since, until)
            if reconcile_due(since, until, settings.reconcile_every):
                keys = self._all_keys(api, rules)
                if keys is not None:
                    yield Present(self.product, Entity.BACKLOG_ITEM, keys)

    def _sprints(self, sprints: list[Sprint]) -> Iterator[Record]:
        """Sprints are listed in full every run: their keys are all there are."""
        yield from sprints
        yield Present(self.product, Entity.SPRINT, frozenset(s.external_id for s in sprints))

    # ------------------------------------------------------------ issues and timelines

    def _issues(self, api: GithubApi, rules: Rules, since: datetime | None,
                until: datetime) -> Iterator[Record]:
        settings = self.settings
        params = {"state": "all", "sort": "updated", "direction": "desc"}
        if since is not None and settings.project is None:
            params["since"] = iso(since - settings.overlap)
        timelines_from = (since - settings.overlap if since is not None
                          else until - timedelta(days=settings.history_days))
        path = f"/repos/{settings.repo}/issues"
        for page in api.pages(path, params, doing=f"GET {path}"):
            for issue in page.items:
                if "pull_request" in issue:
                    continue
                item = rules.item(self.product, issue)
                yield item
                updated = parse_time(issue.get("updated_at"))
                if updated is not None and updated >= timelines_from:
                    yield from self._history(api, rules, issue, item)

    def _history(self, api: GithubApi, rules: Rules, issue: dict[str, Any],
                 item: BacklogItem) -> list[ItemEvent]:
        path = f"/repos/{self.settings.repo}/issues/{issue.get('number')}/timeline"
        events = [e for page in api.pages(path, doing=f"GET {path}") for e in page.items
                  if e.get("event") in TRACKED_EVENTS and parse_time(e.get("created_at"))]
        changes = replay(rules, events)
        now = _initial(rules)
        for _, name, _, new in changes:
            now[name] = new
        final = {ItemField.STATUS: item.status,
                 ItemField.STATUS_CATEGORY: item.status_category.value,
                 ItemField.POINTS: _text(item.points), ItemField.SPRINT: item.sprint}
        updated = parse_time(issue.get("updated_at")) or item.created
        changes += [(updated, name, now[name], final[name]) for name in _replayed_fields(rules)
                    if now[name] != final[name]]
        return [ItemEvent(self.product, item.key, ts, name, old, new)
                for ts, name, old, new in merge_same_second(changes)]

    # ------------------------------------------------------------ sprints

    def _milestones(self, api: GithubApi, until: datetime) -> tuple[list[Sprint], dict[str, str]]:
        settings = self.settings
        path = f"/repos/{settings.repo}/milestones"
        pattern = re.compile(settings.milestone_pattern) if settings.milestone_pattern else None
        found = [m for page in api.pages(path, {"state": "all", "sort": "due_on",
                                                "direction": "asc"}, doing=f"GET {path}")
                 for m in page.items
                 if pattern is None or pattern.search(str(m.get("title") or ""))]
        sprints = milestone_sprints(self.product, settings.repo, found, settings.sprint_days,
                                    until)
        ids = {str(m.get("title")): sprint.external_id for m, sprint in zip(found, sprints,
                                                                            strict=True)}
        return sprints, ids

    # ------------------------------------------------------------ reconciliation

    def _all_keys(self, api: GithubApi, rules: Rules) -> frozenset[str] | None:
        owner, name = self.settings.repo.split("/", 1)
        keys: set[str] = set()
        cursor: str | None = None
        total = None
        while True:
            data = api.graphql(ISSUE_NUMBERS, {"owner": owner, "name": name, "cursor": cursor},
                               doing="issue numbers")
            issues = ((data.get("repository") or {}).get("issues")) or {}
            keys |= {rules.key(n["number"]) for n in issues.get("nodes") or [] if n}
            total = issues.get("totalCount")
            info = issues.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                break
            cursor = info.get("endCursor")
        if total != len(keys):
            log.warning("%s: GitHub counted %s issues but listed %d; deletions are reflected "
                        "at the next reconciliation", self.name, total, len(keys))
            return None
        return frozenset(keys)


# ---------------------------------------------------------------- pure helpers

Change = tuple[datetime, ItemField, str | None, str | None]


def _text(points: float | None) -> str | None:
    return None if points is None else f"{points:g}"


def _replayed_fields(rules: Rules) -> list[ItemField]:
    """The fields whose history the timeline tells (a project's fields have none)."""
    project = rules.project
    fields = [ItemField.STATUS, ItemField.STATUS_CATEGORY]
    if project is not None and project.has_status:
        fields = []
    if not (project is not None and project.has_points):
        fields.append(ItemField.POINTS)
    if rules.settings.sprints == "milestones":
        fields.append(ItemField.SPRINT)
    return fields


def _values(rules: Rules, state: _State) -> dict[ItemField, str | None]:
    status, category = rules.status(state)
    return {ItemField.STATUS: status, ItemField.STATUS_CATEGORY: category.value,
            ItemField.POINTS: _text(rules.points(state.labels)),
            ItemField.SPRINT: rules.sprint(state)}


def _initial(rules: Rules) -> dict[ItemField, str | None]:
    return _values(rules, _State())


def replay(rules: Rules, events: list[dict[str, Any]]) -> list[Change]:
    """Every change of the replayed fields, oldest first, from the issue's creation on."""
    owned = _replayed_fields(rules)
    state = _State()
    before = _values(rules, state)
    changes: list[Change] = []
    for event in sorted(events, key=lambda e: str(e.get("created_at"))):
        apply(state, event)
        after = _values(rules, state)
        ts = parse_time(event.get("created_at"))
        assert ts is not None  # events without a time were left out
        changes += [(ts, name, before[name], after[name]) for name in owned
                    if before[name] != after[name]]
        before = after
    return changes


def apply(state: _State, event: dict[str, Any]) -> None:
    """One timeline event's effect on the fields history is derived from."""
    kind = event.get("event")
    label = (event.get("label") or {}).get("name")
    milestone = (event.get("milestone") or {}).get("title")
    if kind == "closed":
        state.open, state.reason = False, event.get("state_reason")
    elif kind == "reopened":
        state.open, state.reason = True, None
    elif kind == "labeled" and label:
        state.labels.add(str(label))
    elif kind == "unlabeled" and label:
        state.labels.discard(str(label))
    elif kind == "assigned" and (who := login(event.get("assignee"))):
        state.assignees.add(who)
    elif kind == "unassigned" and (who := login(event.get("assignee"))):
        state.assignees.discard(who)
    elif kind == "milestoned" and milestone:
        state.milestone = str(milestone)
    elif kind == "demilestoned" and (milestone is None or milestone == state.milestone):
        state.milestone = None


def merge_same_second(changes: list[Change]) -> list[Change]:
    """One change per field and instant (the store keys events so): the first change's
    old value to the last one's new value; a change that ends where it began is dropped."""
    merged: dict[tuple[datetime, ItemField], Change] = {}
    for ts, name, old, new in changes:
        first = merged.get((ts, name))
        merged[(ts, name)] = (ts, name, first[2] if first else old, new)
    return [c for c in merged.values() if c[2] != c[3]]


def milestone_sprints(product: str, repo: str, milestones: list[dict[str, Any]],
                      sprint_days: int, until: datetime) -> list[Sprint]:
    """Milestones as sprints, in the order given. A milestone has a due date but no start:
    a sprint starts at the previous milestone's due date (by due date), at most
    `sprint_days` before its own; an open milestone is active once started, future before."""
    length = timedelta(days=sprint_days)
    dues = sorted(d for m in milestones if (d := parse_time(m.get("due_on"))))
    sprints = []
    for m in milestones:
        end = parse_time(m.get("due_on"))
        start = None
        if end is not None:
            earlier = [d for d in dues if d < end]
            start = max(earlier[-1], end - length) if earlier else end - length
        closed = m.get("state") == "closed"
        state = "closed" if closed else ("active" if start and start <= until else "future")
        sprints.append(Sprint(
            product=product,
            external_id=f"{repo}/milestones/{m.get('number')}",
            name=str(m.get("title") or m.get("number")),
            state=state,
            start=start,
            end=end,
            completed=parse_time(m.get("closed_at")) if closed else None,
            goal=str(m.get("description") or "").strip(),
        ))
    return sprints
