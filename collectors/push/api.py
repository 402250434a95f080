"""The push API: HTTP routes that write what systems without a collector send.

`POST /api/v1/sources/<source>/<kind>` takes one JSON object or a list of them, checks the
caller holds that push source's token, validates the body against the same models the
published OpenAPI document is generated from, and writes the records through the
runner's path (`collectors.runner.write_pushed`): one transaction with a `collector_run`
row, so every push shows on the Sources page. Writes are upserts on the caller's ids, so
a retried call writes nothing twice.

A refused call of an authenticated caller (403, 413, 400, 422) is recorded as a failed run
of its source with the reason, so a PO sees that Jenkins' pushes stopped fitting; calls
without the right token are answered and forgotten. No answer or log line ever contains
a token.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, NoReturn

import flask
from pydantic import Field, TypeAdapter, ValidationError

from collectors.push.kinds import BY_PATH, KINDS, Kind
from collectors.push.models import MAX_BODY_BYTES, MAX_OBJECTS, Payload
from collectors.push.openapi import document_bytes
from collectors.runner import write_pushed
from config.sources import SourceBase
from config.sources.push import PushSource
from store.db import Store, StoreError

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
MAX_LISTED_ERRORS = 20
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MESSAGES = {  # pydantic's wording where a caller needs more to fix the payload
    "timezone_aware": "must carry a UTC offset or Z, e.g. 2026-03-02T09:15:00Z",
    "datetime_type": "must be an ISO 8601 time string with an offset, e.g. 2026-03-02T09:15:00Z",
    "string_pattern_mismatch": "must not contain a NUL character (\\u0000)",
}


class PushError(Exception):
    """An answer other than 200: the status, one line for the caller, and its details."""

    def __init__(self, status: int, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = list(errors)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


def _utcnow() -> datetime:
    return datetime.now(UTC)


def mount(
    server: flask.Flask, sources: Sequence[SourceBase], store: Store,
    *, clock: Callable[[], datetime] = _utcnow,
) -> None:
    """Serve the push API of the configured push sources on `server` (the dashboard's)."""
    server.register_blueprint(push_blueprint(sources, store, clock=clock))


def push_blueprint(
    sources: Sequence[SourceBase], store: Store, *, clock: Callable[[], datetime] = _utcnow,
) -> flask.Blueprint:
    """The routes, bound to the enabled push sources of the config and to the store."""
    pushers = {s.name: s for s in sources if isinstance(s, PushSource) and s.enabled}
    bp = flask.Blueprint("dspo_push_api", __name__, url_prefix=API_PREFIX)

    def push(source: str, path: str) -> flask.Response:
        settings = _authenticated(pushers, source)
        kind = BY_PATH[path]
        try:
            items = _accepted(settings, kind)
            records = kind.records(items, settings, store)
        except PushError as e:
            write_pushed(store, settings, [], clock=clock, rejected=f"{e.status}: {_one_line(e)}")
            raise
        result = write_pushed(store, settings, records, clock=clock)
        if not result.ok:
            raise PushError(503, "the store could not write this push (the failure is on the "
                            "Sources page); retry later")
        log.info("push to source %s: %d %s, %d rows written", source, len(items), kind.name,
                 result.rows)
        return flask.jsonify(rows_written=result.rows, records=len(items))

    for kind in KINDS:
        bp.add_url_rule(f"/sources/<source>/{kind.path}", f"push_{kind.name}",
                        _bound(push, kind.path), methods=["POST", "OPTIONS"],
                        provide_automatic_options=False)
    bp.add_url_rule("/openapi.json", "openapi", _openapi, methods=["GET"])
    bp.add_url_rule("/", "unknown_root", _unknown, defaults={"rest": ""}, methods=_ALL)
    bp.add_url_rule("/<path:rest>", "unknown", _unknown, methods=_ALL)
    bp.register_error_handler(PushError, _answer)
    bp.register_error_handler(StoreError, _store_down)
    return bp


_ALL = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _bound(push: Callable[[str, str], flask.Response], path: str) -> Callable[..., Any]:
    def view(source: str) -> flask.Response:
        if flask.request.method == "OPTIONS":  # only POST: not the catch-all's methods
            return flask.Response(status=204, headers={"Allow": "OPTIONS, POST"})
        return push(source, path)

    return view


# ------------------------------------------------------------ checks, in order


def _authenticated(pushers: dict[str, PushSource], name: str) -> PushSource:
    source = pushers.get(name)
    if source is None:
        raise PushError(404, f"no enabled push source named {name!r} (a source with kind: "
                        "push in dspo's config)")
    header = flask.request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise PushError(401, f"missing bearer token: send the header 'Authorization: Bearer "
                        f"<token>' with the token of push source {name!r}")
    expected = source.token.get_secret_value().encode()
    if not hmac.compare_digest(given.strip().encode(), expected):
        raise PushError(401, f"wrong token for push source {name!r}: check the token the "
                        "caller sends against the source's token in dspo's config")
    return source


def _accepted(source: PushSource, kind: Kind) -> list[Any]:
    """The validated objects of the request body, or the PushError that refuses it."""
    if kind.name not in source.accepts:
        raise PushError(403, f"push source {source.name!r} does not accept {kind.name} "
                        f"(it accepts: {', '.join(source.accepts)}); add it to the source's "
                        "accepts in dspo's config")
    return _validated(kind, _body())


def _body() -> bytes:
    length = flask.request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise PushError(413, _too_large(length))
    data = flask.request.stream.read(MAX_BODY_BYTES + 1)
    if len(data) > MAX_BODY_BYTES:
        raise PushError(413, _too_large(None))
    if not data.strip():
        raise PushError(400, "empty body: send a JSON object or a list of objects")
    return data


def _too_large(length: int | None) -> str:
    size = f" ({length:,} bytes)" if length is not None else ""
    return (f"request body too large{size}: at most {MAX_BODY_BYTES:,} bytes and "
            f"{MAX_OBJECTS:,} objects per request; split it into several requests")


@cache
def _adapters(model: type[Payload]) -> tuple[TypeAdapter[Any], TypeAdapter[Any]]:
    many = Annotated[list[model], Field(max_length=MAX_OBJECTS)]  # type: ignore[valid-type]
    return TypeAdapter(model), TypeAdapter(many)


def _validated(kind: Kind, data: bytes) -> list[Any]:
    one, many = _adapters(kind.model)
    is_list = data.lstrip()[:1] == b"["
    try:
        parsed = (many if is_list else one).validate_json(data)
    except ValidationError as e:
        _refuse(e, is_list)
    return list(parsed) if is_list else [parsed]


def _refuse(error: ValidationError, is_list: bool) -> NoReturn:
    problems = error.errors(include_url=False, include_input=False)
    broken = next((p for p in problems if p["type"] == "json_invalid"), None)
    if broken is not None:
        raise PushError(400, f"invalid JSON: {broken['msg'].removeprefix('Invalid JSON: ')}")
    lines = [f"{json_path(p['loc'], is_list)}: {_message(p)}" for p in problems]
    shown = lines[:MAX_LISTED_ERRORS]
    if len(lines) > len(shown):
        shown.append(f"... and {len(lines) - len(shown)} more")
    noun = "problem" if len(lines) == 1 else "problems"
    raise PushError(422, f"the payload does not match the schema ({len(lines)} {noun}; see "
                    f"GET {API_PREFIX}/openapi.json)", shown)


def json_path(loc: Sequence[int | str], is_list: bool) -> str:
    """A pydantic error location as a JSON path: `$[2].tasks[0].start`, `$.labels["a b"]`."""
    parts = ["$"]
    for i, segment in enumerate(loc):
        if isinstance(segment, int) and (i > 0 or is_list):
            parts.append(f"[{segment}]")
        elif _IDENTIFIER.match(str(segment)):
            parts.append(f".{segment}")
        else:
            parts.append(f"[{str(segment)!r}]".replace("'", '"'))
    return "".join(parts)


def _message(problem: Any) -> str:
    return _MESSAGES.get(problem["type"], str(problem["msg"]).removeprefix("Value error, "))


def _one_line(error: PushError) -> str:
    return "; ".join([error.message, *error.errors[:3]])


# ------------------------------------------------------------ answers


def _answer(error: PushError) -> tuple[flask.Response, int, dict[str, str]]:
    headers = {"WWW-Authenticate": 'Bearer realm="dspo"'} if error.status == 401 else {}
    if error.status == 405:
        headers["Allow"] = "POST"
    return flask.jsonify(error.body()), error.status, headers


def _store_down(error: StoreError) -> tuple[flask.Response, int]:
    log.warning("push API: %s", error)
    return flask.jsonify(error="the store is not available; retry later"), 503


def _openapi() -> flask.Response:
    return flask.Response(document_bytes(), mimetype="application/json")


def _unknown(rest: str) -> NoReturn:
    method = flask.request.method
    kind = rest.rsplit("/", 1)[-1]
    if rest.startswith("sources/") and rest.count("/") == 2 and kind in BY_PATH:
        raise PushError(405, f"{method} is not allowed here: POST a JSON object or a list")
    raise PushError(404, f"no such endpoint: {method} {API_PREFIX}/{rest} (see GET "
                    f"{API_PREFIX}/openapi.json)")
