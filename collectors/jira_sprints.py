"""Boards, their sprints, and Jira's own sprint report of each closed sprint.

Endpoints (Jira Software REST, the same on Cloud and Data Center):
- GET /rest/agile/1.0/board?projectKeyOrId=&type=scrum (the project's boards, when the
  source lists none; kanban boards have no sprints)
  https://developer.atlassian.com/cloud/jira/software/rest/api-group-board/#api-rest-agile-1-0-board-get
- GET /rest/agile/1.0/board/{id}/sprint (every sprint: future, active, closed)
  https://developer.atlassian.com/cloud/jira/software/rest/api-group-board/#api-rest-agile-1-0-board-boardid-sprint-get
- GET /rest/greenhopper/1.0/rapid/charts/sprintreport?rapidViewId=&sprintId= (the data of
  the board's Sprint Report page: Jira's internal API, undocumented but stable for a decade
  and what the `jira` library's own `removed_issues` and `incompletedIssuesEstimateSum`
  read; the same on Data Center)

The sprint report, and how dspo reads it into `SprintReport` (points):
- `contents.completedIssues`, `issuesNotCompletedInCurrentSprint` (older sites:
  `incompletedIssues`) and `puntedIssues` (removed from the sprint) list issues; each has
  `estimateStatistic` (its estimate when the sprint started, or when it was added) and
  `currentEstimateStatistic` (its estimate at the close); `issueKeysAddedDuringSprint`
  maps the keys added after the start to true.
- completed = `completedIssuesEstimateSum`, not completed = `issuesNotCompletedEstimateSum`,
  removed = `puntedIssuesEstimateSum` (Jira's sums of current estimates; when Jira leaves a
  sum out, `{"text": "null"}`, the per-issue current estimates are summed).
- **committed** (Jira's velocity chart "Commitment": what the sprint held when it started,
  at the estimates it had then) = the sum of `estimateStatistic` over the issues of
  completedIssues + issuesNotCompletedInCurrentSprint + puntedIssues whose key is not in
  `issueKeysAddedDuringSprint`. Equivalently: completedIssuesInitialEstimateSum +
  issuesNotCompletedInitialEstimateSum + puntedIssuesInitialEstimateSum minus the initial
  estimates of the added issues. `issuesCompletedInAnotherSprint` is left out: that work was
  done outside the sprint (dspo's velocity leaves it out too).
- added = the sum of `estimateStatistic` (the estimate when added) of the added issues.

A sprint report is read once per closed sprint: in the run where the sprint's completeDate
falls after the watermark (less the overlap), or in the first run for every closed sprint.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from collectors.base import FatalSourceError
from collectors.jira_client import JiraApi, parse_time
from store.records import Sprint, SprintReport

log = logging.getLogger(__name__)

STATES = ("future", "active", "closed")


def board_ids(api: JiraApi) -> list[int]:
    """The configured boards, else the project's scrum boards (none without a project)."""
    settings = api.settings
    if settings.boards:
        return list(dict.fromkeys(settings.boards))
    if not settings.project:
        return []
    found: list[int] = []
    params = {"projectKeyOrId": settings.project, "type": "scrum"}
    for page in api.pages("board", params, api="agile"):
        found += [int(b["id"]) for b in page if str(b.get("id", "")).isdigit()]
    return list(dict.fromkeys(found))


def board_sprints(api: JiraApi, board: int) -> Iterator[dict[str, Any]]:
    for page in api.pages(f"board/{board}/sprint", api="agile"):
        yield from (s for s in page if s.get("id") is not None)


def sprint_record(product: str, raw: Mapping[str, Any]) -> Sprint:
    state = str(raw.get("state") or "").lower()
    return Sprint(
        product=product,
        external_id=str(raw["id"]),
        name=str(raw.get("name") or raw["id"]),
        state=state if state in STATES else state or "future",
        start=parse_time(raw.get("startDate")),
        end=parse_time(raw.get("endDate")),
        completed=parse_time(raw.get("completeDate")),
        goal=str(raw.get("goal") or ""),
    )


