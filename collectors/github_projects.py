"""A Projects (v2) board as the source of sprints (its iteration field), points, type and
status of GitHub issues, through GraphQL (Projects v2 has no REST API for items).

GraphQL (https://docs.github.com/en/graphql/reference/objects#projectv2,
https://docs.github.com/en/issues/planning-and-tracking-with-projects/automating-your-project/
using-the-api-to-manage-projects): `organization(login).projectV2(number)` (or `user`), its
iteration field's `configuration` (`iterations` and `completedIterations`: id, title,
startDate, duration in days) and its `items` with their field values, 100 per page
(cursor pages).

A project keeps no history of its field values that the API shows, so points, type,
status and sprint are the current ones: an item moved to another iteration mid-sprint
looks as if it had always been there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from collectors.github_common import GithubApi
from store.records import Sprint, StatusCategory

if TYPE_CHECKING:
    from collectors.github_issues import GithubIssuesCollector
    from config.sources.github import GithubProject

ITERATION = """
    ... on ProjectV2IterationField {
      name
      configuration {
        iterations { id title startDate duration }
        completedIterations { id title startDate duration }
      }
    }"""
VALUE_FIELD = "field { ... on ProjectV2FieldCommon { name } }"
PROJECT_ITEMS = """
query($login: String!, $number: Int!, $cursor: String) {
  OWNER(login: $login) {
    projectV2(number: $number) {
      fields(first: 50) { nodes { ITERATION } }
      items(first: 100, after: $cursor) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          content { ... on Issue { number repository { nameWithOwner } } }
          fieldValues(first: 50) {
            nodes {
              ... on ProjectV2ItemFieldIterationValue { iterationId VALUE_FIELD }
              ... on ProjectV2ItemFieldNumberValue { number VALUE_FIELD }
              ... on ProjectV2ItemFieldSingleSelectValue { name VALUE_FIELD }
            }
          }
        }
      }
    }
  }
}
""".replace("ITERATION", ITERATION).replace("VALUE_FIELD", VALUE_FIELD)


@dataclass(frozen=True)
class ProjectFields:
    """One issue's values of the configured project fields (None: not set)."""

    sprint: str | None = None
    points: float | None = None
    type: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class ProjectView:
    """What a project says about the repository's issues, by issue number."""

    settings: GithubProject
    items: dict[int, ProjectFields]
    sprints: list[Sprint]

    @property
    def has_points(self) -> bool:
        return self.settings.points_field is not None

    @property
    def has_status(self) -> bool:
        return self.settings.status_field is not None

    def category(self, status: str) -> StatusCategory:
        return StatusCategory(self.settings.status_categories.get(status, "in_progress"))


def read_project(collector: GithubIssuesCollector, api: GithubApi, until: datetime) -> ProjectView:
    """Read the project's iterations and the field values of the repository's issues."""
    settings = collector.settings
    project = settings.project
    assert project is not None
    query = PROJECT_ITEMS.replace("OWNER", project.owner_type)
    iterations: list[dict[str, Any]] = []
    completed: set[str] = set()
    items: dict[int, ProjectFields] = {}
    for node in _pages(api, query, project, iterations, completed):
        content = node.get("content") or {}
        repo = (content.get("repository") or {}).get("nameWithOwner", "")
        if str(repo).lower() == settings.repo.lower() and isinstance(content.get("number"), int):
            items[content["number"]] = _fields(node, project)
    sprints = [_sprint(collector.product, project, it, it["id"] in completed, until)
               for it in iterations]
    return ProjectView(project, items, sprints)


def _pages(api: GithubApi, query: str, project: GithubProject,
           iterations: list[dict[str, Any]], completed: set[str]) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    first = True
    while True:
        variables = {"login": project.owner, "number": project.number, "cursor": cursor}
        data = api.graphql(query, variables, doing=f"project {project.owner}/{project.number}")
        board = (data.get(project.owner_type) or {}).get("projectV2")
        if not isinstance(board, dict):
            raise api.collector.fail(
                f"project {project.number} of {project.owner_type} {project.owner} not found"
            )
        if first:
            _iterations(board, project, iterations, completed, api)
            first = False
        page = board.get("items") or {}
        yield from (n for n in page.get("nodes") or [] if isinstance(n, dict))
        info = page.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return
        cursor = info.get("endCursor")


def _iterations(board: dict[str, Any], project: GithubProject, iterations: list[dict[str, Any]],
                completed: set[str], api: GithubApi) -> None:
    for node in (board.get("fields") or {}).get("nodes") or []:
        if isinstance(node, dict) and node.get("name") == project.iteration_field:
            config = node.get("configuration") or {}
            done = [i for i in config.get("completedIterations") or [] if isinstance(i, dict)]
            iterations += done + [i for i in config.get("iterations") or [] if isinstance(i, dict)]
            completed |= {str(i.get("id")) for i in done}
            return
    if api.collector.settings.sprints == "project":
        raise api.collector.fail(
            f"project {project.number} has no iteration field named {project.iteration_field!r}"
        )


def sprint_id(project: GithubProject, iteration_id: str) -> str:
    """A sprint's external id: iteration ids are unique only within their project."""
    return f"{project.owner}/projects/{project.number}/iterations/{iteration_id}"


def _fields(node: dict[str, Any], project: GithubProject) -> ProjectFields:
    values: dict[str, dict[str, Any]] = {}
    for value in (node.get("fieldValues") or {}).get("nodes") or []:
        if isinstance(value, dict) and isinstance(value.get("field"), dict):
            values[str(value["field"].get("name"))] = value
    iteration = values.get(project.iteration_field, {}).get("iterationId")
    points = values.get(project.points_field or "", {}).get("number")
    return ProjectFields(
        sprint=sprint_id(project, str(iteration)) if iteration else None,
        points=float(points) if isinstance(points, int | float) else None,
        type=values.get(project.type_field or "", {}).get("name"),
        status=values.get(project.status_field or "", {}).get("name"),
    )


def _sprint(product: str, project: GithubProject, iteration: dict[str, Any], completed: bool,
            until: datetime) -> Sprint:
    start = datetime.fromisoformat(str(iteration.get("startDate"))).replace(tzinfo=UTC)
    end = start + timedelta(days=int(iteration.get("duration") or 0))
    closed = completed or end <= until
    state = "closed" if closed else ("active" if start <= until else "future")
    return Sprint(
        product=product,
        external_id=sprint_id(project, str(iteration.get("id"))),
        name=str(iteration.get("title") or iteration.get("id")),
        state=state,
        start=start,
        end=end,
        completed=end if closed else None,
    )
