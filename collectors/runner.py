"""Run collectors and commit what each one yields, one transaction per source.

The runner owns the watermark (Singer SDK style): it hands a collector the last successful
run's watermark, caps the new one at the run's start, and commits it together with the
records and the `collector_run` row. A source that fails leaves the store exactly as it was
(its failure recorded in a separate transaction) and never stops the sources after it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from collectors.base import SourceError
from collectors.registry import collector_for
from config.schema import SourceBase
from store.db import Store
from store.records import Record
from store.writer import finish_collector_run, last_watermark, start_collector_run, write_records

log = logging.getLogger(__name__)


class Progress(Protocol):
    """What the runner reports while it works; the CLI renders it as progress bars."""

    def source_started(self, source: str, kind: str) -> None: ...
    def records_seen(self, source: str, count: int) -> None: ...
    def source_finished(self, result: SourceResult) -> None: ...


@dataclass(frozen=True)
class SourceResult:
    source: str
    kind: str
    ok: bool
    records: int
    seconds: float
    error: str | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def run_sources(
    store: Store,
    sources: Sequence[SourceBase],
    *,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> list[SourceResult]:
    """Collect every enabled source in turn; return one result per source, failed ones too."""
    return [
        run_source(store, source, progress=progress, clock=clock)
        for source in sources
        if source.enabled
    ]


def run_source(
    store: Store,
    source: SourceBase,
    *,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> SourceResult:
    kind = str(getattr(source, "kind", "?"))
    started = clock()
    t0 = time.perf_counter()
    if progress:
        progress.source_started(source.name, kind)
    with store.session() as s:
        since = last_watermark(s, source.name)
        run_id = start_collector_run(s, source.name, kind, started)
    try:
        collector = collector_for(source)
        records = list(_counted(collector.collect(since, started), source.name, progress))
        with store.session() as s:
            written = write_records(s, source.name, records)
            finish_collector_run(
                s, run_id, status="ok", records=written, error=None, watermark=started,
                finished=clock(),
            )
        result = SourceResult(source.name, kind, True, written, time.perf_counter() - t0)
    except Exception as e:  # any failure of one source must not stop the others
        error = _describe(e, source)
        if isinstance(e, SourceError):  # expected: the source said no; the result carries it
            log.info("collect failed: %s", error)
        else:  # a bug or an unclassified failure: keep the traceback for whoever debugs it
            log.warning("collect failed: %s", error, exc_info=True)
        with store.session() as s:
            finish_collector_run(
                s, run_id, status="failed", records=0, error=error, watermark=None,
                finished=clock(),
            )
        result = SourceResult(source.name, kind, False, 0, time.perf_counter() - t0, error)
    if progress:
        progress.source_finished(result)
    return result


def _counted(
    records: Iterable[Record], source: str, progress: Progress | None
) -> Iterator[Record]:
    for count, record in enumerate(records, start=1):
        if progress and count % 200 == 0:
            progress.records_seen(source, count)
        yield record


def _describe(error: Exception, source: SourceBase) -> str:
    """One line that names the source; SourceErrors already do, others get the prefix."""
    if isinstance(error, SourceError):
        return str(error)
    return f"source {source.name!r}: {type(error).__name__}: {error}"
