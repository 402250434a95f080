"""Errors nobody planned for: logged with an id on the server, only the id in the answer.

A traceback or an exception's text may name files, SQL, URLs or settings; the person who
hit the error gets an id to quote, the operator finds the traceback in the log under it.
"""

from __future__ import annotations

import logging
import secrets

import flask
from dash.exceptions import UnsupportedRelativePath
from werkzeug.exceptions import InternalServerError, SecurityError

from dashboard.security.answers import answer

log = logging.getLogger("dspo.errors")


def error_id() -> str:
    return secrets.token_hex(6)


def install_errors(server: flask.Flask) -> None:
    server.register_error_handler(InternalServerError, _unexpected)
    server.register_error_handler(SecurityError, _untrusted_host)
    server.register_error_handler(UnsupportedRelativePath, _bad_page_path)


def _unexpected(error: InternalServerError) -> flask.Response:
    """Every unhandled exception ends here (Flask wraps it in a 500)."""
    ident = error_id()
    request = flask.request
    cause = error.original_exception or error
    log.error("error %s on %s %s", ident, request.method, request.path,
              exc_info=(type(cause), cause, cause.__traceback__))
    return answer(500, f"Something went wrong on the server (error id {ident}); the server "
                  "log has the details under this id.", error_id=ident)


def _untrusted_host(_error: SecurityError) -> flask.Response:
    """Flask refuses a Host outside TRUSTED_HOSTS; say which setting admits it."""
    host = flask.request.headers.get("Host", "")[:200]
    log.warning("refused a request for host %r: not in dashboard.trusted_hosts", host)
    return answer(400, f"This dashboard does not answer to the host {host!r}. Open it by "
                  "one of its configured names, or add this one to dashboard.trusted_hosts.")


def _bad_page_path(_error: UnsupportedRelativePath) -> flask.Response:
    """Dash's page router raises this for a pathname without the app's prefix: a
    hand-made request (a browser's location always has one)."""
    return answer(400, "Bad callback request: a page path must start with /.")
