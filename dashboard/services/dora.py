"""Everything the DORA page shows for one product over the URL's date range.

Store reads -> `kpis.dora.dora`; the page renders what this returns and the browser test
calls it directly. The alias history is read in full (one row per move: tiny), because
whether a move is a promotion or a rollback, and which promotion a rollback undoes, depends
on moves before the range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from config.schema import ProductConfig
from dashboard.cache import cached_view
from kpis.dora import FAILURE_DAYS, PRODUCTION_ALIAS, Dora, dora
from store import queries
from store.db import Store


@dataclass(frozen=True)
class DoraView:
    product: ProductConfig
    as_of: datetime
    models: list[str]  # registered models of the product
    events: int  # recorded alias moves, all aliases, all time
    result: Dora
    run_urls: dict[tuple[str, str], str]  # (model, version) -> its training run in MLflow


def alert_incidents(store: Store, product: str) -> pd.DataFrame:
    """[started, resolved] of every firing episode of the product's alert rules: a change
    failure when it starts within N days of a promotion; restored when it resolves."""
    return queries.alert_incidents(store, product)[["started", "resolved"]]


@cached_view("dora")
def build_dora(store: Store, product: ProductConfig, *, start: datetime, end: datetime,
               as_of: datetime, alias: str = PRODUCTION_ALIAS,
               failure_days: float = FAILURE_DAYS) -> DoraView:
    key = product.key
    events = queries.alias_events(store, key)
    versions = queries.model_versions(store, key)
    runs = queries.runs(store, key)
    incidents = alert_incidents(store, key)
    result = dora(events, versions, runs, incidents, start=start, end=end, alias=alias,
                  failure_days=failure_days)
    urls = dict(zip(runs["run_id"], runs["url"], strict=True))
    run_urls = {(m, str(v)): urls[r] for m, v, r in
                zip(versions["model"], versions["version"], versions["run_id"], strict=True)
                if urls.get(r)}
    return DoraView(product=product, as_of=as_of,
                    models=sorted(versions["model"].unique()) if len(versions) else [],
                    events=len(events), result=result, run_urls=run_urls)
