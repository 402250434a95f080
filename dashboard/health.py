"""Health routes for load balancers, Kubernetes probes and compose healthchecks.

`/healthz`: the process answers (liveness; touches nothing, so a slow database never gets
a healthy worker restarted). `/readyz`: the store answers and its schema is the one this
code needs (readiness: a replica on an old schema during a release takes no traffic).
Both are open, so they say nothing about the store beyond ready or not; the reason is in
the server log.
"""

from __future__ import annotations

import logging

import flask

from store.db import Store, StoreError

log = logging.getLogger(__name__)

HEALTH_PATHS = ("/healthz", "/readyz")


def register_health(server: flask.Flask, store: Store) -> None:
    @server.get("/healthz")
    def healthz() -> flask.Response:
        return _text("ok", 200)

    @server.get("/readyz")
    def readyz() -> flask.Response:
        try:
            store.check_schema()
        except StoreError as e:
            log.warning("not ready: %s", e)
            return _text("not ready: the store is unreachable or its schema is not current "
                         "(see the server log)", 503)
        return _text("ready", 200)


def _text(message: str, status: int) -> flask.Response:
    response = flask.Response(message + "\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response
