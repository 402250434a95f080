"""Settings of the `jira` source: boards, sprints, issues with their changelog, and Jira's
own sprint reports, from Jira Cloud or Jira Data Center through the `jira` client library.

Cloud authenticates with an account e-mail and an API token (HTTP basic), Data Center with a
personal access token (HTTP bearer). `deployment: auto` tells them apart by the host: Cloud
sites live on *.atlassian.net (or the older *.jira.com); a Cloud site on a custom domain
says `deployment: cloud`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Literal
from urllib.parse import urlparse

from pydantic import Field, HttpUrl, SecretStr, model_validator

from config.base import Duration
from config.sources import SourceBase

CLOUD_HOST_SUFFIXES = (".atlassian.net", ".jira.com")
Category = Literal["todo", "in_progress", "done"]


class JiraSource(SourceBase):
    collector: ClassVar[str | None] = "collectors.jira_collector:JiraCollector"

    kind: Literal["jira"] = Field(
        description="Boards, sprints, issues with their changelog and Jira's own sprint "
        "reports, from Jira Cloud or Data Center."
    )
    url: HttpUrl = Field(description="Jira base URL, e.g. https://acme.atlassian.net.")
    deployment: Literal["cloud", "datacenter", "auto"] = Field(
        default="auto",
        description="cloud (e-mail + API token, /search/jql), datacenter (personal access "
        "token, /search), or auto: cloud when the host ends in .atlassian.net or .jira.com.",
    )
    email: str | None = Field(
        default=None, description="Cloud: the account e-mail the API token belongs to."
    )
    token: SecretStr = Field(
        description="Cloud: API token; Data Center: personal access token. From ${ENV}."
    )
    project: str | None = Field(
        default=None,
        description="Project key, e.g. DS: its issues are read and, without `boards`, its "
        "scrum boards.",
    )
    jql: str | None = Field(
        default=None,
        description="Extra JQL ANDed to the project, e.g. issuetype != Sub-task; alone, it "
        "selects the issues.",
    )
    boards: list[int] = Field(
        default_factory=list,
        description="Board ids whose sprints are read; empty: the project's scrum boards.",
    )
    points_field: str | None = Field(
        default=None,
        description="Story points field by name (Story Points, Story point estimate) or id "
        "(customfield_10016); default: Story point estimate, else Story Points.",
    )
    overlap: Duration = Field(
        default=timedelta(minutes=15),
        description="Re-read issues updated this long before the watermark (clock skew, "
        "JQL's minute precision).",
    )
    page_size: int = Field(
        default=100, ge=1, le=1000, description="Issues, boards or sprints asked per page."
    )
    status_categories: dict[str, Category] = Field(
        default_factory=dict,
        description="Status name -> todo, in_progress or done, overriding the category Jira "
        "gives the status (e.g. 'Ready for release': done).",
    )
    reconcile_every: Duration = Field(
        default=timedelta(days=1),
        description="At most this often, list every issue key (a keys-only search) so issues "
        "deleted or moved out of the project leave the store; 0s does it on every run.",
    )

    @property
    def base_url(self) -> str:
        return str(self.url).rstrip("/")

    @property
    def cloud(self) -> bool:
        """Whether this is Jira Cloud, by the setting or (auto) by the host."""
        if self.deployment != "auto":
            return self.deployment == "cloud"
        host = urlparse(self.base_url).hostname or ""
        return host.endswith(CLOUD_HOST_SUFFIXES)

    @model_validator(mode="after")
    def _complete(self) -> JiraSource:
        if not self.project and not self.jql:
            raise ValueError("set `project`, `jql` or both: they select the issues read")
        if self.cloud and not self.email:
            raise ValueError(
                "Jira Cloud authenticates with `email` and an API `token`: set `email` "
                "(or `deployment: datacenter` for a personal access token)"
            )
        if not self.cloud and self.email:
            raise ValueError(
                "Jira Data Center authenticates with a personal access token alone: remove "
                "`email` (or set `deployment: cloud`)"
            )
        if self.reconcile_every < timedelta(0):
            raise ValueError("reconcile_every must not be negative")
        if self.overlap < timedelta(0):
            raise ValueError("overlap must not be negative")
        return self
