"""Single sign-on through OpenID Connect: the authorization code flow with PKCE, through
authlib's Flask client, with dspo's own checks around it.

- `GET /auth/oidc/login` sends the browser to the provider with a fresh `state` and
  `nonce` and an S256 code challenge (OpenID Connect Core 1.0 §3.1.2.1, RFC 7636), kept in
  the signed session cookie, so any worker can finish the sign-in.
- `GET /auth/oidc/callback` exchanges the code (Core §3.1.3) and validates the ID token
  (Core §3.1.3.7): its signature against the provider's JWKS, `iss`, `aud`, `exp` and
  the `nonce`. Then the claims become a user (`claims.py`, `store.people.sync_oidc_user`)
  and a session starts, as after a password sign-in.

The provider's settings are discovered on the first sign-in of each worker (Discovery 1.0
§4), not at start: a provider that is down must not keep the dashboard or password
sign-in from working. Every call to it has a connect and a read timeout; when it fails,
the sign-in page says what happened and names the issuer, and no secret (client secret,
code, tokens) reaches a page or the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import flask
import requests
from authlib.integrations.base_client.errors import MismatchingStateError
from authlib.integrations.flask_client import OAuth, OAuthError
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from markupsafe import Markup

from config.auth import OidcConfig
from dashboard.auth.claims import Grant, Refused, grant_for, username_of
from dashboard.auth.principal import start_user_session
from dashboard.auth.routes import local_target, sign_in_page
from store import audit
from store.db import Store
from store.people import UserError, end_sessions, find_user, sync_oidc_user

log = logging.getLogger(__name__)

CLIENT_NAME = "dspo_oidc"
NEXT_KEY = "oidc_next"
CALLBACK_PATH = "/auth/oidc/callback"
LEEWAY_SECONDS = 60  # clock skew allowed on exp, iat and nbf
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                      "ES256", "ES384", "ES512", "EdDSA")
"""Asymmetric only: an ID token dspo accepts is signed with a key the provider publishes
in its JWKS, never with a shared secret (and never `none`)."""
METADATA_KEYS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
                 "userinfo_endpoint")


class SignInFailed(Exception):
    """The sign-in cannot go on; `message` is safe to show and to log."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _utcnow() -> datetime:
    return datetime.now(UTC)


def register_oidc(server: flask.Flask, store: Store, settings: OidcConfig, *, title: str,
                  csrf_field: Callable[[], Markup], products: Collection[str],
                  base_url: str | None, clock: Callable[[], datetime] = _utcnow) -> None:
    """The two routes of single sign-on on `server` (the guard lets /auth/ through)."""
    provider = Provider(server, settings)

    def refuse(failure: SignInFailed, target: str = "/") -> flask.Response:
        log.warning("single sign-on through %s failed: %s", settings.issuer, failure.message)
        return sign_in_page(title, csrf_field(), target, failure.message, failure.status,
                            sso_label=settings.label)

    @server.get("/auth/oidc/login")
    def oidc_login() -> flask.Response:
        target = local_target(flask.request.args.get("next", "/"))
        try:
            with talking_to(settings):
                answer = provider.client().authorize_redirect(_callback_url(base_url))
        except SignInFailed as failure:
            return refuse(failure, target)
        flask.session[NEXT_KEY] = target
        return answer  # type: ignore[no-any-return]

    @server.get(CALLBACK_PATH)
    def oidc_callback() -> flask.Response:
        target = local_target(str(flask.session.pop(NEXT_KEY, "/")))
        address = flask.request.remote_addr or "unknown"
        try:
            claims = provider.validated_claims()
            user_id, version = _sign_in(store, settings, claims, products, clock(), address)
        except SignInFailed as failure:
            return refuse(failure, target)
        start_user_session(user_id, version, clock())
        return flask.redirect(target)  # type: ignore[return-value]


