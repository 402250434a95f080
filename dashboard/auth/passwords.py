"""Password hashes (argon2id, argon2-cffi's defaults) and the passwords dspo makes itself.

A hash made with older parameters is upgraded on the next successful sign-in; a wrong
password and a malformed hash both simply fail to verify.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
MIN_LENGTH = 12


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def new_password() -> str:
    """A random password to hand out once (demo users, resets): 20 URL-safe characters."""
    return secrets.token_urlsafe(15)
