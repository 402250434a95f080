"""Source kinds: the settings every source shares, and the registry of kinds.

A source kind is a pydantic settings model (a `SourceBase` subclass with a `kind` literal)
that names the collector reading it. Kinds register through the Python entry point group
`dspo.collectors` (name = kind, value = `module:SettingsClass`); dspo's own kinds register
the same way in its `pyproject.toml`, so a third-party package adds a kind exactly as dspo
does. Only the settings model is imported at load time: a collector module (MLflow and
Evidently take seconds to import) loads when its source runs.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from importlib import import_module
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar, get_args

from pydantic import Field, model_validator

from config.base import KEY_PATTERN, Duration, Strict

ENTRY_POINT_GROUP = "dspo.collectors"


class SourceBase(Strict):
    """Keys every source has, whatever its kind."""

    collector: ClassVar[str | None] = None
    """`module:Class` of the collector that reads this kind; None for a kind that is
    written to (the push API) rather than read."""

    name: str = Field(pattern=KEY_PATTERN, description="Unique source name; keys its state.")
    product: str = Field(description="Key of the product this source's records belong to.")
    enabled: bool = Field(default=True, description="Set false to skip without deleting.")
    interval: Duration = Field(
        default=timedelta(minutes=15),
        description="How often `dspo collect --loop` runs this source, e.g. 15m.",
    )
    connect_timeout: Duration = Field(
        default=timedelta(seconds=10),
        description="Longest wait to open a connection to the source, e.g. 10s.",
    )
    read_timeout: Duration = Field(
        default=timedelta(seconds=60),
        description="Longest wait for the next bytes of an answer (or, for SQL, for a "
        "statement to finish), e.g. 60s.",
    )
    deadline: Duration = Field(
        default=timedelta(minutes=10),
        description="A run not finished by then is stopped and recorded as failed, whatever "
        "the source does (a dripping answer, a hung connection), e.g. 10m.",
    )
    retries: int = Field(
        default=4,
        ge=0,
        le=20,
        description="Retries of a connection error, timeout, 429 or 5xx answer, with "
        "exponential backoff and jitter (a Retry-After header is honoured), within the deadline.",
    )

    @classmethod
    def check_together(cls, sources: list[tuple[int, SourceBase]]) -> None:
        """Rules across the sources of this kind in one config (each with its index in
        `sources`); raise ValueError starting with `sources[i].key:` to refuse the file."""

    @model_validator(mode="after")
    def _timeouts_fit_the_deadline(self) -> SourceBase:
        for key in ("interval", "connect_timeout", "read_timeout", "deadline"):
            if getattr(self, key) <= timedelta(0):
                raise ValueError(f"{key} must be positive")
        return self


class PluginError(Exception):
    """A registered source kind could not be loaded; names the entry point and package."""


def _describe(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    package = f" of package {dist.name}" if dist is not None else ""
    return f"entry point {ENTRY_POINT_GROUP}:{ep.name} = {ep.value}{package}"


def _load(ep: EntryPoint) -> type[SourceBase]:
    try:
        model = ep.load()
    except Exception as e:  # a broken plugin must say which one, whatever it raised
        raise PluginError(f"{_describe(ep)} cannot be imported: {e}") from e
    if not (isinstance(model, type) and issubclass(model, SourceBase)):
        raise PluginError(f"{_describe(ep)} is not a subclass of config.sources.SourceBase")
    kind = model.model_fields.get("kind")
    if kind is None or get_args(kind.annotation) != (ep.name,):
        raise PluginError(f"{_describe(ep)} must declare kind: Literal[{ep.name!r}]")
    return model


@cache
def source_models() -> dict[str, type[SourceBase]]:
    """Every registered kind and its settings model, dspo's own first."""
    found: dict[str, type[SourceBase]] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=_builtin_first):
        if ep.name in found:
            continue  # the first registration of a kind wins (dspo's own over a plugin's)
        found[ep.name] = _load(ep)
    if not found:
        raise PluginError(
            f"no source kinds registered in entry point group {ENTRY_POINT_GROUP!r}: "
            "is dspo installed (pip install -e .)?"
        )
    return found


def _builtin_first(ep: EntryPoint) -> tuple[bool, str]:
    return (not ep.value.startswith("config.sources."), ep.name)


def import_target(target: str) -> Any:
    """Import `module:attribute`, the form entry points and `SourceBase.collector` use."""
    module_name, _, attribute = target.partition(":")
    return getattr(import_module(module_name), attribute)