class Provider:
    """The identity provider of one worker: discovered on first use, then kept (authlib
    fetches the JWKS again when a token names a key it does not know: key rotation)."""

    def __init__(self, server: flask.Flask, settings: OidcConfig) -> None:
        self._oauth = OAuth(server)
        self._settings = settings
        self._client: FlaskOAuth2App | None = None

    def client(self) -> FlaskOAuth2App:
        if self._client is None:
            settings = self._settings
            metadata = discover(settings)
            timeout = (settings.connect_timeout.total_seconds(),
                       settings.read_timeout.total_seconds())
            self._client = self._oauth.register(
                CLIENT_NAME,
                client_id=settings.client_id,
                client_secret=settings.client_secret.get_secret_value(),
                client_kwargs={"scope": " ".join(settings.scopes),
                               "code_challenge_method": "S256",
                               "token_endpoint_auth_method": "client_secret_basic",
                               "default_timeout": timeout},
                **metadata,
            )
        return self._client

    def validated_claims(self) -> dict[str, Any]:
        """The claims of the callback's ID token, validated (Core §3.1.3.7): state, then
        the code exchanged with the PKCE verifier, then signature, iss, aud, exp, nonce."""
        settings = self._settings
        with talking_to(settings):
            client = self.client()
            options = {"iss": {"essential": True, "value": client.server_metadata["issuer"]},
                       "aud": {"essential": True, "value": settings.client_id},
                       "exp": {"essential": True}}
            token = client.authorize_access_token(claims_options=options,
                                                  leeway=LEEWAY_SECONDS)
        claims = token.get("userinfo") if isinstance(token, dict) else None
        if not claims:
            raise SignInFailed(f"The identity provider at {settings.issuer} sent no ID "
                               "token; nobody was signed in.", 502)
        return dict(claims)


def discover(settings: OidcConfig) -> dict[str, Any]:
    """The provider's metadata (Discovery 1.0 §3) with its JWKS, checked: the issuer it
    names is the configured one (§4.3), the endpoints are there, the keys parse, and it
    signs ID tokens with an algorithm dspo accepts."""
    issuer = settings.issuer
    doc = _get_json(settings.discovery_url, settings)
    if not isinstance(doc, dict):
        raise _not_oidc(settings, "its discovery document is not a JSON object")
    named = doc.get("issuer")
    if not isinstance(named, str) or named.rstrip("/") != issuer.rstrip("/"):
        raise SignInFailed(f"The identity provider at {issuer} names its issuer "
                           f"{str(named)[:200]!r} in its discovery document: set "
                           "dashboard.oidc.issuer to the provider's own issuer.", 502)
    missing = [k for k in METADATA_KEYS[1:4] if not isinstance(doc.get(k), str)]
    if missing:
        raise _not_oidc(settings, f"its discovery document has no {', '.join(missing)}")
    algorithms = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
    accepted = [a for a in algorithms if a in SIGNING_ALGORITHMS] \
        if isinstance(algorithms, list) else []
    if not accepted:
        raise _not_oidc(settings, "it signs ID tokens with none of "
                        f"{', '.join(SIGNING_ALGORITHMS)}")
    jwks = _get_json(doc["jwks_uri"], settings)
    KeySet.import_key_set(jwks)  # garbage raises here, inside talking_to
    metadata = {k: doc[k] for k in METADATA_KEYS if isinstance(doc.get(k), str)}
    return {**metadata, "jwks": jwks, "id_token_signing_alg_values_supported": accepted}


def _get_json(url: str, settings: OidcConfig) -> Any:
    timeout = (settings.connect_timeout.total_seconds(), settings.read_timeout.total_seconds())
    answer = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
    answer.raise_for_status()
    return answer.json()


def _not_oidc(settings: OidcConfig, why: str) -> SignInFailed:
    return SignInFailed(f"The identity provider at {settings.issuer} does not answer as an "
                        f"OpenID Connect provider: {why}.", 502)


