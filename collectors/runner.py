"""Run collectors and commit what each one yields, one transaction per source.

The runner owns the watermark (Singer SDK style): it hands a collector the last successful
run's watermark, caps the new one at the run's start, and commits it together with the
records and the `collector_run` row. A source that fails leaves the store exactly as it was
(its failure recorded in a separate transaction) and never stops the others.

Sources run concurrently in a bounded pool. Each run first takes its source's lease (so a
second scheduler never runs it at once), marks runs a dead process left 'running' as
abandoned, then collects in a worker thread the runner waits on only until the source's
deadline: a source that hangs, drips or loops is recorded as failed on time, and its
thread, left behind as a daemon, can write nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from collectors.base import SourceError
from collectors.deadline import Deadline, DeadlineExceeded
from collectors.registry import collector_for
from config.base import format_duration
from config.sources import SourceBase
from store.collector_runs import (
    abandon_stale_runs,
    acquire_lease,
    finish_collector_run,
    last_watermark,
    release_lease,
    start_collector_run,
    this_holder,
)
from store.db import Store
from store.records import Record, records_read
from store.writer import write_records

log = logging.getLogger(__name__)

DEFAULT_PARALLEL = 4
LEASE_MARGIN = timedelta(minutes=2)  # covers the write after the deadline's collection
GRACE_SECONDS = 2.0  # a collector gets this long past its deadline to raise by itself


class Progress(Protocol):
    """What the runner reports while it works; the CLI renders it as progress bars.

    Sources run concurrently, so these are called from several threads."""

    def source_started(self, source: str, kind: str) -> None: ...
    def records_seen(self, source: str, count: int) -> None: ...
    def source_finished(self, result: SourceResult) -> None: ...


@dataclass(frozen=True)
class SourceResult:
    source: str
    kind: str
    status: str  # ok, failed, or skipped (another process holds the source's lease)
    rows: int  # rows inserted, changed or deleted
    seconds: float
    error: str | None = None
    records: int = 0  # records the source yielded

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def collectable(sources: Iterable[SourceBase]) -> list[SourceBase]:
    """Enabled sources that are read (push sources are written to, not collected)."""
    return [s for s in sources if s.enabled and type(s).collector is not None]


def run_sources(
    store: Store,
    sources: Sequence[SourceBase],
    *,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = _utcnow,
    parallel: int = DEFAULT_PARALLEL,
) -> list[SourceResult]:
    """Collect every enabled source, `parallel` at a time; one result per source, in order."""
    chosen = collectable(sources)
    if not chosen:
        return []
    with ThreadPoolExecutor(max(1, min(parallel, len(chosen))), "dspo-source") as pool:
        futures = [pool.submit(run_source, store, s, progress=progress, clock=clock)
                   for s in chosen]
        return [f.result() for f in futures]


def run_source(
    store: Store,
    source: SourceBase,
    *,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = _utcnow,
    holder: str | None = None,
) -> SourceResult:
    """Collect one source under its lease; never raises for a failure of the source."""
    kind = str(getattr(source, "kind", "?"))
    holder = holder or this_holder()
    started = clock()
    t0 = time.perf_counter()
    with store.writing(), store.session() as s:
        taken_by = acquire_lease(s, source.name, holder, started, source.deadline + LEASE_MARGIN)
    if taken_by is not None:
        log.info("source %s: skipped, already running in %s", source.name, taken_by)
        return SourceResult(source.name, kind, "skipped", 0, 0.0,
                            f"source {source.name!r}: already running in {taken_by}")
    try:
        if progress:
            progress.source_started(source.name, kind)
        result = _run_leased(store, source, kind, holder, started, t0, progress, clock)
    finally:
        with store.writing(), store.session() as s:
            release_lease(s, source.name, holder)
    if progress:
        progress.source_finished(result)
    return result


def _run_leased(
    store: Store, source: SourceBase, kind: str, holder: str, started: datetime, t0: float,
    progress: Progress | None, clock: Callable[[], datetime],
) -> SourceResult:
    with store.writing(), store.session() as s:
        since = last_watermark(s, source.name)
        run_id = start_collector_run(s, source.name, kind, started, holder)
        abandoned = abandon_stale_runs(s, source.name, run_id, started)
    if abandoned:
        log.warning("source %s: marked %d unfinished earlier run(s) abandoned",
                    source.name, abandoned)
    records: list[Record] = []
    try:
        records = _collect_within_deadline(source, since, started, progress)
        with store.writing(), store.session() as s:
            written = write_records(s, source.name, records)
            finish_collector_run(
                s, run_id, status="ok", rows_written=written.rows, records_read=written.records,
                error=None, watermark=started, finished=clock(),
            )
        return SourceResult(source.name, kind, "ok", written.rows, time.perf_counter() - t0,
                            records=written.records)
    except Exception as e:  # any failure of one source must not stop the others
        error = _describe(e, source)
        if isinstance(e, SourceError):  # expected: the source said no; the result carries it
            log.info("collect failed: %s", error)
        else:  # a bug or an unclassified failure: keep the traceback for whoever debugs it
            log.warning("collect failed: %s", error, exc_info=True)
        with store.writing(), store.session() as s:
            read = records_read(records)
            finish_collector_run(
                s, run_id, status="failed", rows_written=0, records_read=read,
                error=error, watermark=None, finished=clock(),
            )
        return SourceResult(source.name, kind, "failed", 0, time.perf_counter() - t0, error,
                            records=records_read(records))


def _collect_within_deadline(
    source: SourceBase, since: datetime | None, until: datetime, progress: Progress | None
) -> list[Record]:
    """Collect in a worker thread; give up waiting for it when the deadline has passed.

    The collector sees the same deadline and normally stops by itself (timeouts capped,
    the records loop checks it); the thread join is the guarantee for a collector stuck
    where nothing checks (a blocking call inside a client library).
    """
    deadline = Deadline(source.deadline)
    collector = collector_for(source, deadline)
    box: dict[str, object] = {}
    abandoned = threading.Event()

    def work() -> None:
        try:
            seen = _counted(collector.collect(since, until), source.name, progress, deadline,
                            abandoned)
            box["records"] = list(seen)
        except Exception as e:  # noqa: BLE001 - handed to the runner thread, which classifies it
            box["error"] = e

    worker = threading.Thread(target=work, name=f"dspo-collect-{source.name}", daemon=True)
    worker.start()
    worker.join(timeout=max(0.0, deadline.remaining()) + GRACE_SECONDS)
    if worker.is_alive():
        abandoned.set()
        raise SourceError(
            source.name, collector.where,
            f"deadline of {format_duration(source.deadline)} exceeded; the source was still "
            "answering (or hung) and was abandoned",
        )
    if "error" in box:
        error = box["error"]
        if isinstance(error, DeadlineExceeded):
            raise collector.fail(str(error), retriable=True) from error
        raise error  # type: ignore[misc]
    return box["records"]  # type: ignore[return-value]


def _counted(
    records: Iterable[Record], source: str, progress: Progress | None, deadline: Deadline,
    abandoned: threading.Event,
) -> Iterator[Record]:
    for count, record in enumerate(records, start=1):
        if abandoned.is_set():
            return  # the runner gave up on this run; nothing it yields will be written
        deadline.check("reading records")
        if progress and count % 200 == 0:
            progress.records_seen(source, count)
        yield record


def _describe(error: Exception, source: SourceBase) -> str:
    """One line that names the source; SourceErrors already do, others get the prefix."""
    if isinstance(error, SourceError):
        return str(error)
    return f"source {source.name!r}: {type(error).__name__}: {error}"


# ------------------------------------------------------------ pushed records


def write_pushed(
    store: Store,
    source: SourceBase,
    records: Sequence[Record],
    *,
    clock: Callable[[], datetime] = _utcnow,
    rejected: str | None = None,
) -> SourceResult:
    """Write what a push source was sent, and its `collector_run` row, in one transaction.

    The push API's path into the store: the writer and run bookkeeping of a collection,
    so a push shows on the Sources page and in `dspo sources` like any run (its watermark
    is the push time). With `rejected` (why the API refused the payload) nothing is
    written and a failed run records the reason. A failed write is recorded and returned
    as `failed`; only a store that cannot even record that raises (`StoreError`).
    """
    kind = str(getattr(source, "kind", "push"))
    started = clock()
    t0 = time.perf_counter()
    if rejected is not None:
        error = f"source {source.name!r} (push API): {rejected}"
        return _push_failed(store, source, kind, started, t0, records_read(records), error, clock)
    try:
        with store.writing(), store.session() as s:
            run_id = start_collector_run(s, source.name, kind, started, this_holder())
            written = write_records(s, source.name, records)
            finish_collector_run(
                s, run_id, status="ok", rows_written=written.rows, records_read=written.records,
                error=None, watermark=started, finished=clock(),
            )
    except Exception as e:  # any failed write is recorded like a failed collection
        log.warning("push failed: %s", _describe(e, source), exc_info=True)
        return _push_failed(store, source, kind, started, t0, records_read(records),
                            _describe(e, source), clock)
    return SourceResult(source.name, kind, "ok", written.rows, time.perf_counter() - t0,
                        records=written.records)


def _push_failed(
    store: Store, source: SourceBase, kind: str, started: datetime, t0: float, records: int,
    error: str, clock: Callable[[], datetime],
) -> SourceResult:
    with store.writing(), store.session() as s:
        run_id = start_collector_run(s, source.name, kind, started, this_holder())
        finish_collector_run(
            s, run_id, status="failed", rows_written=0, records_read=records, error=error,
            watermark=None, finished=clock(),
        )
    return SourceResult(source.name, kind, "failed", 0, time.perf_counter() - t0, error,
                        records=records)
