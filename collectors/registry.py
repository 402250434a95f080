"""From a source's settings to the collector that reads it.

Kinds register through the `dspo.collectors` entry point group (see `config.sources`); each
settings model names its collector class, imported only when the source runs because MLflow
and Evidently take seconds to import.
"""

from __future__ import annotations

from collectors.base import Collector
from collectors.deadline import Deadline
from config.sources import PluginError, SourceBase, import_target


def collector_for(
    settings: SourceBase, deadline: Deadline | None = None
) -> Collector:  # type: ignore[type-arg]
    """The collector of `settings`' kind, its deadline started (or the one given)."""
    target = type(settings).collector
    if target is None:
        raise ValueError(
            f"source {settings.name!r}: kind {getattr(settings, 'kind', '?')!r} is written "
            "to through the push API, not collected"
        )
    try:
        cls = import_target(target)
    except (ImportError, AttributeError) as e:
        raise PluginError(
            f"source {settings.name!r}: collector {target} cannot be loaded: {e}"
        ) from e
    if not (isinstance(cls, type) and issubclass(cls, Collector)):
        raise PluginError(f"source {settings.name!r}: {target} is not a collectors.base.Collector")
    return cls(settings, deadline)
