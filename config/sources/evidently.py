"""Settings of the Evidently source: drift reports computed by dspo or saved by the team."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from config.base import KEY_PATTERN, Strict
from config.sources import SourceBase


class FileFrame(Strict):
    """Where a table comes from: a file, or a SQL query against any SQLAlchemy URL."""

    path: Path | None = Field(default=None, description="CSV or Parquet file.")
    url: str | None = Field(default=None, description="SQLAlchemy URL of the database.")
    query: str | None = Field(default=None, description="SELECT returning the rows.")

    @model_validator(mode="after")
    def _one_origin(self) -> FileFrame:
        if (self.path is None) == (self.url is None):
            raise ValueError("give either path, or url with query")
        if self.url is not None and not self.query:
            raise ValueError("url needs a query")
        return self


class DriftDataset(Strict):
    name: str = Field(pattern=KEY_PATTERN, description="Dataset name shown and selected by.")
    model: str | None = Field(default=None, description="Model the dataset feeds, if any.")
    reference: FileFrame = Field(description="Reference data (e.g. the training set).")
    current: FileFrame = Field(description="Production data, split into windows.")
    timestamp_column: str = Field(default="ts", description="Column of the current data's time.")
    window_days: int = Field(default=7, ge=1, description="Length of one report's window.")
    columns: list[str] = Field(
        default_factory=list, description="Columns to compare; empty compares all shared ones."
    )


class EvidentlySource(SourceBase):
    collector: ClassVar[str | None] = "collectors.evidently_drift:EvidentlyCollector"

    kind: Literal["evidently"] = Field(description="Data drift and quality via Evidently.")
    reports_dir: Path = Field(description="Where full reports are kept (linked from the store).")
    datasets: list[DriftDataset] = Field(default_factory=list, description="Pairs to compare.")
    import_dirs: list[Path] = Field(
        default_factory=list,
        description="Folders of Evidently snapshot JSON saved by the team's own pipelines.",
    )
    save_html: bool = Field(default=False, description="Also keep a self-contained HTML report.")
