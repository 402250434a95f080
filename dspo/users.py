"""`dspo users ...` and the demo's users: who may sign in, with which role.

There is no default password: a user gets one when added or reset, printed once (or read
from stdin), and only its argon2 hash is kept. Every change is in the audit log under the
name of the operating-system user who ran the command.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dashboard.auth.passwords import hash_password, new_password
from store import audit
from store.db import Store
from store.people import (
    UserRow,
    add_user,
    find_user,
    list_users,
    remove_user,
    set_password,
    set_role,
)

DEMO_USERS = (("po", "po", "Ana Duarte (demo PO)"),
              ("stakeholder", "stakeholder", "Sam Lee (demo stakeholder)"))


@dataclass(frozen=True)
class Issued:
    """A user and the password just given to them (shown once)."""

    username: str
    role: str
    password: str


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no name for this uid (some containers)
        return "cli"


def _now() -> datetime:
    return datetime.now(UTC)


def add(store: Store, username: str, role: str, *, products: Sequence[str] = (),
        name: str = "", password: str | None = None) -> Issued:
    secret = password or new_password()
    with store.session() as s:
        add_user(s, username=username, role=role, password_hash=hash_password(secret),
                 now=_now(), products=products, display_name=name)
        audit.record(s, actor=_actor(), action="user-add", target=username, at=_now(),
                     detail={"role": role, "products": list(products)})
    return Issued(username, role, secret)


def remove(store: Store, username: str) -> None:
    with store.session() as s:
        remove_user(s, username)
        audit.record(s, actor=_actor(), action="user-remove", target=username, at=_now())


def change_role(store: Store, username: str, role: str,
                products: Sequence[str] | None = None) -> UserRow:
    with store.session() as s:
        user = set_role(s, username, role, products)
        audit.record(s, actor=_actor(), action="user-set-role", target=username, at=_now(),
                     detail={"role": role, "products": list(user.products)})
    return user


def reset_password(store: Store, username: str, password: str | None = None) -> Issued:
    secret = password or new_password()
    with store.session() as s:
        user = set_password(s, username, hash_password(secret))
        audit.record(s, actor=_actor(), action="user-reset-password", target=username,
                     at=_now())
    return Issued(username, user.role, secret)


def users(store: Store) -> list[UserRow]:
    with store.session() as s:
        return list_users(s)


def demo_users(store: Store) -> list[Issued]:
    """The demo's PO and stakeholder, with new passwords each time the demo starts (the old
    ones cannot be shown again: only their hashes are kept)."""
    issued = []
    for username, role, name in DEMO_USERS:
        with store.session() as s:
            exists = find_user(s, username) is not None
        issued.append(reset_password(store, username) if exists
                      else add(store, username, role, name=name))
    return issued
