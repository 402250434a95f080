"""The collector contract: a declared source that yields records since a watermark.

A collector never opens dspo's store. The runner hands it `since` (the previous successful
run's watermark, None on the first run) and `until` (the run's start); the collector yields
every record that changed in that span, and the runner commits the records together with
`until` as the new watermark. Re-reading a little before `since` is always safe: every write
is an upsert on natural keys.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, SecretStr

from collectors.deadline import Deadline, DeadlineExceeded
from collectors.retry import RetriesExhausted, call, failure_of
from config.sources import SourceBase
from store.records import Record

T = TypeVar("T")

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
    """Reads one configured source. Subclasses declare `where` and `collect`; they call the
    source through `self.call` (retries, deadline) and raise `self.fail(...)`."""

    kind: ClassVar[str]

    def __init__(self, settings: SettingsT, deadline: Deadline | None = None) -> None:
        self.settings = settings
        self.deadline = deadline or Deadline(settings.deadline)

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
        """Build the error to raise, naming this source and where it points; any secret of
        the settings that found its way into the cause is masked."""
        kind = RetriableSourceError if retriable else FatalSourceError
        return kind(self.name, self.where, mask_secrets(cause, self.settings))

    def call(self, fn: Callable[[], T], doing: str) -> T:
        """Call the source: retriable failures are retried within the deadline, and any
        failure of talking to it comes out as this source's SourceError saying `doing`."""
        try:
            return call(fn, doing=doing, deadline=self.deadline, retries=self.settings.retries)
        except SourceError:
            raise
        except RetriesExhausted as e:
            raise self.fail(f"{doing}: {e}", retriable=True) from e
        except DeadlineExceeded as e:
            raise self.fail(str(e), retriable=True) from e
        except Exception as e:
            failure = failure_of(e)
            if failure is None:
                raise
            raise self.fail(f"{doing}: {failure.reason}", retriable=failure.retriable) from e


def reconcile_due(since: datetime | None, until: datetime, every: timedelta) -> bool:
    """Whether this run lists everything it keeps, so deletions upstream leave the store:
    on every run when `every` is 0, else when a multiple of `every` (counted from the Unix
    epoch, UTC) falls in (since, until], and on a first run (the store may hold rows of an
    earlier life of the source).

    Stateless, yet exactly one successful run per period reconciles: the runner hands each
    run the previous successful run's start as `since`, so successive spans tile time, and
    a failed run's span is covered again by the next one.
    """
    if since is None or every <= timedelta(0):
        return True
    step = every.total_seconds()
    return math.floor(until.timestamp() / step) > math.floor(since.timestamp() / step)


def secrets_of(settings: BaseModel) -> list[str]:
    """Every secret value in `settings`, nested models included."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value: Any = getattr(settings, name)
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, SecretStr) and item.get_secret_value():
                found.append(item.get_secret_value())
            elif isinstance(item, BaseModel):
                found += secrets_of(item)
    return found


def mask_secrets(text: str, settings: BaseModel) -> str:
    for secret in sorted(secrets_of(settings), key=len, reverse=True):
        if len(secret) >= 4:  # masking a 1-3 character "secret" would shred the message
            text = text.replace(secret, "***")
    return text


CollectorFactory = Callable[[SourceBase], Collector]  # type: ignore[type-arg]
