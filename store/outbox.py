"""The delivery side of the alert outbox, and the tickets each alert has in each sink.

Delivery is at-least-once towards the sink and exactly-once in effect: a row is leased to
one deliverer (`claim`), sent, then marked delivered. A deliverer that dies mid-send leaves
the lease to expire; the retried `create` asks the tracker for the fingerprint first, so it
finds the ticket instead of filing a second one. Rows of one (fingerprint, sink) are sent
in order: a row is claimable only when every earlier row of the pair is delivered or
discarded, so a resolution never overtakes the creation it resolves, and a dead row holds
the rows behind it until a PO retries (`revive`) or discards it.

A failed attempt puts the row back with a `next_attempt_at` (the caller's backoff); a
fatal one, or the last allowed, makes it `dead`.
"""

from __future__ import annotations

from collections.abc import Sequence
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
PENDING, DELIVERED, DEAD, DISCARDED = s.OUTBOX_STATES
OPEN_STATES = (PENDING, DEAD)  # rows still to deliver: they hold the rows behind them
ERROR_LIMIT = 2000


@dataclass(frozen=True)
class OutboxRow:
    id: int
    fingerprint: str
    sink: str
    action: str
    payload: dict[str, Any]
    attempts: int
    state: str = PENDING
    next_attempt_at: datetime | None = None
    last_error: str | None = None

    def due(self, now: datetime) -> bool:
        """Pending and past its backoff."""
        return self.state == PENDING and (self.next_attempt_at is None
                                          or self.next_attempt_at <= now)


_ROW = (Ob.id, Ob.fingerprint, Ob.sink, Ob.action, Ob.payload, Ob.attempts, Ob.state,
        Ob.next_attempt_at, Ob.last_error)


def _row(values: Any) -> OutboxRow:
    i, f, sk, a, p, n, state, nxt, err = values
    return OutboxRow(i, f, sk, a, dict(p or {}), n, state, nxt, err)


def pending(session: Session, limit: int = 1000) -> list[OutboxRow]:
    """Rows still to deliver (pending, and dead ones, which hold the rows behind them),
    oldest first."""
    rows = session.execute(
        select(*_ROW).where(Ob.state.in_(OPEN_STATES)).order_by(Ob.id).limit(limit)
    ).tuples()
    return [_row(r) for r in rows]


def get_rows(session: Session, ids: Sequence[int]) -> list[OutboxRow]:
    rows = session.execute(select(*_ROW).where(Ob.id.in_(list(ids))).order_by(Ob.id)).tuples()
    return [_row(r) for r in rows]


def claim(session: Session, row_id: int, now: datetime, lease: timedelta = LEASE
          ) -> int | None:
    """Lease the row to this deliverer and count the attempt; returns the attempt's number,
    or None when the row is not pending, not due yet, leased, or waits for an earlier row
    of its (fingerprint, sink)."""
    out = table(Ob)
    earlier = out.alias("earlier")
    blocked = exists().where(
        and_(earlier.c.fingerprint == out.c.fingerprint, earlier.c.sink == out.c.sink,
             earlier.c.state.in_(OPEN_STATES), earlier.c.id < out.c.id)
    )
    result = session.execute(
        sql_update(out)
        .where(out.c.id == row_id, out.c.state == PENDING,
               out.c.next_attempt_at.is_(None) | (out.c.next_attempt_at <= now),
               out.c.claimed_until.is_(None) | (out.c.claimed_until <= now), ~blocked)
        .values(claimed_until=now + lease, attempts=out.c.attempts + 1, last_attempt_at=now)
        .returning(out.c.attempts)
    )
    attempt = result.scalar_one_or_none()
    return None if attempt is None else int(attempt)


def mark_delivered(session: Session, row_id: int, now: datetime, note: str | None = None
                   ) -> None:
    """Done; `note` records why nothing was sent (e.g. the ticket was closed as Won't fix)."""
    out = table(Ob)
    session.execute(sql_update(out).where(out.c.id == row_id)
                    .values(state=DELIVERED, delivered_at=now, claimed_until=None,
                            next_attempt_at=None, last_error=note))


def mark_failed(session: Session, row_id: int, error: str, next_attempt_at: datetime) -> None:
    """Keep the row for a later delivery, not before `next_attempt_at`; the lease is
    released."""
    out = table(Ob)
    session.execute(sql_update(out).where(out.c.id == row_id)
                    .values(claimed_until=None, next_attempt_at=next_attempt_at,
                            last_error=error[:ERROR_LIMIT]))


def mark_dead(session: Session, row_id: int, error: str) -> None:
    """Stop trying: the row stays, with the answer that killed it, for a PO to decide."""
    out = table(Ob)
    session.execute(sql_update(out).where(out.c.id == row_id)
                    .values(state=DEAD, claimed_until=None, next_attempt_at=None,
                            last_error=error[:ERROR_LIMIT]))


def revive(session: Session, ids: Sequence[int] | None, at: datetime) -> list[OutboxRow]:
    """Dead rows (those of `ids`, or all when None) back to pending, due at `at`, with a
    fresh count of attempts; returns the rows revived. The last error stays until the next
    attempt replaces it."""
    out = table(Ob)
    where = [out.c.state == DEAD]
    if ids is not None:
        where.append(out.c.id.in_(list(ids)))
    revived = [int(i) for i in session.execute(
        sql_update(out).where(*where)
        .values(state=PENDING, attempts=0, next_attempt_at=at, claimed_until=None)
        .returning(out.c.id)
    ).scalars()]
    return get_rows(session, revived) if revived else []


def discard(session: Session, ids: Sequence[int], by: str, at: datetime) -> list[OutboxRow]:
    """Dead rows given up for good: the rows behind them go on. Returns those discarded."""
    out = table(Ob)
    gone = [int(i) for i in session.execute(
        sql_update(out).where(out.c.state == DEAD, out.c.id.in_(list(ids)))
        .values(state=DISCARDED, discarded_at=at, discarded_by=by)
        .returning(out.c.id)
    ).scalars()]
    return get_rows(session, gone) if gone else []


def queued(session: Session, dedupe_keys: Sequence[str]) -> set[str]:
    """Which of these dedupe keys an outbox row already carries (in any state)."""
    if not dedupe_keys:
        return set()
    found = session.execute(select(Ob.dedupe_key).where(Ob.dedupe_key.in_(list(dedupe_keys))))
    return set(found.scalars())


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
