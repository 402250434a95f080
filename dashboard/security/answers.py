"""How the server says no: one short sentence, as JSON to scripts and as text to people.

Never HTML: a refused value echoed in the message (a Host header, an Origin) is then
inert whatever it contains, and no error answer carries a traceback.
"""

from __future__ import annotations

from typing import Any

import flask

JSON_PREFIXES = ("/_dash-", "/api/")


def wants_json() -> bool:
    """Dash's renderer and API callers read JSON; a person reads text."""
    request = flask.request
    return request.is_json or request.path.startswith(JSON_PREFIXES)


def answer(status: int, message: str, **fields: Any) -> flask.Response:
    """`{"error": message, ...}` or the message as text/plain, with this status."""
    if wants_json():
        response = flask.jsonify(error=message, **fields)
    else:
        response = flask.Response(message + "\n", mimetype="text/plain")
    response.status_code = status
    return response
