"""Settings of the files source: backlog, sprints and history from exports."""

from __future__ import annotations

from typing import ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from config.base import ConfigPath, OptionalConfigPath
from config.sources import SourceBase

CategoryName = Literal["todo", "in_progress", "done"]


def check_timezone(name: str) -> str:
    """An IANA zone name (Europe/Berlin, UTC); a typo must fail at load, not mid-import."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name, e.g. Europe/Berlin)"
        ) from None
    return name


class FilesSource(SourceBase):
    collector: ClassVar[str | None] = "collectors.files:FilesCollector"

    kind: Literal["files"] = Field(description="Backlog, sprints and history from exports.")
    items: ConfigPath = Field(
        description="Backlog items: CSV (dspo or Jira export columns) or JSON. Relative "
        "paths are relative to the config file."
    )
    sprints: OptionalConfigPath = Field(default=None, description="Sprints: CSV or JSON.")
    history: OptionalConfigPath = Field(
        default=None,
        description="Item field changes (dspo columns or a Jira changelog export): CSV or JSON.",
    )
    base_url: str | None = Field(default=None, description="Prefix of item links, e.g. Jira.")
    status_categories: dict[str, CategoryName] = Field(
        default_factory=dict,
        description="Status name -> todo, in_progress or done, for statuses of your workflow "
        "(matched case-insensitively; added to and overriding the built-in map of common "
        "statuses). History `status` changes are mapped through it into status category "
        "changes, so cycle time starts at the move into an in-progress status.",
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone of times written without an offset (Jira's CSV export "
        "writes the exporting user's local time), e.g. Europe/Berlin.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return check_timezone(value)
