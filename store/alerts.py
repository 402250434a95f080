"""Writing alert state: instances, their history, silences, acknowledgements, the outbox.

The alert engine (`alerts/engine.py`) decides; these functions are the only SQL it runs.
Concurrency is settled here, by the database, not by locks in a process:

- an alert row is created with INSERT .. ON CONFLICT DO NOTHING on its fingerprint, so two
  evaluators that meet a new instance at once make one row;
- a transition is a compare-and-set on `alert.revision` (`update_alert`): of two
  evaluators that read the same revision, one updates and the other sees 0 rows, rolls
  back, re-reads and finds nothing left to do;
- history rows and outbox rows are inserted in the same transaction as the transition,
  keyed by unique constraints with ON CONFLICT DO NOTHING, so a retry never doubles them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from store import schema as s
from store.upsert import table, upsert

A, E, P = s.Alert, s.AlertEvent, s.Product


@dataclass(frozen=True)
class AlertRow:
    """An alert instance as stored; `revision` is what a compare-and-set update expects."""

    id: int
    fingerprint: str
    rule: str
    product: str
    labels: dict[str, str]
    state: str
    state_since: datetime
    pending_since: datetime | None
    fired_at: datetime | None
    resolved_at: datetime | None
    last_value: float | None
    last_evaluated_at: datetime | None
    severity: str
    summary: str
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    revision: int


ALERT_FIELDS = ("id", "fingerprint", "rule", "labels", "state", "state_since", "pending_since",
                "fired_at", "resolved_at", "last_value", "last_evaluated_at", "severity",
                "summary", "acknowledged_by", "acknowledged_at", "revision")
UPDATABLE = frozenset(ALERT_FIELDS) - {"id", "fingerprint", "rule", "revision"}


def _alert_select() -> Any:
    return select(*(getattr(A, c) for c in ALERT_FIELDS), P.key).join(P, P.id == A.product_id)


def _alert(row: Any) -> AlertRow:
    values = dict(zip(ALERT_FIELDS, row[:-1], strict=True))
    values["labels"] = dict(values["labels"] or {})
    return AlertRow(product=row[-1], **values)


def _product_id(session: Session, product: str) -> int:
    found = session.execute(select(P.id).where(P.key == product)).scalar_one_or_none()
    if found is None:
        upsert(session, table(P), [{"key": product, "name": product, "owner": "",
                                    "description": ""}], ["key"])
        found = session.execute(select(P.id).where(P.key == product)).scalar_one()
    return int(found)


def ensure_alert(session: Session, fingerprint: str, rule: str, product: str,
                 labels: Mapping[str, str], severity: str, now: datetime) -> AlertRow:
    """The alert row of `fingerprint`, created in state normal when it does not exist."""
    row = {
        "fingerprint": fingerprint, "rule": rule, "product_id": _product_id(session, product),
        "labels": dict(labels), "state": "normal", "state_since": now, "severity": severity,
        "summary": "", "revision": 0,
    }
    upsert(session, table(A), [row], ["fingerprint"])
    found = get_alert(session, fingerprint)
    assert found is not None  # just inserted, or inserted by another evaluator
    return found


def get_alert(session: Session, fingerprint: str) -> AlertRow | None:
    row = session.execute(_alert_select().where(A.fingerprint == fingerprint)).first()
    return None if row is None else _alert(row)


def rule_alerts(session: Session, rule: str) -> list[AlertRow]:
    """Every stored instance of a rule, oldest first."""
    rows = session.execute(_alert_select().where(A.rule == rule).order_by(A.id)).all()
    return [_alert(r) for r in rows]


def update_alert(session: Session, alert: AlertRow, **changes: Any) -> bool:
    """Compare-and-set: apply `changes` only if the row is still at `alert.revision`.

    False means another evaluator changed the alert since it was read: the caller rolls
    back and starts again from a fresh read.
    """
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    result = session.execute(
        sql_update(table(A))
        .where(table(A).c.id == alert.id, table(A).c.revision == alert.revision)
        .values(**changes, revision=alert.revision + 1)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def add_alert_event(session: Session, alert_id: int, ts: datetime, from_state: str | None,
                    to_state: str, value: float | None, note: str = "") -> None:
    """Record a transition; the same (alert, ts, to_state) twice is stored once."""
    row = {"alert_id": alert_id, "ts": ts, "from_state": from_state, "to_state": to_state,
           "value": value, "note": note}
    upsert(session, table(E), [row], ["alert_id", "ts", "to_state"])


# ------------------------------------------------------------ outbox (enqueue side)


@dataclass(frozen=True)
class OutboxEntry:
    """An intended action for one sink; `dedupe_key` makes enqueueing it idempotent."""

    fingerprint: str
    sink: str
    action: str
    payload: Mapping[str, Any]
    dedupe_key: str


def enqueue(session: Session, entries: Sequence[OutboxEntry], now: datetime) -> None:
    rows = [
        {"fingerprint": e.fingerprint, "sink": e.sink, "action": e.action,
         "payload": dict(e.payload), "created_at": now, "attempts": 0,
         "dedupe_key": e.dedupe_key, "state": "pending"}
        for e in entries
    ]
    upsert(session, table(s.Outbox), rows, ["dedupe_key"])


# ------------------------------------------------------------ silences, acknowledgement


@dataclass(frozen=True)
class SilenceRow:
    id: int
    product: str
    rule: str | None
    matchers: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str


def silence_matches(silence: SilenceRow, rule: str, labels: Mapping[str, str]) -> bool:
    """A silence matches an alert of its rule (any rule when None) carrying its labels."""
    if silence.rule is not None and silence.rule != rule:
        return False
    return all(labels.get(k) == v for k, v in silence.matchers.items())


def active_silences(session: Session, at: datetime, product: str | None = None
                    ) -> list[SilenceRow]:
    S = s.Silence
    stmt = (select(S.id, P.key, S.rule, S.matchers, S.starts_at, S.ends_at, S.reason,
                   S.created_by)
            .join(P, P.id == S.product_id)
            .where(S.starts_at <= at, S.ends_at > at)
            .order_by(S.id))
    if product is not None:
        stmt = stmt.where(P.key == product)
    return [SilenceRow(i, p, r, dict(m or {}), a, b, why, by)
            for i, p, r, m, a, b, why, by in session.execute(stmt).tuples()]


def add_silence(session: Session, *, product: str, rule: str | None,
                matchers: Mapping[str, str], starts_at: datetime, ends_at: datetime,
                reason: str, created_by: str, created_at: datetime) -> int:
    if ends_at <= starts_at:
        raise ValueError("a silence must end after it starts")
    S = table(s.Silence)
    result = session.execute(
        S.insert().values(product_id=_product_id(session, product), rule=rule,
                          matchers=dict(matchers), starts_at=starts_at, ends_at=ends_at,
                          reason=reason, created_by=created_by, created_at=created_at)
        .returning(S.c.id)
    )
    return int(result.scalar_one())


def expire_silence(session: Session, silence_id: int, at: datetime) -> None:
    """End a silence now (the Alerts page's 'unsilence')."""
    S = table(s.Silence)
    session.execute(sql_update(S).where(S.c.id == silence_id, S.c.ends_at > at)
                    .values(ends_at=at))


def set_acknowledged(session: Session, fingerprint: str, by: str, at: datetime
                     ) -> AlertRow | None:
    """Mark the alert acknowledged (idempotent); None when there is no such alert."""
    alert = get_alert(session, fingerprint)
    if alert is None:
        return None
    session.execute(
        sql_update(table(A)).where(table(A).c.id == alert.id)
        .values(acknowledged_by=by, acknowledged_at=at, revision=A.revision + 1)
    )
    add_alert_event(session, alert.id, at, alert.state, alert.state, alert.last_value,
                    f"acknowledged by {by}")
    return get_alert(session, fingerprint)


def ticket_sinks(session: Session, fingerprint: str) -> list[str]:
    """Sinks that hold, or are about to get, a ticket of this alert."""
    T, Ob = s.AlertTicket, s.Outbox
    have = set(session.execute(select(T.sink).where(T.fingerprint == fingerprint)).scalars())
    queued = session.execute(
        select(Ob.sink).where(Ob.fingerprint == fingerprint, Ob.state != "discarded",
                              or_(Ob.action == "create", Ob.action == "reopen"))
    ).scalars()
    return sorted(have | set(queued))
