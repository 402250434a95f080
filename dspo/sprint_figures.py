"""Keep each product's closed-sprint figures stored, after its sources write.

Pages would otherwise rebuild every closed sprint's velocity and carry-over from item
history on every view (`kpis.sprint_figures` says why that is safe to store). `dspo collect`
and the `--loop` scheduler call `refresh_after` once a product's sources have run; it
recomputes only when the product's backlog stamp moved since the stored rows were made, so
a source that writes no backlog costs one small query. Until the refresh (or when it
fails) pages rebuild the sprints live: never wrong, only slower.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from kpis.sprint_figures import any_closed, closed_sprint_figures
from store import queries
from store.db import Store
from store.sprint_figures import backlog_stamp, replace_sprint_figures, stored_sprint_figures

log = logging.getLogger(__name__)


def refresh_sprint_figures(store: Store, product: str, *, now: datetime | None = None
                           ) -> int | None:
    """Recompute and store `product`'s closed-sprint figures if its backlog changed since
    they were stored; the rows stored, or None when the stored ones still hold (or it has
    no closed sprint)."""
    now = now or datetime.now(UTC)
    stamp = backlog_stamp(store, product)  # before the data: see replace_sprint_figures
    stamps, _ = stored_sprint_figures(store, product)
    if stamps == {stamp}:
        return None
    sprints = queries.sprints(store, product)
    if not stamps and not any_closed(sprints):
        return None
    figures = closed_sprint_figures(sprints, queries.backlog_items(store, product),
                                    queries.item_events(store, product))
    return replace_sprint_figures(store, product, figures, stamp, now)


def refresh_after(store: Store, products: Iterable[str]) -> None:
    """`refresh_sprint_figures` of each product once; a failure is logged, not raised: the
    collection it follows succeeded, and pages rebuild live meanwhile."""
    for product in dict.fromkeys(products):
        try:
            refresh_sprint_figures(store, product)
        except Exception:
            log.exception("storing the sprint figures of product %s failed", product)
