"""The store's change marker: a few indexed maxima that move whenever a page's data may.

Data reaches the store through collector runs (the runner and the push API record one per
write) and alert evaluation (alerts change revision, transitions are events, silences and
deliveries are rows). Any of those moves the marker, so a per-worker cache of page results
keyed on it is never served after a change. One round trip; each part reads an index end
(or the small alert table), never a table of points.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from store import schema as s
from store.db import Store


def change_marker(store: Store) -> tuple[Any, ...]:
    """A value that differs after any collection, alert evaluation or alert action."""
    C, A, E, Si, Ob = s.CollectorRun, s.Alert, s.AlertEvent, s.Silence, s.Outbox
    parts = [
        select(func.max(C.id)), select(func.max(C.finished)),
        select(func.count(A.id)), select(func.coalesce(func.sum(A.revision), 0)),
        select(func.max(E.id)), select(func.max(Si.id)), select(func.count(Si.id)),
        select(func.max(Ob.id)),
    ]
    with store.session() as session:
        row = session.execute(select(*(p.scalar_subquery() for p in parts))).one()
    return tuple(row)
