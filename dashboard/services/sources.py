"""What the Sources page shows for one product: each source's state and recent runs.

Reads are bounded: the latest run per source (one grouped query) and at most `RECENT` runs
per source, whatever the length of the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from config.schema import ProductConfig
from config.sources import SourceBase
from kpis.sources import RunSummary, SourceHealth, run_summary, source_health, took_seconds
from store import queries
from store.db import Store

RECENT = 20


@dataclass(frozen=True)
class SourceView:
    source: SourceBase
    kind: str
    last: pd.Series | None  # the latest run (with took_s), None before the first
    health: SourceHealth
    summary: RunSummary
    runs: pd.DataFrame  # the RECENT latest runs, newest first, with took_s (seconds)


def build_sources(store: Store, product: ProductConfig, sources: list[SourceBase], *,
                  as_of: datetime) -> list[SourceView]:
    mine = [s for s in sources if s.product == product.key]
    status = queries.collector_status(store)
    status = status.assign(took_s=took_seconds(status)).set_index("source")
    views = []
    for source in mine:
        last = status.loc[source.name] if source.name in status.index else None
        runs = queries.collector_runs(store, source.name, RECENT)
        runs = runs.assign(took_s=took_seconds(runs))
        health = source_health(
            None if last is None else str(last["status"]),
            None if last is None else last["last_success"],
            source.interval, as_of=as_of,
        )
        views.append(SourceView(source, str(getattr(source, "kind", "?")), last, health,
                                run_summary(runs), runs))
    return views
