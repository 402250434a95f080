"""A fake OpenID Connect provider on 127.0.0.1: a real HTTP server with the four endpoints
an authorization code sign-in touches, and knobs to make it misbehave.

Shapes, from the specifications:

- `GET /.well-known/openid-configuration`: the provider metadata of OpenID Connect
  Discovery 1.0 §3 (issuer, authorization_endpoint, token_endpoint, jwks_uri,
  response_types_supported, subject_types_supported,
  id_token_signing_alg_values_supported are REQUIRED), served at the path of §4.
  https://openid.net/specs/openid-connect-discovery-1_0.html
- `GET /jwks`: a JWK Set (RFC 7517 §5) holding the public half of an RSA key made at
  start (RFC 7518 §6.3.1: kty RSA, n, e), with its kid, use sig and alg RS256.
- `GET /authorize`: the Authentication Request of OpenID Connect Core 1.0 §3.1.2.1
  (response_type=code, client_id, redirect_uri, scope with openid, state, nonce) with a
  PKCE challenge (RFC 7636 §4.3, method S256). No login form: the test user in `user`
  signs in at once, and the browser goes back with the Successful Authentication Response
  of Core §3.1.2.5 (`code`, `state`), or the error response of §3.1.2.6
  (`error=access_denied`) when `user` is None.
  https://openid.net/specs/openid-connect-core-1_0.html
- `POST /token`: the Token Request of Core §3.1.3.1 (grant_type=authorization_code, code,
  redirect_uri, form-encoded) with client_secret_basic authentication (Core §9, RFC 6749
  §2.3.1) and the PKCE code_verifier (RFC 7636 §4.5, checked as in §4.6); the Successful
  Token Response of Core §3.1.3.3 (access_token, token_type Bearer, expires_in, id_token)
  or an error of RFC 6749 §5.2 (`invalid_client`, `invalid_grant`). The ID token is a JWS
  signed RS256 (Core §2 claims: iss, sub, aud, exp, iat, auth_time, nonce, plus the
  user's claims).

Knobs: `user` (the claims of who signs in), `id_token_changes` (claims to override in the
next ID tokens: a wrong aud, an old exp, another nonce), `forge_signature` (sign with a
key the JWKS does not hold, under the published kid), `discovery_changes`, and the
`fail_next`/`stall` of `FakeServer`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

from fake_http import FakeServer, Recorded, Reply
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "dspo-dashboard"
CLIENT_SECRET = "fake-client-secret-6f1c2d9e8b7a"
KEY_ID = "fake-key-1"


def _rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"},
                               private=True)


@dataclass(frozen=True)
class _Code:
    """What an authorization code stands for until it is exchanged (once)."""

    claims: dict[str, Any]
    nonce: str
    challenge: str
    redirect_uri: str


class FakeOidcProvider(FakeServer):
    def __init__(self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> None:
        super().__init__()
        self.client_id, self.client_secret = client_id, client_secret
        self.key = _rsa_key()
        self.user: dict[str, Any] | None = None
        self.id_token_changes: dict[str, Any] = {}
        self.discovery_changes: dict[str, Any] = {}
        self.forge_signature = False
        self.issued: list[dict[str, Any]] = []  # every token response, to look for leaks
        self._codes: dict[str, _Code] = {}
        self.route("GET", re.escape("/.well-known/openid-configuration"), self.discovery)
        self.route("GET", "/jwks", self.jwks)
        self.route("GET", "/authorize", self.authorize)
        self.route("POST", "/token", self.token)

    @property
    def issuer(self) -> str:
        return self.url

    def discovery(self, request: Recorded, match: re.Match[str]) -> Reply:
        return Reply(200, {
            "issuer": self.issuer,
            "authorization_endpoint": self.url + "/authorize",
            "token_endpoint": self.url + "/token",
            "jwks_uri": self.url + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "groups"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name",
                                 "preferred_username", "email", "groups"],
            **self.discovery_changes,
        })

    def jwks(self, request: Recorded, match: re.Match[str]) -> Reply:
        return Reply(200, {"keys": [self.key.as_dict(private=False)]})

    def authorize(self, request: Recorded, match: re.Match[str]) -> Reply:
        q = {k: v[0] for k, v in request.query.items()}
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or not redirect_uri.startswith("http"):
            return Reply(400, "unknown client or redirect_uri", content_type="text/plain")
        back: dict[str, str] = {"state": q.get("state", "")}
        problem = self._refusal(q)
        if problem:
            back["error"] = problem
        else:
            code = secrets.token_urlsafe(16)
            assert self.user is not None
            self._codes[code] = _Code(dict(self.user), q.get("nonce", ""),
                                      q["code_challenge"], redirect_uri)
            back["code"] = code
        return Reply(302, None, headers={"Location": f"{redirect_uri}?{urlencode(back)}"})

    def _refusal(self, q: dict[str, str]) -> str | None:
        """The error code of Core §3.1.2.6 this request earns, None when it is good."""
        if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
            return "invalid_request"
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return "invalid_request"  # this provider insists on PKCE, as OAuth 2.1 does
        if self.user is None:
            return "access_denied"
        return None

    def token(self, request: Recorded, match: re.Match[str]) -> Reply:
        form = {k: v[0] for k, v in parse_qs(str(request.body or "")).items()}
        if not self._client_authenticated(request.headers.get("authorization", "")):
            return Reply(401, {"error": "invalid_client"},
                         headers={"WWW-Authenticate": 'Basic realm="fake"'})
        grant = self._codes.pop(form.get("code", ""), None)
        if (form.get("grant_type") != "authorization_code" or grant is None
                or form.get("redirect_uri") != grant.redirect_uri
                or _s256(form.get("code_verifier", "")) != grant.challenge):
            return Reply(400, {"error": "invalid_grant"})
        access_token = secrets.token_urlsafe(24)
        answer = {"access_token": access_token, "token_type": "Bearer", "expires_in": 300,
                  "id_token": self.id_token(grant.claims, grant.nonce)}
        self.issued.append(answer)
        return Reply(200, answer, headers={"Cache-Control": "no-store"})

    def _client_authenticated(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return unquote(user) == self.client_id and unquote(password) == self.client_secret

    def id_token(self, user: dict[str, Any], nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "exp": now + 300, "iat": now,
                  "auth_time": now, "nonce": nonce, **user, **self.id_token_changes}
        key = _rsa_key() if self.forge_signature else self.key
        return jwt.encode({"alg": "RS256", "kid": KEY_ID, "typ": "JWT"}, claims, key)


def _s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))), without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
