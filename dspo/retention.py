"""`dspo db rollup` and `dspo db prune`, and the prune `dspo collect` runs after its sources.

Retention deletes raw points older than `store.retention.raw_points`, whole UTC days at a
time and only days that have a rollup row, so charts keep showing those days (from the day
rows) and windowed means keep the hours they read. Rollups themselves are never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from config.schema import StoreConfig
from store import rollups
from store.db import Store


@dataclass(frozen=True)
class Pruned:
    """What one prune did: the horizon it cut at (None: retention not set), points deleted."""

    before: datetime | None
    points: int


def prune(store: Store, settings: StoreConfig, now: datetime | None = None) -> Pruned:
    """Delete the raw points older than the configured retention, if one is set."""
    keep = settings.retention.raw_points
    if keep is None:
        return Pruned(None, 0)
    before = rollups.horizon(now or datetime.now(UTC), keep)
    with store.writing(), store.session() as session:
        return Pruned(before, rollups.prune(session, before))


def rebuild(store: Store) -> int:
    """Every rollup row recomputed from the raw points (of pruned days: lost, so kept as
    they are); returns the number of rollup rows."""
    with store.writing(), store.session() as session:
        return rollups.rebuild(session)
