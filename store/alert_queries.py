"""Reads of alert state as DataFrames, for the Alerts page, the overview and the CLI.

Re-exported by `store.queries`. Fixed columns also when empty; datetimes UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import select

from store import schema as s
from store.alerts import SilenceRow, active_silences, silence_matches
from store.db import Store
from store.frames import frame, read

A, E, P, T = s.Alert, s.AlertEvent, s.Product, s.AlertTicket
NATIVE = "backlog"

ALERT_COLUMNS = ["fingerprint", "rule", "product", "labels", "state", "state_since",
                 "pending_since", "fired_at", "resolved_at", "last_value", "last_evaluated_at",
                 "severity", "summary", "acknowledged_by", "acknowledged_at", "silenced",
                 "backlog_key"]
ALERT_TIMES = ["state_since", "pending_since", "fired_at", "resolved_at", "last_evaluated_at",
               "acknowledged_at"]


def alerts(store: Store, product: str | None = None, states: Iterable[str] | None = None,
           *, at: datetime | None = None) -> pd.DataFrame:
    """Alert instances, newest change first. `silenced`: an active silence (at `at`, default
    now) matches it; `backlog_key`: its newest item in dspo's own backlog, if any."""
    stored = [c for c in ALERT_COLUMNS if c not in ("product", "silenced", "backlog_key")]
    stmt = select(*(getattr(A, c) for c in stored[:2]), P.key,
                  *(getattr(A, c) for c in stored[2:])).join(P, P.id == A.product_id)
    if product is not None:
        stmt = stmt.where(P.key == product)
    if states is not None:
        stmt = stmt.where(A.state.in_(list(states)))
    with store.session() as session:
        rows = session.execute(stmt.order_by(A.state_since.desc(), A.id)).all()
        silences = active_silences(session, at or datetime.now(UTC), product)
        keys = dict(session.execute(
            select(T.fingerprint, T.key).where(T.sink == NATIVE).order_by(T.opened_at, T.id)
        ).tuples().all())
    columns = ALERT_COLUMNS[:-2]
    df = frame(rows, columns, ALERT_TIMES, {"last_value": "float64"})
    df["labels"] = [dict(x or {}) for x in df["labels"]]
    df["silenced"] = [_silenced(silences, p, r, lab)
                      for p, r, lab in zip(df["product"], df["rule"], df["labels"], strict=True)]
    df["silenced"] = df["silenced"].astype(bool)
    df["backlog_key"] = [keys.get(fp) for fp in df["fingerprint"]]
    return df


def _silenced(silences: list[SilenceRow], product: str, rule: str,
              labels: dict[str, str]) -> bool:
    return any(x.product == product and silence_matches(x, rule, labels) for x in silences)


EVENT_COLUMNS = ["fingerprint", "rule", "product", "ts", "from_state", "to_state", "value",
                 "note"]


def alert_events(store: Store, fingerprint: str | None = None, product: str | None = None,
                 newest: int | None = None) -> pd.DataFrame:
    """Every transition (and acknowledgement) of alerts, oldest first; with `newest`, only
    that many of the latest, newest first (limited in SQL: a page never reads a product's
    whole alert history)."""
    stmt = (select(A.fingerprint, A.rule, P.key, E.ts, E.from_state, E.to_state, E.value, E.note)
            .select_from(E).join(A, A.id == E.alert_id).join(P, P.id == A.product_id))
    if fingerprint is not None:
        stmt = stmt.where(A.fingerprint == fingerprint)
    if product is not None:
        stmt = stmt.where(P.key == product)
    if newest is None:
        stmt = stmt.order_by(E.ts, E.id)
    else:
        stmt = stmt.order_by(E.ts.desc(), E.id.desc()).limit(newest)
    return read(store, stmt, EVENT_COLUMNS, ["ts"], {"value": "float64"})


INCIDENT_COLUMNS = ["fingerprint", "rule", "started", "resolved"]


