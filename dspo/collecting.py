"""`dspo collect`: load config, upgrade the store, run every source with progress bars."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from collectors.runner import SourceResult, run_sources
from config.loader import load_config
from store.db import Store
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


def collect_all(config_path: Path, only: Sequence[str] | None = None) -> int:
    """Collect every enabled source (or those named in `only`); return how many failed."""
    cfg = load_config(config_path)
    unknown = set(only or ()) - {s.name for s in cfg.sources}
    if unknown:
        raise SystemExit(f"error: no source named {', '.join(sorted(unknown))} in {config_path}")
    sources = [s for s in cfg.sources if not only or s.name in only]
    store = Store(cfg.store.url)
    store.upgrade()
    with store.session() as s:
        sync_products(s, cfg.products)
    columns = (
        SpinnerColumn(), TextColumn("{task.description}"),
        TextColumn("{task.fields[seen]} records"), TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        results = run_sources(store, sources, progress=RichProgress(bar))
    _print_summary(results)
    store.dispose()
    return sum(not r.ok for r in results)


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
