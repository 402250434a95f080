"""The audit log: who did what, when, to what. Every state-changing action writes one row
in the same transaction as the change, so the log never claims a change that rolled back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from store import schema as s
from store.db import Store
from store.frames import read

AUDIT_COLUMNS = ["at", "actor", "action", "target", "detail", "address"]


def record(session: Session, *, actor: str, action: str, at: datetime, target: str = "",
           detail: Mapping[str, Any] | None = None, address: str | None = None) -> None:
    session.add(s.AuditEvent(at=at, actor=actor, action=action, target=target,
                             detail=dict(detail or {}), address=address))


def audit_events(store: Store, *, limit: int = 200, offset: int = 0,
                 actor: str | None = None) -> pd.DataFrame:
    """The newest events first, a page of `limit` at a time."""
    A = s.AuditEvent
    stmt = select(A.at, A.actor, A.action, A.target, A.detail, A.address)
    if actor is not None:
        stmt = stmt.where(A.actor == actor)
    stmt = stmt.order_by(A.at.desc(), A.id.desc()).limit(limit).offset(offset)
    return read(store, stmt, AUDIT_COLUMNS, times=["at"])