def read_sprint_report(api: JiraApi, product: str, board: int, sprint: str,
                       points_field: str | None) -> SprintReport | None:
    """Jira's report of one closed sprint; None (with a warning) when Jira refuses it.

    The report is Jira's internal API: a site that refuses it (404, 403) loses only the
    comparison on the Sprint page, not the run.
    """
    try:
        answer = api.get("rapid/charts/sprintreport",
                         {"rapidViewId": board, "sprintId": sprint}, api="greenhopper")
    except FatalSourceError as e:
        log.warning("source %s: no sprint report for sprint %s of board %s: %s",
                    api.settings.name, sprint, board, e.cause)
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("contents"), dict):
        raise api.collector.fail(f"sprint report of sprint {sprint}: no 'contents' object")
    used = estimate_field(answer["contents"])
    if used and points_field and used != points_field:
        log.warning("source %s: board %s estimates with %s, dspo reads points from %s: "
                    "Jira's and dspo's sprint figures will differ (set points_field: %s)",
                    api.settings.name, board, used, points_field, used)
    return parse_sprint_report(product, sprint, answer["contents"])


def _issues(contents: Mapping[str, Any], *names: str) -> list[dict[str, Any]]:
    for name in names:
        value = contents.get(name)
        if isinstance(value, list):
            return [i for i in value if isinstance(i, dict) and i.get("key")]
    return []


def _estimate(issue: Mapping[str, Any], statistic: str) -> float:
    value = ((issue.get(statistic) or {}).get("statFieldValue") or {}).get("value")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else 0.0


def _sum(contents: Mapping[str, Any], names: tuple[str, ...],
         issues: list[dict[str, Any]]) -> float:
    """Jira's sum if it gives one, else the issues' current estimates added up."""
    for name in names:
        value = (contents.get(name) or {}).get("value")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return sum(_estimate(i, "currentEstimateStatistic") for i in issues)


def estimate_field(contents: Mapping[str, Any]) -> str | None:
    """The field the board estimates with, as the report's statistics name it."""
    for name in ("completedIssues", "issuesNotCompletedInCurrentSprint", "incompletedIssues",
                 "puntedIssues"):
        for issue in _issues(contents, name):
            for statistic in ("estimateStatistic", "currentEstimateStatistic"):
                field = (issue.get(statistic) or {}).get("statFieldId")
                if isinstance(field, str) and field.startswith("customfield_"):
                    return field
    return None


def parse_sprint_report(product: str, sprint: str, contents: Mapping[str, Any]
                        ) -> SprintReport:
    """The `contents` of a sprint report as dspo's record (formulas in the module doc)."""
    completed = _issues(contents, "completedIssues")
    not_completed = _issues(contents, "issuesNotCompletedInCurrentSprint", "incompletedIssues")
    removed = _issues(contents, "puntedIssues")
    added_map = contents.get("issueKeysAddedDuringSprint")
    added_keys = {str(k) for k, v in added_map.items() if v} \
        if isinstance(added_map, dict) else set()
    listed = completed + not_completed + removed
    committed = sum(_estimate(i, "estimateStatistic") for i in listed
                    if str(i["key"]) not in added_keys)
    added = [i for i in listed if str(i["key"]) in added_keys]
    return SprintReport(
        product=product,
        sprint=sprint,
        committed=committed,
        completed=_sum(contents, ("completedIssuesEstimateSum",), completed),
        not_completed=_sum(contents, ("issuesNotCompletedEstimateSum",
                                      "incompletedIssuesEstimateSum"), not_completed),
        removed=_sum(contents, ("puntedIssuesEstimateSum",), removed),
        added=sum(_estimate(i, "estimateStatistic") for i in added),
        completed_keys=_keys(completed),
        not_completed_keys=_keys(not_completed),
        removed_keys=_keys(removed),
        added_keys=tuple(sorted(str(i["key"]) for i in added)),
    )


def _keys(issues: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(sorted({str(i["key"]) for i in issues}))
