"""WSGI entry for gunicorn: `gunicorn "dspo.wsgi:server"` with DSPO_CONFIG set.

Serves the dashboard and the push API, as `dspo serve` does. Each worker loads the config
and opens its own engine; nothing is shared between workers.
"""

from __future__ import annotations

import os

from config.loader import load_config
from dspo.telemetry import disable_call_home
from dspo.web import create_web_app
from store.db import Store

disable_call_home()
_config = load_config(os.environ.get("DSPO_CONFIG", "dspo.yaml"))
_store = Store(_config.store.url)
_store.check_schema()
app = create_web_app(_config, _store)
server = app.server
