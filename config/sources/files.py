"""Settings of the files source: backlog, sprints and history from exports."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from config.sources import SourceBase


class FilesSource(SourceBase):
    collector: ClassVar[str | None] = "collectors.files:FilesCollector"

    kind: Literal["files"] = Field(description="Backlog, sprints and history from exports.")
    items: Path = Field(description="Backlog items: CSV (dspo or Jira export columns) or JSON.")
    sprints: Path | None = Field(default=None, description="Sprints: CSV or JSON.")
    history: Path | None = Field(default=None, description="Item field changes: CSV or JSON.")
    base_url: str | None = Field(default=None, description="Prefix of item links, e.g. Jira.")
