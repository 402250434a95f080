"""`dspo collect --loop`: each source on its own interval, alerts after the sources they read.

One process schedules; a bounded pool collects. A source is due `interval` after its last
run started (read from the store, so a restarted scheduler does not hammer the sources it
just read) and never runs twice at once: this process keeps at most one run of it in
flight, and the store's lease keeps a second scheduler (on this machine or another) off
it. When a run ends, the alert rules of its product are evaluated in the scheduler's own
thread, so a stuck source delays neither the others nor alerting; a failing source is
tried again at its next interval while the rest carry on. Before the rules, the product's
closed-sprint figures are stored again if its backlog changed (`dspo.sprint_figures`).
With `store.retention.raw_points` set, raw points past it are pruned once an hour.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from collectors.runner import DEFAULT_PARALLEL, SourceResult, collectable, run_source
from config.schema import DspoConfig
from config.sources import SourceBase
from dspo.retention import prune
from dspo.sprint_figures import refresh_after
from store.db import Store
from store.queries import collector_status

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
PRUNE_EVERY = timedelta(hours=1)
"""Retention cuts whole UTC days: an hourly prune keeps within an hour of the horizon."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Scheduler:
    store: Store
    config: DspoConfig
    on_result: Callable[[SourceResult], None] = lambda _r: None
    evaluate: Callable[[DspoConfig, datetime], None] | None = None
    parallel: int = DEFAULT_PARALLEL
    every: timedelta | None = None  # overrides every source's interval (`--every N`)
    clock: Callable[[], datetime] = _utcnow
    due: dict[str, datetime] = field(default_factory=dict)
    _running: dict[str, Future[SourceResult]] = field(default_factory=dict)
    _pruned_at: datetime | None = None

    @property
    def sources(self) -> list[SourceBase]:
        return collectable(self.config.sources)

    def interval(self, source: SourceBase) -> timedelta:
        return self.every if self.every is not None else source.interval

    def plan(self) -> None:
        """First due times: interval after each source's last run, or now if never run."""
        last = collector_status(self.store).set_index("source")["started"].to_dict()
        now = self.clock()
        for source in self.sources:
            started = last.get(source.name)
            self.due[source.name] = started + self.interval(source) if started else now

    def run(self, stop: threading.Event, *, max_cycles: int | None = None) -> None:
        """Collect until `stop` is set; `max_cycles` ends after that many finished runs
        (tests)."""
        self.plan()
        finished = 0
        with ThreadPoolExecutor(max(1, self.parallel), "dspo-loop") as pool:
            while not stop.is_set():
                self._start_due(pool)
                finished += self._reap()
                self._prune_if_due()
                if max_cycles is not None and finished >= max_cycles:
                    break
                stop.wait(TICK_SECONDS)
            for future in self._running.values():  # let runs in flight end and be recorded
                future.result()

    def _start_due(self, pool: ThreadPoolExecutor) -> None:
        now = self.clock()
        for source in self.sources:
            if source.name in self._running or self.due.get(source.name, now) > now:
                continue
            self.due[source.name] = now + self.interval(source)
            self._running[source.name] = pool.submit(run_source, self.store, source)

    def _reap(self) -> int:
        done = [name for name, future in self._running.items() if future.done()]
        for name in done:
            result = self._running.pop(name).result()
            self.on_result(result)
            if result.status == "ok":
                refresh_after(self.store, [self._product_of(name)])
            if result.status != "skipped":
                self._evaluate_after(name)
        return len(done)

    def _prune_if_due(self) -> None:
        """Retention, in the scheduler's thread: a failure is logged, collection goes on."""
        now = self.clock()
        if self.config.store.retention.raw_points is None or (
                self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY):
            return
        self._pruned_at = now
        try:
            done = prune(self.store, self.config.store, now)
        except Exception:
            log.exception("pruning raw points past store.retention.raw_points failed")
            return
        if done.points:
            log.info("retention: %d raw points before %s deleted", done.points, done.before)

    def _product_of(self, source_name: str) -> str:
        return next(s.product for s in self.sources if s.name == source_name)

    def _evaluate_after(self, source_name: str) -> None:
        """The alert rules of the source's product, now that its data may have changed."""
        if self.evaluate is None:
            return
        product = self._product_of(source_name)
        rules = [r for r in self.config.alerts if r.product == product]
        if not rules:
            return
        try:
            self.evaluate(self.config.model_copy(update={"alerts": rules}), self.clock())
        except Exception:
            log.exception("alert evaluation after source %s failed", source_name)
