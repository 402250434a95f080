"""A PO's answer to a dead letter: send it again, or give it up.

An outbox row dies on a fatal answer (a 4xx other than 408/429: bad token, missing
project, a field the tracker refuses) or after its sink's `max_attempts`; it keeps the
tracker's answer and holds the later rows of its alert and sink (`alerts.delivery`).
`retry` makes it pending again with a fresh count of attempts, due at once; `discard`
drops it, which lets the rows behind it go. Both are recorded in the alert's history, with
who did it, and are the same functions for `dspo alerts outbox retry|discard` and the
Alerts page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from store import alerts as store_alerts
from store import audit
from store import outbox as ob
from store.db import Session, Store


def retry(store: Store, ids: Sequence[int] | None, by: str, at: datetime) -> list[ob.OutboxRow]:
    """Dead rows (those of `ids`, or every dead row when None) back to pending, due at `at`.
    Returns the rows revived; rows not dead are left as they are."""
    who = _who(by)
    with store.session() as session:
        rows = ob.revive(session, ids, at)
        _note(session, rows, f"retried by {who}", at)
        _audit(session, rows, who, "delivery-retry", at)
    return rows


def discard(store: Store, ids: Sequence[int], by: str, at: datetime) -> list[ob.OutboxRow]:
    """Give dead rows up: never sent; the rows behind them go on. Returns those discarded."""
    who = _who(by)
    with store.session() as session:
        rows = ob.discard(session, ids, who, at)
        _note(session, rows, f"discarded by {who}", at)
        _audit(session, rows, who, "delivery-discard", at)
    return rows


def _audit(session: Session, rows: Sequence[ob.OutboxRow], who: str, action: str,
           at: datetime) -> None:
    for row in rows:
        audit.record(session, actor=who, action=action, target=f"outbox #{row.id}", at=at,
                     detail={"fingerprint": row.fingerprint, "sink": row.sink,
                             "action": row.action})


def _who(by: str) -> str:
    if not by.strip():
        raise ValueError("say who you are: retrying or discarding a delivery is recorded")
    return by.strip()


def _note(session: Session, rows: Sequence[ob.OutboxRow], done: str, at: datetime) -> None:
    """One history line per alert, naming the actions: 'delivery create@jira retried by ana'."""
    by_alert: dict[str, list[str]] = {}
    for row in rows:
        by_alert.setdefault(row.fingerprint, []).append(f"{row.action}@{row.sink}")
    for fp, actions in by_alert.items():
        alert = store_alerts.get_alert(session, fp)
        if alert is not None:
            store_alerts.add_alert_event(session, alert.id, at, alert.state, alert.state,
                                         alert.last_value,
                                         f"delivery {', '.join(actions)} {done}")
