"""WSGI entry for the dashboard alone: `gunicorn "dashboard.wsgi:server"` with DSPO_CONFIG.

`dspo.wsgi:server` (what the compose file runs) serves the dashboard and the push API;
this one serves no push API, since the dashboard package never imports collectors. Each
worker loads the config and opens its own engine; nothing is shared between workers.
"""

from __future__ import annotations

import os

from config.loader import load_config
from dashboard.app import create_app
from dspo.telemetry import disable_call_home
from store.db import Store

disable_call_home()
_config = load_config(os.environ.get("DSPO_CONFIG", "dspo.yaml"))
_store = Store(_config.store.url)
_store.check_schema()
app = create_app(_config, _store)
server = app.server
