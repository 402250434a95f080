"""Users, sign-in attempts, share links and dspo's own secrets: the store side of access.

Hashing, sessions and the rules of who may see what live in `dashboard.auth`; this module
only keeps rows. A change that must end someone's sessions (a new password, another role,
fewer products) bumps the user's `session_version`, which every session carries.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store import schema as s
from store.upsert import table

ROLES = s.ROLES


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    role: str
    products: tuple[str, ...]  # the products a PO looks after; empty: every product
    password_hash: str | None
    origin: str
    disabled: bool
    session_version: int
    created_at: datetime

    @property
    def shown(self) -> str:
        return self.display_name or self.username


class UserError(ValueError):
    """A user operation that cannot be done as asked; the message says why."""


def _row(r: s.User) -> UserRow:
    return UserRow(r.id, r.username, r.display_name, r.role, tuple(r.products or ()),
                   r.password_hash, r.origin, r.disabled, r.session_version, r.created_at)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r} (known: {', '.join(ROLES)})")


def add_user(session: Session, *, username: str, role: str, password_hash: str | None,
             now: datetime, products: Sequence[str] = (), display_name: str = "",
             origin: str = "local") -> UserRow:
    _check_role(role)
    if not username or username != username.strip():
        raise UserError("a username must be non-empty, without surrounding spaces")
    if find_user(session, username) is not None:
        raise UserError(f"user {username!r} exists already")
    user = s.User(username=username, display_name=display_name, password_hash=password_hash,
                  role=role, products=list(products), origin=origin, disabled=False,
                  session_version=1, created_at=now)
    session.add(user)
    session.flush()
    return _row(user)


def find_user(session: Session, username: str) -> UserRow | None:
    found = session.execute(select(s.User).where(s.User.username == username)).scalar()
    return None if found is None else _row(found)


def user_by_id(session: Session, user_id: int) -> UserRow | None:
    found = session.get(s.User, user_id)
    return None if found is None else _row(found)


def list_users(session: Session) -> list[UserRow]:
    return [_row(u) for u in session.execute(select(s.User).order_by(s.User.username)).scalars()]


def _existing(session: Session, username: str) -> s.User:
    found = session.execute(select(s.User).where(s.User.username == username)).scalar()
    if found is None:
        raise UserError(f"no user {username!r}")
    return found


def set_role(session: Session, username: str, role: str,
             products: Sequence[str] | None = None) -> UserRow:
    """Change the role (and, given, the products); the user's sessions end."""
    _check_role(role)
    user = _existing(session, username)
    user.role = role
    if products is not None:
        user.products = list(products)
    user.session_version += 1
    return _row(user)


def set_password(session: Session, username: str, password_hash: str) -> UserRow:
    """A new password hash; every session of the user signed before ends."""
    user = _existing(session, username)
    user.password_hash = password_hash
    user.session_version += 1
    return _row(user)


def remove_user(session: Session, username: str) -> None:
    session.delete(_existing(session, username))


def sync_oidc_user(session: Session, *, username: str, role: str,
                   products: Sequence[str] | None, display_name: str, now: datetime
                   ) -> UserRow:
    """Create or update a user who signed in through single sign-on (origin "oidc", no
    password), as the identity provider describes them now.

    A changed role or set of products ends the user's other sessions (`session_version`);
    `products` None keeps the stored ones. A local user of that name is never taken over
    and a disabled user stays out: both raise UserError.
    """
    _check_role(role)
    found = session.execute(select(s.User).where(s.User.username == username)).scalar()
    if found is None:
        return add_user(session, username=username, role=role, password_hash=None, now=now,
                        products=products or (), display_name=display_name, origin="oidc")
    if found.origin != "oidc":
        raise UserError(f"{username!r} is a local user of dspo; single sign-on does not "
                        "take it over")
    if found.disabled:
        raise UserError(f"user {username!r} is disabled")
    kept = list(found.products or ())
    wanted = kept if products is None else list(products)
    if found.role != role or sorted(wanted) != sorted(kept):
        found.role, found.products = role, wanted
        found.session_version += 1
    if display_name:
        found.display_name = display_name
    session.flush()
    return _row(found)


def end_sessions(session: Session, username: str) -> None:
    """Every session of the user ends (its role no longer holds, say), the row stays."""
    _existing(session, username).session_version += 1


def count_admins(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(s.User).where(
        s.User.role == "admin", s.User.disabled.is_(False))).scalar_one())


# ------------------------------------------------------------ sign-in attempts


def record_attempt(session: Session, *, username: str, address: str, at: datetime,
                   ok: bool) -> None:
    session.add(s.SignInAttempt(username=username, address=address, at=at, ok=ok))


def recent_failures(session: Session, *, since: datetime, username: str | None = None,
                    address: str | None = None) -> list[datetime]:
    """Failed attempts since `since` (of a username, or from an address) after the last
    success of that username or address, oldest first."""
    A = s.SignInAttempt
    who = A.username == username if username is not None else A.address == address
    last_ok = session.execute(select(func.max(A.at)).where(who, A.ok.is_(True),
                                                           A.at >= since)).scalar()
    start = max(since, last_ok) if last_ok is not None else since
    rows = session.execute(select(A.at).where(who, A.ok.is_(False), A.at >= start)
                           .order_by(A.at)).scalars()
    return list(rows)


# ------------------------------------------------------------ share links


@dataclass(frozen=True)
class ShareRow:
    link_id: str
    page: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None


def _share(r: s.ShareLink) -> ShareRow:
    return ShareRow(r.link_id, r.page, r.created_by, r.created_at, r.expires_at,
                    r.revoked_at, r.revoked_by)


def add_share_link(session: Session, *, page: str, created_by: str, now: datetime,
                   expires_at: datetime) -> ShareRow:
    link = s.ShareLink(link_id=secrets.token_urlsafe(12), page=page, created_by=created_by,
                       created_at=now, expires_at=expires_at)
    session.add(link)
    session.flush()
    return _share(link)


def share_link(session: Session, link_id: str) -> ShareRow | None:
    found = session.execute(select(s.ShareLink).where(s.ShareLink.link_id == link_id)).scalar()
    return None if found is None else _share(found)


def share_links(session: Session, page: str | None = None) -> list[ShareRow]:
    stmt = select(s.ShareLink).order_by(s.ShareLink.created_at.desc())
    if page is not None:
        stmt = stmt.where(s.ShareLink.page == page)
    return [_share(r) for r in session.execute(stmt.limit(200)).scalars()]


def revoke_share_link(session: Session, link_id: str, *, by: str, at: datetime) -> bool:
    link = table(s.ShareLink)
    done = session.execute(sql_update(link).where(link.c.link_id == link_id,
                                                  link.c.revoked_at.is_(None))
                           .values(revoked_at=at, revoked_by=by))
    return bool(getattr(done, "rowcount", 0))


# ------------------------------------------------------------ dspo's own secrets


def app_secret(session: Session, name: str, now: datetime) -> str:
    """The secret called `name`, made (random, 64 bytes) the first time it is asked for.

    Two workers asking at once both insert-or-ignore, then read the one that won, so every
    worker signs sessions with the same key.
    """
    secret = table(s.AppSecret)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(secret).values(name=name, value=secrets.token_urlsafe(64),
                                          created_at=now)
                    .on_conflict_do_nothing(index_elements=["name"]))
    return str(session.execute(select(secret.c.value).where(secret.c.name == name)).scalar_one())