@contextmanager
def talking_to(settings: OidcConfig) -> Iterator[None]:
    """Every way a call to the provider fails, as a SignInFailed that names the issuer and
    says what to do, never with the exception's own text (it may carry a URL with a code)."""
    issuer = settings.issuer
    try:
        yield
    except MismatchingStateError as e:
        raise SignInFailed("This sign-in did not start in this browser, took too long or "
                           "was already used: start it again.", 400) from e
    except OAuthError as e:
        raise SignInFailed(f"The identity provider at {issuer} refused the sign-in "
                           f"({str(e.error)[:80]}).", 403) from e
    except JoseError as e:
        raise SignInFailed(f"The ID token from {issuer} is not valid for dspo ({e.error}: "
                           f"{str(e.description)[:120]}); nobody was signed in.", 403) from e
    except requests.JSONDecodeError as e:
        raise _not_oidc(settings, "it answered something that is not JSON") from e
    except requests.Timeout as e:
        raise SignInFailed(f"The identity provider at {issuer} did not answer in time "
                           f"(connect {settings.connect_timeout.total_seconds():g} s, read "
                           f"{settings.read_timeout.total_seconds():g} s).", 504) from e
    except requests.ConnectionError as e:
        raise SignInFailed(f"Cannot reach the identity provider at {issuer}; password "
                           "sign-in still works.", 502) from e
    except requests.HTTPError as e:
        status = e.response.status_code if e.response is not None else "an error"
        raise SignInFailed(f"The identity provider at {issuer} answered HTTP {status}.",
                           502) from e
    except requests.RequestException as e:
        raise SignInFailed(f"Cannot talk to the identity provider at {issuer}.", 502) from e
    except (ValueError, TypeError, KeyError) as e:
        raise _not_oidc(settings, "its answer could not be read") from e


def _sign_in(store: Store, settings: OidcConfig, claims: dict[str, Any],
             products: Collection[str], now: datetime, address: str) -> tuple[int, int]:
    """The user the claims describe, created or updated, with the audit event; (user id,
    session version) for the new session."""
    try:
        grant = grant_for(claims, settings, products)
    except Refused as refused:
        _ended(store, claims, settings, str(refused), now, address)
        raise SignInFailed(str(refused), 403) from refused
    try:
        with store.session() as s:
            user = sync_oidc_user(s, username=grant.username, role=grant.role,
                                  products=grant.products, display_name=grant.display_name,
                                  now=now)
            audit.record(s, actor=user.username, action="sign-in (oidc)", at=now,
                         address=address, detail=_detail(grant, settings))
    except UserError as e:
        _record_refusal(store, grant.username, str(e), settings, now, address)
        raise SignInFailed(f"{e}: sign in with your password, or ask an admin.", 403) from e
    log.info("signed in through single sign-on: %s as %s", user.username, user.role)
    return user.id, user.session_version


def _ended(store: Store, claims: dict[str, Any], settings: OidcConfig, reason: str,
           now: datetime, address: str) -> None:
    """A single sign-on user whose claims no longer grant a role: their sessions end.
    Someone dspo never saw leaves nothing behind."""
    try:
        username = username_of(claims, settings)
    except Refused:
        return
    with store.session() as s:
        user = find_user(s, username)
        if user is None or user.origin != "oidc":
            return
        end_sessions(s, username)
        audit.record(s, actor=username, action="sign-in refused (oidc)", at=now,
                     address=address, detail={"reason": reason, "issuer": settings.issuer})


def _record_refusal(store: Store, username: str, reason: str, settings: OidcConfig,
                    now: datetime, address: str) -> None:
    """A refused takeover of a local (or disabled) user is worth an admin's eye."""
    with store.session() as s:
        audit.record(s, actor=f"{username} (oidc)", action="sign-in refused (oidc)", at=now,
                     address=address, detail={"reason": reason, "issuer": settings.issuer})


def _detail(grant: Grant, settings: OidcConfig) -> dict[str, Any]:
    return {"role": grant.role, "matched": list(grant.matched), "issuer": settings.issuer,
            "products": None if grant.products is None else list(grant.products)}


def _callback_url(base_url: str | None) -> str:
    """Where the provider sends the browser back: under the public base_url when set
    (behind a proxy the request's own host may be an internal one)."""
    if base_url:
        return base_url.rstrip("/") + CALLBACK_PATH
    return flask.url_for("oidc_callback", _external=True)
