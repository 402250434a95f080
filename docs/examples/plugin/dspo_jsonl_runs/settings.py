"""The settings of the `jsonl_runs` kind: what `dspo config check` validates.

Kept apart from the collector so loading a config imports nothing heavy: dspo imports this
module for every config load, the collector module only when the source runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from config.sources import SourceBase


class JsonlRunsSource(SourceBase):
    collector: ClassVar[str | None] = "dspo_jsonl_runs.collector:JsonlRunsCollector"

    kind: Literal["jsonl_runs"] = Field(description="Pipeline runs from a JSON-lines log.")
    path: Path = Field(description="The log: one JSON object per line, one line per run.")
    system: str = Field(default="cron", description="Shown as the runs' system.")
