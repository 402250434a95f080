"""Settings of the Evidently source: drift reports computed by dspo or saved by the team."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from config.base import KEY_PATTERN, ConfigPath, ConfigPathList, OptionalConfigPath, Strict
from config.sources import SourceBase
from config.sources.files import check_timezone


class FileFrame(Strict):
    """Where a table comes from: a file, or a SQL query against any SQLAlchemy URL."""

    path: OptionalConfigPath = Field(
        default=None, description="CSV or Parquet file (relative to the config file)."
    )
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


class EvidentlyWorkspace(Strict):
    """An Evidently UI workspace on disk (`evidently ui --workspace PATH`), read in place."""

    path: ConfigPath = Field(
        description="Folder of a local Evidently workspace, or of one project in it "
        "(the folder holding metadata.json and snapshots/)."
    )
    project: str | None = Field(
        default=None,
        description="Only this project: its name or id. Omit to read every project.",
    )
    dataset: str | None = Field(
        default=None,
        pattern=KEY_PATTERN,
        description="Dataset name to store the snapshots under. Default: a snapshot's "
        "metadata 'dataset', else its tag 'dataset:<name>', else the project's name "
        "(lower case, other characters as '-').",
    )
    model: str | None = Field(
        default=None,
        description="Model the dataset feeds. Default: a snapshot's metadata 'model', else "
        "its tag 'model:<name>'.",
    )


class EvidentlySource(SourceBase):
    collector: ClassVar[str | None] = "collectors.evidently_drift:EvidentlyCollector"

    kind: Literal["evidently"] = Field(description="Data drift and quality via Evidently.")
    reports_dir: ConfigPath = Field(
        description="Where full reports are kept and served from (dspo's own, and copies "
        "of imported ones); relative to the config file."
    )
    datasets: list[DriftDataset] = Field(default_factory=list, description="Pairs to compare.")
    import_dirs: ConfigPathList = Field(
        default_factory=list,
        description="Folders of Evidently report JSON saved by the team's own pipelines.",
    )
    workspaces: list[EvidentlyWorkspace] = Field(
        default_factory=list,
        description="Evidently UI workspaces whose snapshots are read as they are.",
    )
    save_html: bool = Field(default=False, description="Also keep a self-contained HTML report.")
    timezone: str = Field(
        default="UTC",
        description="IANA time zone of imported reports' times without an offset (Evidently "
        "stamps a report with the local time of the machine that ran it), e.g. Europe/Paris.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return check_timezone(value)

    @model_validator(mode="after")
    def _imports_outside_reports_dir(self) -> EvidentlySource:
        """dspo writes under reports_dir; reading from there would import its own files."""
        reports = _absolute(self.reports_dir)
        folders = [*self.import_dirs, *(w.path for w in self.workspaces)]
        for folder in folders:
            if _absolute(folder).is_relative_to(reports):
                raise ValueError(
                    f"{folder} lies inside reports_dir {self.reports_dir}, where dspo writes: "
                    "keep imports and workspaces in another folder"
                )
        return self


def _absolute(path: Path) -> Path:
    return path.expanduser().resolve()
