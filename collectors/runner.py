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
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from collectors.base import Collector, SourceError
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
from store.upsert import batched
from store.writer import Written, write_records

log = logging.getLogger(__name__)

DEFAULT_PARALLEL = 4
LEASE_MARGIN = timedelta(minutes=2)  # covers the write after the deadline's collection
GRACE_SECONDS = 2.0  # a collector gets this long past its deadline to raise by itself
STREAM_BATCH = 10_000  # records per hand-over from the collecting thread to the writer
STREAM_AHEAD = 2  # batches the collector may read ahead of the writer


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
    streamed = _Handover(source, since, started, progress)
    try:
        if streams(store):
            written = streamed.write(store, run_id, clock)
        else:
            records = _collect_within_deadline(source, since, started, progress)
            with store.writing(), store.session() as s:
                written = write_records(s, source.name, records)
                _finish_ok(s, run_id, written, started, clock)
        return SourceResult(source.name, kind, "ok", written.rows, time.perf_counter() - t0,
                            records=written.records)
    except Exception as e:  # any failure of one source must not stop the others
        error = _describe(e, source)
        if isinstance(e, SourceError):  # expected: the source said no; the result carries it
            log.info("collect failed: %s", error)
        else:  # a bug or an unclassified failure: keep the traceback for whoever debugs it
            log.warning("collect failed: %s", error, exc_info=True)
        read = records_read(records) + streamed.read
        with store.writing(), store.session() as s:
            finish_collector_run(
                s, run_id, status="failed", rows_written=0, records_read=read,
                error=error, watermark=None, finished=clock(),
            )
        return SourceResult(source.name, kind, "failed", 0, time.perf_counter() - t0, error,
                            records=read)


def _finish_ok(
    s: Session, run_id: int, written: Written, started: datetime, clock: Callable[[], datetime]
) -> None:
    finish_collector_run(
        s, run_id, status="ok", rows_written=written.rows, records_read=written.records,
        error=None, watermark=started, finished=clock(),
    )


def streams(store: Store) -> bool:
    """Whether records go to the writer while the collector still reads (bounded memory).

    Only where a transaction open for the whole collection blocks no one: PostgreSQL
    writes concurrently. SQLite has one writer at a time, which an open transaction would
    hold for minutes (other sources wait on `store.writing()`, other processes fail after
    the busy timeout), so there the records are collected first and written at once.
    """
    return store.dialect == "postgresql"


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
        raise _abandoned(source, collector)
    if "error" in box:
        raise _raised(box["error"], collector)  # type: ignore[arg-type]
    return box["records"]  # type: ignore[return-value]


def _abandoned(source: SourceBase, collector: Collector[Any]) -> SourceError:
    return SourceError(
        source.name, collector.where,
        f"deadline of {format_duration(source.deadline)} exceeded; the source was still "
        "answering (or hung) and was abandoned",
    )


def _raised(error: Exception, collector: Collector[Any]) -> Exception:
    """What the runner raises for an exception of the collecting thread."""
    if isinstance(error, DeadlineExceeded):
        failure = collector.fail(str(error), retriable=True)
        failure.__cause__ = error
        return failure
    return error


class _Handover:
    """Records handed from the collecting thread to the writer in batches, as they come.

    The collector runs in a worker thread as in `_collect_within_deadline`, but puts
    batches of `STREAM_BATCH` records on a queue of `STREAM_AHEAD`, from which the runner's
    thread writes them into one open transaction: memory holds a few batches, not the run.
    The runner waits for each batch only until the deadline (plus the grace), then
    abandons the run; any failure rolls the whole transaction back, so a failed run leaves
    the store as it was and the watermark where it was.
    """

    def __init__(self, source: SourceBase, since: datetime | None, until: datetime,
                 progress: Progress | None) -> None:
        self.source, self.since, self.until, self.progress = source, since, until, progress
        self.read = 0  # records handed to the writer (a key listing is not counted)
        self.queue: queue.Queue[list[Record] | Exception | None] = queue.Queue(STREAM_AHEAD)
        self.abandoned = threading.Event()

    def write(self, store: Store, run_id: int, clock: Callable[[], datetime]) -> Written:
        deadline = Deadline(self.source.deadline)
        collector = collector_for(self.source, deadline)
        worker = threading.Thread(target=self._collect, args=(collector, deadline),
                                  name=f"dspo-collect-{self.source.name}", daemon=True)
        worker.start()
        try:
            with store.writing(), store.session() as s:
                written = write_records(s, self.source.name, self._received(collector, deadline))
                _finish_ok(s, run_id, written, self.until, clock)
            return written
        finally:
            self.abandoned.set()  # after a failed write the collector stops at its next record

    def _collect(self, collector: Collector[Any], deadline: Deadline) -> None:
        try:
            records = _counted(collector.collect(self.since, self.until), self.source.name,
                               self.progress, deadline, self.abandoned)
            for batch in batched(records, STREAM_BATCH):
                if not self._put(batch):
                    return
            self._put(None)
        except Exception as e:  # noqa: BLE001 - handed to the runner thread, which classifies it
            self._put(e)

    def _put(self, item: list[Record] | Exception | None) -> bool:
        """Wait for room on the queue, unless the runner has given up on this run."""
        while not self.abandoned.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _received(self, collector: Collector[Any], deadline: Deadline) -> Iterator[Record]:
        while True:
            try:
                item = self.queue.get(timeout=max(0.0, deadline.remaining()) + GRACE_SECONDS)
            except queue.Empty:
                self.abandoned.set()
                raise _abandoned(self.source, collector) from None
            if item is None:
                return
            if isinstance(item, Exception):
                raise _raised(item, collector)
            self.read += records_read(item)
            yield from item


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
