"""What the Admin page shows: the users and a page of the audit log (bounded in SQL)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from store.audit import audit_events
from store.db import Store
from store.people import UserRow, list_users

AUDIT_PAGE = 100


@dataclass(frozen=True)
class AdminView:
    users: list[UserRow]
    events: pd.DataFrame  # newest first, AUDIT_PAGE of them from `offset`
    offset: int

    @property
    def has_more(self) -> bool:
        return len(self.events) == AUDIT_PAGE


def build_admin(store: Store, *, offset: int = 0) -> AdminView:
    with store.session() as s:
        users = list_users(s)
    return AdminView(users, audit_events(store, limit=AUDIT_PAGE, offset=max(0, offset)),
                     max(0, offset))
