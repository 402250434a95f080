"""`dspo collect` and `dspo sources`: run sources (once with progress bars, or on their
intervals in a loop) and show how each source's runs went."""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from collectors.runner import DEFAULT_PARALLEL, SourceResult, run_sources
from config.loader import load_config
from config.schema import DspoConfig
from dspo.retention import prune
from dspo.scheduler import Scheduler
from dspo.server import upgrade_command
from dspo.sprint_figures import refresh_after
from store.db import Store
from store.queries import collector_status
from store.writer import sync_products

console = Console(stderr=True)


class RichProgress:
    """Renders the runner's progress hooks as one spinner line per source."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, int] = {}

    def source_started(self, source: str, kind: str) -> None:
        self._tasks[source] = self._progress.add_task(f"{source} ({kind})", total=None, seen=0)

    def records_seen(self, source: str, count: int) -> None:
        self._progress.update(self._tasks[source], seen=count)

    def source_finished(self, result: SourceResult) -> None:
        mark = {"ok": "[green]ok[/]", "failed": "[red]failed[/]"}.get(result.status, "")
        self._progress.update(
            self._tasks[result.source], total=1, completed=1, seen=result.records,
            description=f"{result.source} {mark}",
        )


def _open(config_path: Path, only: Sequence[str] | None) -> tuple[DspoConfig, Store]:
    cfg = load_config(config_path)
    unknown = set(only or ()) - {s.name for s in cfg.sources}
    if unknown:
        raise SystemExit(f"error: no source named {', '.join(sorted(unknown))} in {config_path}")
    if only:
        cfg = cfg.model_copy(update={"sources": [s for s in cfg.sources if s.name in only]})
    store = Store(cfg.store.url)
    store.ensure_schema(hint=f"run: {upgrade_command(config_path)}")
    with store.session() as s:
        sync_products(s, cfg.products)
    return cfg, store


def collect_all(config_path: Path, only: Sequence[str] | None = None,
                parallel: int = DEFAULT_PARALLEL) -> int:
    """Collect every enabled source (or those named in `only`); return how many failed."""
    cfg, store = _open(config_path, only)
    columns = (
        SpinnerColumn(), TextColumn("{task.description}"),
        TextColumn("{task.fields[seen]} records"), TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            results = run_sources(store, cfg.sources, progress=RichProgress(bar),
                                  parallel=parallel)
        products = {s.name: s.product for s in cfg.sources}
        refresh_after(store, [products[r.source] for r in results if r.status == "ok"])
        _print_summary(results)
        _prune(store, cfg)
    finally:
        store.dispose()
    return sum(not r.ok for r in results)


def _prune(store: Store, cfg: DspoConfig) -> None:
    """Retention after a collection: raw points past `store.retention.raw_points`."""
    done = prune(store, cfg.store)
    if done.before is not None:
        console.print(f"retention: {done.points:,} raw points before "
                      f"{done.before:%Y-%m-%d} UTC deleted", highlight=False)


def collect_loop(config_path: Path, only: Sequence[str] | None = None, *,
                 every: timedelta | None = None, parallel: int = DEFAULT_PARALLEL,
                 stop: threading.Event | None = None) -> None:
    """Collect each source on its interval (or every `every`) until stopped (SIGTERM/INT)."""
    from dspo.alerting import evaluate_and_print

    cfg, store = _open(config_path, only)
    stop = stop or _stop_on_signals()
    scheduler = Scheduler(store, cfg, on_result=_print_result, parallel=parallel, every=every,
                          evaluate=lambda config, now: evaluate_and_print(store, config, now))
    console.print(f"collecting {len(scheduler.sources)} source(s) into {store.display_url}; "
                  "Ctrl+C to stop")
    try:
        scheduler.run(stop)
    finally:
        store.dispose()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _print_result(r: SourceResult) -> None:
    colour = {"ok": "green", "failed": "red", "skipped": "yellow"}[r.status]
    line = (f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}Z {r.source} [{colour}]{r.status}[/] "
            f"{r.records} read, {r.rows} written, {r.seconds:.1f}s")
    console.print(line, highlight=False)
    if r.error:
        console.print(f"  [red]error:[/] {escape(r.error)}", highlight=False, soft_wrap=True)


def print_sources(config_path: Path) -> int:
    """`dspo sources`: each configured source's last run; returns how many last failed."""
    cfg = load_config(config_path)
    store = Store(cfg.store.url)
    try:
        store.check_schema()
        status = collector_status(store).set_index("source")
    finally:
        store.dispose()
    table = Table("source", "kind", "product", "last run", "status", "seconds", "rows written",
                  "records read", "last success", box=None)
    failed = 0
    errors: list[tuple[str, str]] = []
    for source in cfg.sources:
        kind = str(getattr(source, "kind", "?"))
        if source.name not in status.index:
            note = "disabled" if not source.enabled else "never run"
            table.add_row(source.name, kind, source.product, "–", note, "", "", "", "–")
            continue
        row = status.loc[source.name]
        failed += row["status"] == "failed"
        seconds = (row["finished"] - row["started"]).total_seconds() if pd.notna(
            row["finished"]) else None
        colour = {"ok": "green", "failed": "red"}.get(row["status"], "yellow")
        table.add_row(
            source.name, kind, source.product, _when(row["started"]),
            f"[{colour}]{row['status']}[/]", f"{seconds:.1f}" if seconds is not None else "–",
            str(row["rows_written"]), str(row["records_read"]), _when(row["last_success"]),
        )
        if row["error"]:
            errors.append((source.name, str(row["error"])))
    console.print(table)
    for name, error in errors:
        console.print(f"[red]{escape(name)}:[/] {escape(error)}", highlight=False,
                      soft_wrap=True)
    return failed


def _when(value: object) -> str:
    return f"{value:%Y-%m-%d %H:%M}Z" if isinstance(value, datetime) and pd.notna(value) else "–"


def _print_summary(results: Sequence[SourceResult]) -> None:
    """A table of every source, then each failure's full error on its own line."""
    table = Table("source", "kind", "status", "records read", "rows written", "seconds",
                  box=None)
    colours = {"ok": "green", "failed": "red", "skipped": "yellow"}
    for r in results:
        status = f"[{colours[r.status]}]{r.status}[/]"
        table.add_row(r.source, r.kind, status, str(r.records), str(r.rows), f"{r.seconds:.1f}")
    console.print(table)
    for r in results:
        if r.error:
            console.print(f"[red]error:[/] {escape(r.error)}", highlight=False, soft_wrap=True)
