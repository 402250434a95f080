"""Who is asking: the principal of the current request, read from its signed session.

A session cookie names a user (by id, with the user's `session_version` at sign-in) or a
share link (by its id). Both are checked against the store on every request, so removing
a user, changing a role or password, or revoking a link takes effect at once, on every
worker, without any session table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import flask

from store.db import Store
from store.people import find_user, share_link, user_by_id

SESSION_USER, SESSION_VERSION, SESSION_AT, SESSION_SHARE = "uid", "v", "at", "share"


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "share", "anonymous"]
    username: str | None = None
    role: str | None = None
    products: tuple[str, ...] = ()  # a PO's products; empty: every product
    share_page: str | None = None  # the one page a share link opens
    shared_by: str | None = None
    share_until: datetime | None = None
    share_id: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.kind != "anonymous"

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        if self.kind == "share":
            return f"share link {self.share_id} (shared by {self.shared_by})"
        return self.username or "anonymous"

    def sees_product(self, key: str) -> bool:
        """POs and admins see their products; stakeholders and share links see products only
        through the pages published for them (checked per page, not here)."""
        if self.role == "admin":
            return True
        if self.role == "po":
            return not self.products or key in self.products
        return False


ANONYMOUS = Principal("anonymous")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def load_principal(store: Store, lifetime: timedelta, now: datetime | None = None
                   ) -> Principal:
    """The principal of flask.session, or ANONYMOUS when the session is missing, expired,
    or names a user or link that no longer allows it."""
    now = now or _utcnow()
    session = flask.session
    if SESSION_SHARE in session:
        return _share(store, str(session[SESSION_SHARE]), now)
    if SESSION_USER not in session:
        return ANONYMOUS
    at = session.get(SESSION_AT)
    if not isinstance(at, int | float) or now.timestamp() - at > lifetime.total_seconds():
        return ANONYMOUS
    with store.session() as s:
        user = user_by_id(s, int(session[SESSION_USER]))
    if user is None or user.disabled or user.session_version != session.get(SESSION_VERSION):
        return ANONYMOUS
    return Principal("user", user.username, user.role, user.products)


def _share(store: Store, link_id: str, now: datetime) -> Principal:
    with store.session() as s:
        link = share_link(s, link_id)
    if link is None or link.revoked_at is not None or link.expires_at <= now:
        return ANONYMOUS
    return Principal("share", share_page=link.page, shared_by=link.created_by,
                     share_until=link.expires_at, share_id=link.link_id)


def start_user_session(user_id: int, session_version: int, now: datetime) -> None:
    """Sign in: a fresh session (no fixation: everything before is dropped)."""
    flask.session.clear()
    flask.session[SESSION_USER] = user_id
    flask.session[SESSION_VERSION] = session_version
    flask.session[SESSION_AT] = now.timestamp()
    flask.session.permanent = True


def start_share_session(link_id: str) -> None:
    flask.session.clear()
    flask.session[SESSION_SHARE] = link_id
    flask.session.permanent = True


def current() -> Principal:
    """The principal the guard attached to this request (ANONYMOUS outside one)."""
    found = flask.g.get("principal")
    return found if isinstance(found, Principal) else ANONYMOUS


def user_named(store: Store, username: str) -> Principal | None:
    """A user's principal without a session (the CLI acting as a named user)."""
    with store.session() as s:
        user = find_user(s, username)
    if user is None:
        return None
    return Principal("user", user.username, user.role, user.products)
