"""The delivery side of the alert outbox, and the tickets each alert has in each sink.

Delivery is at-least-once towards the sink and exactly-once in effect: a row is leased to
one deliverer (`claim`), sent, then marked delivered. A deliverer that dies mid-send leaves
the lease to expire; the retried `create` asks the tracker for the fingerprint first, so it
finds the ticket instead of filing a second one. Rows of one (fingerprint, sink) are sent
in order: a row is claimable only when every earlier row of the pair is delivered, so a
resolution never overtakes the creation it resolves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from store import schema as s
from store.upsert import table, upsert

Ob, T = s.Outbox, s.AlertTicket
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    fingerprint: str
    sink: str
    action: str
    payload: dict[str, Any]
    attempts: int


def pending(session: Session, limit: int = 1000) -> list[OutboxRow]:
    """Undelivered rows, oldest first."""
    rows = session.execute(
        select(Ob.id, Ob.fingerprint, Ob.sink, Ob.action, Ob.payload, Ob.attempts)
        .where(Ob.delivered_at.is_(None)).order_by(Ob.id).limit(limit)
    ).tuples()
    return [OutboxRow(i, f, sk, a, dict(p or {}), n) for i, f, sk, a, p, n in rows]


def claim(session: Session, row_id: int, now: datetime, lease: timedelta = LEASE) -> bool:
    """Lease the row to this deliverer; False when it is delivered, leased, or waits for an
    earlier row of its (fingerprint, sink)."""
    out = table(Ob)
    earlier = out.alias("earlier")
    blocked = exists().where(
        and_(earlier.c.fingerprint == out.c.fingerprint, earlier.c.sink == out.c.sink,
             earlier.c.delivered_at.is_(None), earlier.c.id < out.c.id)
    )
    result = session.execute(
        sql_update(out)
        .where(out.c.id == row_id, out.c.delivered_at.is_(None),
               (out.c.claimed_until.is_(None)) | (out.c.claimed_until <= now), ~blocked)
        .values(claimed_until=now + lease, attempts=out.c.attempts + 1)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def mark_delivered(session: Session, row_id: int, now: datetime, note: str | None = None
                   ) -> None:
    """Done; `note` records why nothing was sent (e.g. the ticket was closed as Won't fix)."""
    out = table(Ob)
    session.execute(sql_update(out).where(out.c.id == row_id)
                    .values(delivered_at=now, claimed_until=None, last_error=note))


def mark_failed(session: Session, row_id: int, error: str) -> None:
    """Keep the row for the next delivery, with the error; the lease is released."""
    out = table(Ob)
    session.execute(sql_update(out).where(out.c.id == row_id)
                    .values(claimed_until=None, last_error=error[:2000]))


# ------------------------------------------------------------ tickets


@dataclass(frozen=True)
class TicketRow:
    fingerprint: str
    sink: str
    key: str
    url: str | None
    closed: bool
    resolution: str | None
    opened_at: datetime
    closed_at: datetime | None


def latest_ticket(session: Session, fingerprint: str, sink: str) -> TicketRow | None:
    """The ticket of this alert in this sink that dspo saw last (newest opened first)."""
    row = session.execute(
        select(T.fingerprint, T.sink, T.key, T.url, T.closed, T.resolution, T.opened_at,
               T.closed_at)
        .where(T.fingerprint == fingerprint, T.sink == sink)
        .order_by(T.opened_at.desc(), T.id.desc()).limit(1)
    ).first()
    return None if row is None else TicketRow(*row)


def save_ticket(session: Session, ticket: TicketRow) -> None:
    """Insert or refresh what dspo knows of a ticket (keyed by fingerprint, sink, key)."""
    row = {"fingerprint": ticket.fingerprint, "sink": ticket.sink, "key": ticket.key,
           "url": ticket.url, "closed": ticket.closed, "resolution": ticket.resolution,
           "opened_at": ticket.opened_at, "closed_at": ticket.closed_at}
    upsert(session, table(T), [row], ["fingerprint", "sink", "key"],
           ["url", "closed", "resolution", "closed_at"])
