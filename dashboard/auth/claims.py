"""What an identity provider's claims grant in dspo: a username, a role and products.

Pure: the claims of a validated ID token and the settings in, a `Grant` out, or `Refused`
with a message the person signing in can act on. The sign-in routes (`oidc.py`) store
the grant; nothing here touches the store or the network.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from config.auth import OidcConfig

RANK = {"stakeholder": 1, "po": 2, "admin": 3}
"""Which role wins when a user's groups map to several."""
FALLBACK_USERNAME_CLAIMS = ("email", "sub")


class Refused(Exception):
    """The claims grant nothing in dspo; the message says why, for the person signing in."""


@dataclass(frozen=True)
class Grant:
    username: str
    display_name: str
    role: str
    products: tuple[str, ...] | None  # None: products_claim not configured, keep stored
    matched: tuple[str, ...]  # the role_claim values that mapped, for the audit log


def claim_values(claims: Mapping[str, Any], name: str) -> list[str]:
    """A claim read as a list of strings: a string is one value, a list its string items,
    anything else none. A dotted name reads a nested claim (`realm_access.roles`) unless a
    claim of that exact name exists."""
    value: Any = claims.get(name)
    if value is None and "." in name:
        value = claims
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def username_of(claims: Mapping[str, Any], settings: OidcConfig) -> str:
    """The first non-empty of username_claim, email and sub (OpenID Connect Core §5.1)."""
    for name in (settings.username_claim, *FALLBACK_USERNAME_CLAIMS):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    raise Refused(f"The identity provider sent no {settings.username_claim}, email or sub "
                  "claim to name you by.")


def grant_for(claims: Mapping[str, Any], settings: OidcConfig,
              known_products: Collection[str]) -> Grant:
    """The role (the highest one the user's role_claim values map to) and products the
    claims grant; Refused when no value maps, or when a PO's products claim names no
    product this dspo knows (an empty list would mean every product)."""
    username = username_of(claims, settings)
    values = claim_values(claims, settings.role_claim)
    matched = tuple(v for v in values if v in settings.role_map)
    if not matched:
        raise Refused(f"Your account at the identity provider has no {settings.role_claim} "
                      "value that dspo maps to a role; ask an admin to add you to a group "
                      "mapped in dashboard.oidc.role_map.")
    role = max((settings.role_map[v] for v in matched), key=RANK.__getitem__)
    products: tuple[str, ...] | None = None
    if settings.products_claim is not None:
        listed = claim_values(claims, settings.products_claim)
        products = tuple(dict.fromkeys(p for p in listed if p in known_products))
        if role == "po" and not products:
            raise Refused(f"Your {settings.products_claim} claim names no product of this "
                          "dspo, so there is nothing for you to look after yet.")
    name = claims.get("name")
    display = name.strip() if isinstance(name, str) else ""
    return Grant(username, display, role, products, matched)
