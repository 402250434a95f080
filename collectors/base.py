"""The collector contract: a declared source that yields records since a watermark.

A collector never opens dspo's store. The runner hands it `since` (the previous successful
run's watermark, None on the first run) and `until` (the run's start); the collector yields
every record that changed in that span, and the runner commits the records together with
`until` as the new watermark. Re-reading a little before `since` is always safe: every write
is an upsert on natural keys.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import ClassVar, Generic, TypeVar

from config.schema import SourceBase
from store.records import Record

SettingsT = TypeVar("SettingsT", bound=SourceBase)


class SourceError(Exception):
    """A source could not be read; the message names the source and where it points."""

    retriable: ClassVar[bool] = False

    def __init__(self, source: str, where: str, cause: str) -> None:
        super().__init__(f"source {source!r} ({where}): {cause}")
        self.source = source
        self.where = where
        self.cause = cause


class RetriableSourceError(SourceError):
    """Timeouts, 429 and 5xx: the next run may well succeed."""

    retriable = True


class FatalSourceError(SourceError):
    """Bad configuration, authentication, malformed input: retrying will not help."""


class Collector(ABC, Generic[SettingsT]):
    kind: ClassVar[str]

    def __init__(self, settings: SettingsT) -> None:
        self.settings = settings

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def product(self) -> str:
        return self.settings.product

    @property
    @abstractmethod
    def where(self) -> str:
        """Where the source points (URL or path, never a secret), for error messages."""

    @abstractmethod
    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        """Yield every record that changed in [since, until); since None means everything."""

    def fail(self, cause: str, *, retriable: bool = False) -> SourceError:
        """Build the error to raise, naming this source and where it points."""
        kind = RetriableSourceError if retriable else FatalSourceError
        return kind(self.name, self.where, cause)


CollectorFactory = Callable[[SourceBase], Collector]  # type: ignore[type-arg]
