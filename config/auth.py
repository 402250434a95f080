"""Settings of single sign-on through OpenID Connect (`dashboard.oidc`).

Kept apart from `config/schema.py` so the sign-in settings read as one block; the
dashboard's `OidcConfig` is the only model here. Roles are spelled as the store spells
them (`store.schema.ROLES`), which config may not import.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from config.base import Duration, Strict

Role = Literal["admin", "po", "stakeholder"]
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class OidcConfig(Strict):
    issuer: str = Field(
        description="The identity provider's issuer URL, e.g. https://login.example.com/realms"
        "/acme; its settings are read from {issuer}/.well-known/openid-configuration. "
        "https, or http on 127.0.0.1/localhost only.",
    )
    client_id: str = Field(min_length=1, description="dspo's client id at the provider.")
    client_secret: SecretStr = Field(
        description="dspo's client secret at the provider (sent with HTTP basic auth to "
        "its token endpoint). From ${ENV}.",
    )
    scopes: list[str] = Field(
        default_factory=lambda: ["openid", "profile", "email"],
        description="Scopes asked for; must include openid. Add the one that puts "
        "role_claim in the ID token if your provider needs one (e.g. groups).",
    )
    username_claim: str = Field(
        default="preferred_username",
        description="ID token claim that names the dspo user; without it, email, then sub. "
        "Choose a claim your provider keeps unique and users cannot change.",
    )
    role_claim: str = Field(
        default="groups",
        description="ID token claim carrying the user's groups or roles: a string or a "
        "list of strings; a dotted path reads a nested claim (realm_access.roles).",
    )
    role_map: dict[str, Role] = Field(
        min_length=1,
        description="role_claim value -> admin, po or stakeholder. The highest mapped role "
        "wins; a user with no mapped value is refused and nothing is stored.",
    )
    products_claim: str | None = Field(
        default=None,
        description="ID token claim listing the product keys a PO looks after (a string or "
        "a list; keys dspo does not know are ignored). Omit to keep the products set with "
        "`dspo users set-role` (none set: every product). Set, a PO whose claim names no "
        "known product is refused.",
    )
    label: str = Field(
        default="single sign-on", min_length=1,
        description="Shown on the sign-in page's button: 'Sign in with <label>'.",
    )
    connect_timeout: Duration = Field(
        default=timedelta(seconds=5),
        description="Longest wait to open a connection to the provider, e.g. 5s.",
    )
    read_timeout: Duration = Field(
        default=timedelta(seconds=10),
        description="Longest wait for the next bytes of the provider's answer, e.g. 10s.",
    )

    @field_validator("issuer")
    @classmethod
    def _issuer_url(cls, value: str) -> str:
        """OpenID Connect Discovery 1.0 §2: an https URL without query or fragment; plain
        http would let anyone on the path forge the provider's keys, so it is allowed on
        this machine only (a provider for tests or development)."""
        parts = urlsplit(value)
        loopback = parts.hostname in LOOPBACK_HOSTS
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ValueError("must be an https URL (http only on 127.0.0.1 or localhost)")
        if not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be a URL with a host and without query or fragment")
        return value

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("must include openid (without it there is no ID token)")
        return value

    @model_validator(mode="after")
    def _positive_timeouts(self) -> OidcConfig:
        for key in ("connect_timeout", "read_timeout"):
            if getattr(self, key) <= timedelta(0):
                raise ValueError(f"{key} must be positive")
        return self

    @property
    def discovery_url(self) -> str:
        """OpenID Connect Discovery 1.0 §4: the issuer without its trailing slash, then
        /.well-known/openid-configuration."""
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"
