"""Runs, metric histories and the model registry of one MLflow tracking server.

Runs are read incrementally (see `MlflowReader.runs`): a run is re-read while it can still
change, i.e. when it started or ended within the overlap before the watermark or is not
finished yet. Each re-read run brings its full metric histories, because a training run
logs steps over hours and the store upserts points anyway. The registry is small and its
aliases move without leaving timestamps behind, so it is read in full on every collect.
A deployment job can leave them behind by the `dspo.alias_history` convention
(`ALIAS_HISTORY_TAG`, see docs/sources.md): each entry becomes an `AliasEvent`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from collectors.base import Collector
from collectors.mlflow_common import MlflowReader, mask_uri, run_url
from config.schema import MlflowSource
from store.records import (
    AliasEvent,
    AliasOrigin,
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
ALIAS_HISTORY_TAG = "dspo.alias_history"
"""Registered-model tag: a JSON list of {"alias", "version" (null = removed), "at"}."""
RUNS_AHEAD = 4
"""Runs requested per reading thread before their points are yielded: enough to keep every
thread busy across a run with few metrics, few enough that memory stays a few runs' worth."""
T = TypeVar("T")
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
            runs = reader.runs(experiments, since, until, self.settings.overlap_minutes)
            with ThreadPoolExecutor(self.settings.parallel_reads,
                                    thread_name_prefix=f"mlflow-{self.name}") as pool:
                for chunk in _chunks(runs, RUNS_AHEAD * self.settings.parallel_reads):
                    yield from self._chunk(reader, pool, chunk, experiments, until)
        yield from self._registry(reader)

    def _chunk(self, reader: MlflowReader, pool: ThreadPoolExecutor, runs: list[MlflowRun],
               experiments: Mapping[str, str], until: datetime) -> Iterator[Record]:
        """A few runs' histories requested at once, yielded in run order: the requests
        overlap, while memory holds only this chunk's points (the runner streams them)."""
        pending = [(run, [(key, pool.submit(reader.metric_history, run.info.run_id, key))
                          for key in sorted(run.data.metrics)]) for run in runs]
        try:
            for run, histories in pending:
                experiment = experiments[run.info.experiment_id]
                yield self._run(run, experiment, until)
                for key, history in histories:
                    yield from self._metric_points(run, experiment, key, history.result())
        finally:  # a failed or abandoned collect does not leave requests queued
            for _, histories in pending:
                for _, history in histories:
                    history.cancel()

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
        self, run: MlflowRun, experiment: str, key: str, history: list[Any]
    ) -> Iterator[Point]:
        labels = {"run_id": run.info.run_id, "experiment": experiment}
        for metric in history:
            yield Point(
                product=self.product,
                kind=SeriesKind.MODEL_METRIC,
                name=key,
                ts=utc_from_ms(metric.timestamp),
                value=float(metric.value),
                labels=labels,
                step=int(metric.step),
            )

    def _registry(self, reader: MlflowReader) -> Iterator[Model | AliasEvent | ModelVersion]:
        for model in reader.registered_models(self.settings.models):
            yield Model(product=self.product, name=model.name, description=model.description or "")
            # The history goes before the versions, so the store sees a move the tag
            # explains before it compares the versions' aliases (store/aliases.py).
            yield from self._alias_history(model)
            aliases = _aliases_by_version(model)
            versions = sorted(reader.model_versions(model.name), key=lambda v: int(v.version))
            for version in versions:
                yield self._version(model.name, version, aliases)

    def _alias_history(self, model: RegisteredModel) -> Iterator[AliasEvent]:
        raw = (model.tags or {}).get(ALIAS_HISTORY_TAG)
        if raw is None:
            return
        try:
            entries = parse_alias_history(raw)
        except ValueError as e:
            raise self.fail(
                f"registered model {model.name!r}: tag {ALIAS_HISTORY_TAG} is malformed: {e}"
            ) from e
        for alias, version, at in entries:
            yield AliasEvent(product=self.product, model=model.name, alias=alias,
                             version=version, ts=at, origin=AliasOrigin.TAG)

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


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _aliases_by_version(model: RegisteredModel) -> dict[str, tuple[str, ...]]:
    """Invert the registered model's alias -> version map (versions arrive as int or str)."""
    raw: Mapping[str, Any] = model.aliases or {}
    result: dict[str, list[str]] = {}
    for alias, version in raw.items():
        result.setdefault(str(version), []).append(alias)
    return {version: tuple(sorted(names)) for version, names in result.items()}


def parse_alias_history(raw: str) -> list[tuple[str, str | None, datetime]]:
    """(alias, version or None, aware UTC time) per entry of a `dspo.alias_history` value.

    Raises ValueError naming the first bad entry: the whole tag is refused rather than
    half-read, so a typo cannot silently drop a promotion from the DORA numbers. Extra keys
    in an entry are allowed (a job may record who promoted, or why).
    """
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON ({e.msg} at character {e.pos})") from e
    if not isinstance(entries, list):
        raise ValueError(f"expected a JSON list, got {type(entries).__name__}")
    parsed: list[tuple[str, str | None, datetime]] = []
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ValueError(f"entry {i} is not an object")
        alias, version, at = entry.get("alias"), entry.get("version"), entry.get("at")
        if not isinstance(alias, str) or not alias.strip():
            raise ValueError(f"entry {i}: 'alias' must be a non-empty string")
        if "version" not in entry:
            raise ValueError(f"entry {i}: 'version' is missing (null means the alias was removed)")
        if (isinstance(version, bool) or not isinstance(version, str | int | None)
                or (isinstance(version, str) and not version.strip())):
            raise ValueError(f"entry {i}: 'version' must be a version string, an integer or null")
        if not isinstance(at, str):
            raise ValueError(f"entry {i}: 'at' must be an ISO 8601 time string")
        try:
            ts = datetime.fromisoformat(at)
        except ValueError as e:
            raise ValueError(f"entry {i}: 'at' {at!r} is not an ISO 8601 time") from e
        ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
        parsed.append((alias.strip(), None if version is None else str(version).strip(), ts))
    return parsed
