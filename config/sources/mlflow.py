"""Settings of the MLflow sources: tracking and registry, and runs as pipeline runs."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from config.sources import SourceBase


class MlflowSource(SourceBase):
    collector: ClassVar[str | None] = "collectors.mlflow_tracking:MlflowCollector"

    kind: Literal["mlflow"] = Field(description="Runs, metrics and registry of MLflow.")
    tracking_uri: str = Field(description="MLflow tracking URI: http(s)://, sqlite:///, ...")
    registry_uri: str | None = Field(default=None, description="Defaults to tracking_uri.")
    experiments: list[str] = Field(
        default_factory=list, description="Experiment names to read; empty reads all."
    )
    models: list[str] = Field(
        default_factory=list, description="Registered model names; empty reads all."
    )
    overlap_minutes: int = Field(
        default=60, ge=0, description="Re-read runs this far before the watermark (clock skew)."
    )
    parallel_reads: int = Field(
        default=8, ge=1, le=32,
        description="Metric histories read at once (one request each): the server's own "
        "ceiling, not one round trip at a time, bounds a first collect.",
    )


class MlflowPipelinesSource(SourceBase):
    collector: ClassVar[str | None] = "collectors.mlflow_pipelines:MlflowPipelinesCollector"

    kind: Literal["mlflow_pipelines"] = Field(
        description="Pipeline runs taken from the states of MLflow runs."
    )
    tracking_uri: str = Field(description="MLflow tracking URI.")
    experiments: list[str] = Field(
        min_length=1, description="Experiments whose runs are pipeline runs."
    )
    pipeline_tag: str = Field(
        default="dspo.pipeline",
        description="Run tag naming the pipeline; without it the experiment name is used.",
    )
    overlap_minutes: int = Field(default=60, ge=0, description="Re-read window before watermark.")
