"""The `jira` source: boards, sprints and Jira's sprint reports, then issues and changelogs.

One run, in order (each request retried and bounded by the run's deadline):
1. GET /field (points, Sprint and Epic Link fields; an unknown `points_field` fails the
   run naming it) and GET /status (status -> category, for changelog entries).
2. Sprints of every board (configured, or the project's scrum boards), all of them each
   run: a board's sprint list is complete, so a sprint deleted in Jira leaves the store
   (`Present`). Closed sprints completed since the watermark (all of them on the first
   run) also get Jira's sprint report.
3. Issues: `project = X AND (jql)`, since the second run only `updated >= <watermark -
   overlap>` written in the Jira user's time zone (GET /myself; JQL dates are local to
   the user), ordered by created so pages stay stable while issues change. Each issue
   comes with its changelog (the rest of it read separately when the search cut it).
4. Deleted issues: the first run reads every issue, so its keys are the complete set. Later
   runs list every key (a keys-only search of the same JQL) when the run crosses a
   multiple of `reconcile_every` since the epoch: at most once per period, with no state
   kept beyond the watermark. Keys missing from that list leave the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from collectors.base import Collector, reconcile_due
from collectors.jira_client import JiraApi, jql_string, since_clause
from collectors.jira_issues import FieldError, IssueReader, SprintBook, Statuses, resolve_fields
from collectors.jira_sprints import board_ids, board_sprints, read_sprint_report, sprint_record
from config.sources.jira import JiraSource
from store.records import Entity, Present, Record, Sprint

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class JiraCollector(Collector[JiraSource]):
    kind = "jira"

    @property
    def where(self) -> str:
        return self.settings.base_url

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        api = JiraApi(self)
        try:
            yield from self._collect(api, since, until)
        finally:
            api.close()

    def _collect(self, api: JiraApi, since: datetime | None, until: datetime
                 ) -> Iterator[Record]:
        try:
            fields = resolve_fields(api.fields(), self.settings.points_field)
        except FieldError as e:
            raise self.fail(str(e)) from None
        statuses = Statuses.read(api.statuses(), self.settings.status_categories)
        book = SprintBook()
        yield from self._sprints(api, book, since, fields.points)
        reader = IssueReader(api, self.product, fields, statuses, book)
        keys: set[str] = set()
        clause = since_clause(since, self.settings.overlap, api.time_zone()) if since else None
        for page in api.search(self.jql(clause), fields.requested(), expand="changelog"):
            for issue in page:
                keys.add(str(issue["key"]))
                yield from reader.records(issue)
        if since is None:
            yield Present(self.product, Entity.BACKLOG_ITEM, frozenset(keys))
        elif reconcile_due(since, until, self.settings.reconcile_every):
            yield Present(self.product, Entity.BACKLOG_ITEM, frozenset(self._all_keys(api)))

    # ------------------------------------------------------------ sprints

    def _sprints(self, api: JiraApi, book: SprintBook, since: datetime | None,
                 points_field: str | None) -> Iterator[Record]:
        boards = board_ids(api)
        if not boards:
            return
        seen: dict[str, tuple[Sprint, int]] = {}
        for board in boards:
            for raw in board_sprints(api, board):
                sprint = sprint_record(self.product, raw)
                origin = str(raw.get("originBoardId") or "")
                home = int(origin) if origin.isdigit() else board
                seen.setdefault(sprint.external_id, (sprint, home))
        for sprint, _home in seen.values():
            book.learn(sprint.external_id, sprint.state, sprint.start, sprint.completed)
            yield sprint
        yield Present(self.product, Entity.SPRINT, frozenset(seen))
        cutoff = None if since is None else since - self.settings.overlap
        for sprint, home in seen.values():
            if sprint.state != "closed":
                continue
            if cutoff is not None and (sprint.completed is None or sprint.completed < cutoff):
                continue  # its report was read when it closed
            report = read_sprint_report(api, self.product, home, sprint.external_id,
                                        points_field)
            if report is not None:
                yield report

    # ------------------------------------------------------------ issues

    def jql(self, *extra: str | None) -> str:
        """`project = X AND (jql) AND extra...`, ordered by created (stable while paging)."""
        clauses = []
        if self.settings.project:
            clauses.append(f"project = {jql_string(self.settings.project)}")
        if self.settings.jql:
            clauses.append(f"({self.settings.jql})")
        clauses += [c for c in extra if c]
        return " AND ".join(clauses) + " ORDER BY created ASC"

    def _all_keys(self, api: JiraApi) -> set[str]:
        return {str(i["key"]) for page in api.search(self.jql(), ["id"]) for i in page}
