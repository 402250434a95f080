"""Collectors register by kind name; built-ins use the same registry a plugin would."""

from __future__ import annotations

from importlib import import_module

from collectors.base import Collector
from config.schema import SourceBase

# kind -> "module:Class"; imported lazily because MLflow and Evidently take seconds to import.
BUILTIN: dict[str, str] = {
    "mlflow": "collectors.mlflow_tracking:MlflowCollector",
    "mlflow_pipelines": "collectors.mlflow_pipelines:MlflowPipelinesCollector",
    "evidently": "collectors.evidently_drift:EvidentlyCollector",
    "sql_kpis": "collectors.sql_kpis:SqlKpisCollector",
    "files": "collectors.files:FilesCollector",
}


def collector_for(settings: SourceBase) -> Collector:  # type: ignore[type-arg]
    kind = getattr(settings, "kind")  # noqa: B009 - every concrete source model declares kind
    try:
        target = BUILTIN[kind]
    except KeyError:
        raise ValueError(f"sources: unknown kind {kind!r} for source {settings.name!r}") from None
    module_name, class_name = target.split(":")
    cls = getattr(import_module(module_name), class_name)
    return cls(settings)  # type: ignore[no-any-return]
