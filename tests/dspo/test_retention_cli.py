"""`dspo db prune` and `dspo db rollup` on a SQLite store, and the prune `dspo collect`
runs after its sources (the SQL itself is tested on both backends in tests/store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from dspo.cli import app
from store import records as r
from store.db import Store
from store.writer import write_records


def _store_with_points(tmp_path: Path, retention: str) -> tuple[Path, Store, datetime]:
    """Five daily points up to yesterday's midnight (UTC), values 0..4."""
    store = Store(f"sqlite:///{tmp_path / 'dspo.db'}")
    store.upgrade()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with store.session() as s:
        write_records(s, "usage", [r.Point("churn", r.SeriesKind.USAGE, "dau",
                                           today - timedelta(days=5 - d), float(d))
                                   for d in range(5)])
    config = tmp_path / "dspo.yaml"
    config.write_text(f'store: {{url: "{store.url}", {retention}}}\n'
                      "products: [{key: churn, name: Churn}]\n")
    return config, store, today


def _points(store: Store) -> list[float]:
    with store.session() as s:
        return list(s.execute(text("SELECT value FROM point ORDER BY ts")).scalars())


def test_db_prune_keeps_the_days_within_retention(tmp_path: Path) -> None:
    """Retention 2d cuts at the start of the day two days ago: the points of 5, 4 and 3
    days ago (0, 1, 2) go, those of 2 days ago and yesterday (3, 4) stay."""
    config, store, today = _store_with_points(tmp_path, "retention: {raw_points: 2d}")
    out = CliRunner().invoke(app, ["db", "prune", "-c", str(config)])
    assert out.exit_code == 0, out.output
    cut = today - timedelta(days=2)
    assert f"3 raw points before {cut:%Y-%m-%d} UTC deleted" in out.output
    assert _points(store) == [3.0, 4.0]
    out = CliRunner().invoke(app, ["db", "rollup", "-c", str(config)])
    assert out.exit_code == 0 and "10 rollup rows" in out.output  # 5 days x (hour, day)
    store.dispose()


def test_no_retention_keeps_every_point(tmp_path: Path) -> None:
    config, store, _ = _store_with_points(tmp_path, "retention: {}")
    out = CliRunner().invoke(app, ["db", "prune", "-c", str(config)])
    assert "every point is kept" in out.output and len(_points(store)) == 5
    store.dispose()


def test_collect_prunes_after_its_sources(tmp_path: Path) -> None:
    config, store, _ = _store_with_points(tmp_path, "retention: {raw_points: 2d}")
    out = CliRunner().invoke(app, ["collect", "-c", str(config)])
    assert out.exit_code == 0, out.output
    assert _points(store) == [3.0, 4.0]
    store.dispose()


def test_the_loop_prunes_once_an_hour(tmp_path: Path) -> None:
    """`dspo collect --loop` (no source here) prunes at its first tick, then waits an hour:
    a point written past the horizon in between stays until the hour is up."""
    import threading

    from config.loader import load_config
    from dspo.scheduler import PRUNE_EVERY, Scheduler

    config, store, today = _store_with_points(tmp_path, "retention: {raw_points: 2d}")
    now = [datetime.now(UTC)]
    scheduler = Scheduler(store, load_config(config), clock=lambda: now[0])
    stop = threading.Event()
    scheduler.run(stop, max_cycles=0)  # one tick: prune, then max_cycles ends it
    assert _points(store) == [3.0, 4.0]
    with store.session() as s:
        write_records(s, "usage", [r.Point("churn", r.SeriesKind.USAGE, "dau",
                                           today - timedelta(days=9), 9.0)])
    scheduler._prune_if_due()
    assert _points(store) == [9.0, 3.0, 4.0]  # within the hour: not yet
    now[0] += PRUNE_EVERY
    scheduler._prune_if_due()
    assert _points(store) == [3.0, 4.0]
    store.dispose()
