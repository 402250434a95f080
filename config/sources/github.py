"""Settings of the GitHub sources: Actions workflow runs (`github_actions`) and issues with
milestones or a Projects (v2) iteration field as sprints (`github_issues`).

Both read through PyGithub with a token, from github.com or a GitHub Enterprise Server
(`api_url: https://HOST/api/v3`). Both keep a reserve of the token's hourly request budget,
because the same token often serves other tools (and dspo's own GitHub alert sink).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import ClassVar, Literal

from pydantic import Field, HttpUrl, SecretStr, field_validator, model_validator

from config.base import Duration, Strict
from config.sources import SourceBase

REPO_PATTERN = r"^[\w.-]+/[\w.-]+$"
Category = Literal["todo", "in_progress", "done"]
DEFAULT_CATEGORIES: dict[str, Category] = {
    "Todo": "todo", "In Progress": "in_progress", "Done": "done"}  # a new project's Status


class GithubSourceBase(SourceBase):
    """Keys both GitHub kinds share."""

    api_url: HttpUrl = Field(
        default=HttpUrl("https://api.github.com"),
        description="API root: https://api.github.com, or https://HOST/api/v3 for GitHub "
        "Enterprise Server.",
    )
    token: SecretStr = Field(
        description="Token that can read the repositories (classic: repo scope; fine-grained: "
        "Actions, Issues and Metadata read, Projects read for project sprints). From ${ENV}."
    )
    rate_limit_reserve: int = Field(
        default=50,
        ge=0,
        description="Requests of the hourly budget left to other users of the token: below "
        "it a run waits for the reset if that fits in its deadline, else fails (retriably) "
        "and the next run starts over. 0 uses the budget to the end.",
    )
    reconcile_every: Duration = Field(
        default=timedelta(days=1),
        description="At most this often, list everything the source keeps so what was deleted "
        "or transferred on GitHub leaves the store; 0s does it on every run.",
    )

    @model_validator(mode="after")
    def _reconcile_not_negative(self) -> GithubSourceBase:
        if self.reconcile_every < timedelta(0):
            raise ValueError("reconcile_every must not be negative")
        return self


class GithubActionsSource(GithubSourceBase):
    collector: ClassVar[str | None] = "collectors.github_actions:GithubActionsCollector"

    kind: Literal["github_actions"] = Field(
        description="Workflow runs of GitHub Actions (and the jobs of failed runs)."
    )
    repos: list[str] = Field(
        min_length=1, description="Repositories, as owner/name, whose workflow runs are read."
    )
    workflows: list[str] = Field(
        default_factory=list,
        description="Workflows to read, by file name (ci.yml), path (.github/workflows/ci.yml) "
        "or name (CI); empty reads all.",
    )
    branches: list[str] = Field(
        default_factory=list, description="Head branches whose runs are read; empty reads all."
    )
    keep_days: int = Field(
        default=90,
        ge=1,
        description="Runs created in the last this many days are kept: the first run reads "
        "them, and each reconciliation drops runs GitHub no longer lists and older runs.",
    )
    overlap: Duration = Field(
        default=timedelta(hours=6),
        description="Re-read runs created this long before the watermark, so runs that were "
        "still going are read again when they end.",
    )
    failed_jobs: bool = Field(
        default=True,
        description="Read the jobs of failed runs (one request per failed run), so the "
        "Pipelines page names the job that failed.",
    )
    repo_in_pipeline: bool = Field(
        default=False,
        description="Name pipelines owner/name: workflow instead of the workflow name alone "
        "(for several repositories with workflows of the same name).",
    )

    @field_validator("repos")
    @classmethod
    def _repo_names(cls, repos: list[str]) -> list[str]:
        return [_repo(r) for r in repos]


class GithubProject(Strict):
    """A Projects (v2) board whose fields give sprints, points, type or status."""

    owner: str = Field(description="Login of the organization or user owning the project.")
    owner_type: Literal["organization", "user"] = Field(
        default="organization", description="organization or user."
    )
    number: int = Field(ge=1, description="Project number, as in its URL (.../projects/3).")
    iteration_field: str = Field(
        default="Iteration", description="Iteration field whose iterations are the sprints."
    )
    points_field: str | None = Field(
        default=None, description="Number field holding the estimate (overrides labels)."
    )
    type_field: str | None = Field(
        default=None, description="Single-select field holding the type (overrides labels)."
    )
    status_field: str | None = Field(
        default=None,
        description="Single-select field holding the status of open issues, e.g. Status.",
    )
    status_categories: dict[str, Category] = Field(
        default_factory=lambda: dict(DEFAULT_CATEGORIES),
        description="Option of status_field -> todo, in_progress or done; an option not "
        "listed counts as in_progress. Closed issues are always done.",
    )


class GithubIssuesSource(GithubSourceBase):
    collector: ClassVar[str | None] = "collectors.github_issues:GithubIssuesCollector"

    kind: Literal["github_issues"] = Field(
        description="Issues of a GitHub repository with their timeline, and milestones or a "
        "Projects (v2) iteration field as sprints."
    )
    repo: str = Field(description="Repository, as owner/name.")
    key_prefix: str | None = Field(
        default=None,
        description="Items are keyed PREFIX#NUMBER; default the repository name (churn#12); "
        "'' gives #12.",
    )
    type_labels: dict[str, str] = Field(
        default_factory=lambda: {"bug": "Bug", "enhancement": "Story"},
        description="Label -> item type; an issue's GitHub issue type wins, then the first "
        "matching label.",
    )
    default_type: str = Field(default="Issue", description="Type of an issue no rule types.")
    points_labels: dict[str, float] = Field(
        default_factory=dict, description="Label -> points, e.g. {'size: M': 3}."
    )
    points_label_pattern: str | None = Field(
        default=r"(?i)points?:\s*(\d+(?:\.\d+)?)",
        description="Regular expression a whole label must match, its first group the "
        "points (points:3); with several estimate labels the largest counts.",
    )
    in_progress_labels: list[str] = Field(
        default_factory=list,
        description="An open issue with one of these labels is in progress (else to do).",
    )
    in_progress_when_assigned: bool = Field(
        default=False, description="An open issue with an assignee is in progress."
    )
    epic_from_parent: bool = Field(
        default=True, description="A sub-issue's epic is its parent issue."
    )
    epic_label_prefix: str | None = Field(
        default=None,
        description="Else a label starting with this names the epic (epic:Onboarding -> "
        "Onboarding).",
    )
    sprints: Literal["milestones", "project", "none"] = Field(
        default="milestones",
        description="Where sprints come from: milestones, the project's iteration field, or "
        "none.",
    )
    milestone_pattern: str | None = Field(
        default=None,
        description="Only milestones whose title matches this regular expression are "
        "sprints (e.g. ^Sprint ); default all.",
    )
    sprint_days: int = Field(
        default=14,
        ge=1,
        description="A milestone has no start date: a sprint starts at the previous "
        "milestone's due date, at most this many days before its own.",
    )
    history_days: int = Field(
        default=90,
        ge=0,
        description="The first run reads the timeline (status, points and sprint history) of "
        "issues updated in the last this many days; older issues keep their current fields.",
    )
    overlap: Duration = Field(
        default=timedelta(minutes=10),
        description="Re-read issues updated this long before the watermark (clock skew).",
    )
    project: GithubProject | None = Field(
        default=None, description="A Projects (v2) board giving sprints, points, type or status."
    )

    @field_validator("repo")
    @classmethod
    def _repo_name(cls, repo: str) -> str:
        return _repo(repo)

    @field_validator("points_label_pattern", "milestone_pattern")
    @classmethod
    def _regex(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"not a regular expression: {e}") from None
        return pattern

    @model_validator(mode="after")
    def _project_for_project_sprints(self) -> GithubIssuesSource:
        if self.sprints == "project" and self.project is None:
            raise ValueError("sprints: project needs a project")
        pattern = self.points_label_pattern
        if pattern is not None and re.compile(pattern).groups < 1:
            raise ValueError("points_label_pattern needs a group capturing the points")
        return self


def _repo(value: str) -> str:
    if not re.fullmatch(REPO_PATTERN, value):
        raise ValueError(f"{value!r} is not a repository as owner/name")
    return value
