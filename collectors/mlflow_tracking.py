"""Runs, metric histories and the model registry of one MLflow tracking server.

Runs are read incrementally (see `MlflowReader.runs`): a run is re-read while it can still
change, i.e. when it started or ended within the overlap before the watermark or is not
finished yet. Each re-read run brings its full metric histories, because a training run
logs steps over hours and the store upserts points anyway. The registry is small and its
aliases move without leaving timestamps behind, so it is read in full on every collect.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from collectors.base import Collector
from collectors.mlflow_common import MlflowReader, mask_uri, run_url
from config.schema import MlflowSource
from store.records import (
    Model,
    ModelVersion,
    Point,
    Record,
    Run,
    SeriesKind,
    utc_from_ms,
)

if TYPE_CHECKING:
    from mlflow.entities import Run as MlflowRun
    from mlflow.entities.model_registry import ModelVersion as MlflowModelVersion
    from mlflow.entities.model_registry import RegisteredModel

MODEL_TAG = "dspo.model"
MODEL_VERSION_TAG = "dspo.model_version"
BULKY_TAGS = frozenset({"mlflow.log-model.history"})
"""System tags holding large JSON blobs that no page shows; they would only bloat the store."""


class MlflowCollector(Collector[MlflowSource]):
    kind = "mlflow"

    @property
    def where(self) -> str:
        return mask_uri(self.settings.tracking_uri)

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        reader = MlflowReader(self, self.settings.tracking_uri, self.settings.registry_uri)
        experiments = reader.experiments(self.settings.experiments)
        if experiments:
            for run in reader.runs(experiments, since, until, self.settings.overlap_minutes):
                experiment = experiments[run.info.experiment_id]
                yield self._run(run, experiment, until)
                yield from self._metric_points(reader, run, experiment)
        yield from self._registry(reader)

    def _run(self, run: MlflowRun, experiment: str, until: datetime) -> Run:
        info, tags = run.info, dict(run.data.tags)
        return Run(
            product=self.product,
            run_id=info.run_id,
            experiment=experiment,
            name=info.run_name or "",
            status=info.status,
            # MLflow always stamps a start; a run without one has not happened before `until`.
            start=utc_from_ms(info.start_time) if info.start_time else until,
            end=utc_from_ms(info.end_time) if info.end_time else None,
            params=dict(run.data.params),
            tags={k: v for k, v in tags.items() if k not in BULKY_TAGS},
            model=tags.get(MODEL_TAG) or None,
            model_version=tags.get(MODEL_VERSION_TAG) or None,
            url=run_url(self.settings.tracking_uri, info.experiment_id, info.run_id),
        )

    def _metric_points(
        self, reader: MlflowReader, run: MlflowRun, experiment: str
    ) -> Iterator[Point]:
        labels = {"run_id": run.info.run_id, "experiment": experiment}
        for key in sorted(run.data.metrics):
            for metric in reader.metric_history(run.info.run_id, key):
                yield Point(
                    product=self.product,
                    kind=SeriesKind.MODEL_METRIC,
                    name=key,
                    ts=utc_from_ms(metric.timestamp),
                    value=float(metric.value),
                    labels=labels,
                    step=int(metric.step),
                )

    def _registry(self, reader: MlflowReader) -> Iterator[Model | ModelVersion]:
        for model in reader.registered_models(self.settings.models):
            yield Model(product=self.product, name=model.name, description=model.description or "")
            aliases = _aliases_by_version(model)
            versions = sorted(reader.model_versions(model.name), key=lambda v: int(v.version))
            for version in versions:
                yield self._version(model.name, version, aliases)

    def _version(
        self, model: str, mv: MlflowModelVersion, aliases: Mapping[str, tuple[str, ...]]
    ) -> ModelVersion:
        version = str(mv.version)
        stage = mv.current_stage
        return ModelVersion(
            product=self.product,
            model=model,
            version=version,
            run_id=mv.run_id or None,
            created=utc_from_ms(mv.creation_timestamp),
            updated=utc_from_ms(mv.last_updated_timestamp) if mv.last_updated_timestamp else None,
            status=str(mv.status or "READY"),
            stage=stage if stage and stage != "None" else None,
            aliases=aliases.get(version, ()),
            tags=dict(mv.tags or {}),
        )


def _aliases_by_version(model: RegisteredModel) -> dict[str, tuple[str, ...]]:
    """Invert the registered model's alias -> version map (versions arrive as int or str)."""
    raw: Mapping[str, Any] = model.aliases or {}
    result: dict[str, list[str]] = {}
    for alias, version in raw.items():
        result.setdefault(str(version), []).append(alias)
    return {version: tuple(sorted(names)) for version, names in result.items()}