def alert_incidents(store: Store, product: str) -> pd.DataFrame:
    """One row per firing episode: when it fired, when it resolved (NaT while open). The
    `alerts` input of `kpis.dora` (change failure rate, time to restore)."""
    events = alert_events(store, product=product)
    rows: list[tuple[str, str, object, object]] = []
    open_: dict[str, int] = {}
    for fp, rule, ts, to_state in zip(events["fingerprint"], events["rule"], events["ts"],
                                      events["to_state"], strict=True):
        if to_state == "firing" and fp not in open_:
            open_[fp] = len(rows)
            rows.append((fp, rule, ts, None))
        elif to_state == "normal" and fp in open_:
            i = open_.pop(fp)
            rows[i] = (*rows[i][:3], ts)
    return frame(rows, INCIDENT_COLUMNS, ["started", "resolved"])


SILENCE_COLUMNS = ["id", "product", "rule", "matchers", "starts_at", "ends_at", "reason",
                   "created_by", "created_at"]


def silences(store: Store, product: str | None = None, active_at: datetime | None = None
             ) -> pd.DataFrame:
    """Silences, newest first; with `active_at`, only those active then."""
    S = s.Silence
    stmt = select(S.id, P.key, S.rule, S.matchers, S.starts_at, S.ends_at, S.reason,
                  S.created_by, S.created_at).join(P, P.id == S.product_id)
    if product is not None:
        stmt = stmt.where(P.key == product)
    if active_at is not None:
        stmt = stmt.where(S.starts_at <= active_at, S.ends_at > active_at)
    df = read(store, stmt.order_by(S.created_at.desc(), S.id.desc()), SILENCE_COLUMNS,
              ["starts_at", "ends_at", "created_at"], {"id": "int64"})
    df["matchers"] = [dict(x or {}) for x in df["matchers"]]
    return df


OUTBOX_COLUMNS = ["id", "fingerprint", "rule", "product", "sink", "action", "payload",
                  "created_at", "attempts", "last_error", "delivered_at", "state",
                  "next_attempt_at", "last_attempt_at", "discarded_at", "discarded_by"]
OUTBOX_TIMES = ["created_at", "delivered_at", "next_attempt_at", "last_attempt_at",
                "discarded_at"]
OPEN_OUTBOX_STATES = ("pending", "dead")


def outbox(store: Store, pending_only: bool = True, product: str | None = None
           ) -> pd.DataFrame:
    """Outbox rows, oldest first, with the rule and product of their alert; by default only
    those still to deliver (pending, and dead ones waiting for a PO to retry or discard)."""
    Ob = s.Outbox
    columns = [P.key if c == "product" else A.rule if c == "rule" else getattr(Ob, c)
               for c in OUTBOX_COLUMNS]
    stmt = (select(*columns).select_from(Ob)
            .outerjoin(A, A.fingerprint == Ob.fingerprint)
            .outerjoin(P, P.id == A.product_id))
    if pending_only:
        stmt = stmt.where(Ob.state.in_(OPEN_OUTBOX_STATES))
    if product is not None:
        stmt = stmt.where(P.key == product)
    return read(store, stmt.order_by(Ob.id), OUTBOX_COLUMNS, OUTBOX_TIMES,
                {"id": "int64", "attempts": "int64"})


TICKET_COLUMNS = ["fingerprint", "sink", "key", "url", "closed", "resolution", "opened_at",
                  "closed_at"]


def alert_tickets(store: Store, fingerprint: str | None = None) -> pd.DataFrame:
    """The tickets alerts have in each sink, as dspo last saw them, oldest first."""
    stmt = select(*(getattr(T, c) for c in TICKET_COLUMNS))
    if fingerprint is not None:
        stmt = stmt.where(T.fingerprint == fingerprint)
    df = read(store, stmt.order_by(T.opened_at, T.id), TICKET_COLUMNS,
              ["opened_at", "closed_at"])
    df["closed"] = df["closed"].astype(bool)
    return df


COMMENT_COLUMNS = ["item_key", "ts", "author", "text"]


def item_comments(store: Store, product: str, key: str | None = None) -> pd.DataFrame:
    """Comments on the product's items (dspo's own alert items have them), oldest first."""
    B, C = s.BacklogItem, s.ItemComment
    stmt = (select(B.key, C.ts, C.author, C.text).select_from(C).join(B, B.id == C.item_id)
            .join(P, P.id == B.product_id).where(P.key == product))
    if key is not None:
        stmt = stmt.where(B.key == key)
    return read(store, stmt.order_by(C.ts, C.id), COMMENT_COLUMNS, ["ts"])
