"""WSGI entry for running a WSGI server yourself: `gunicorn "dspo.wsgi:server"` with
DSPO_CONFIG set.

`dspo serve` is the usual way (it runs gunicorn with the settings dspo needs: threads for
exports, no trusted forwarding headers but `dashboard.proxy_hops`); this entry is for
servers and setups it does not cover. Each worker process that imports it loads the config,
opens its own engine and refuses an old schema with the command that fixes it.
"""

from __future__ import annotations

import os
from pathlib import Path

from config.loader import load_config
from dspo.server import upgrade_command
from dspo.telemetry import disable_call_home
from dspo.web import create_web_app
from store.db import Store

disable_call_home()
_config_path = Path(os.environ.get("DSPO_CONFIG", "dspo.yaml"))
_config = load_config(_config_path)
_store = Store(_config.store.url)
_store.check_schema(hint=f"run: {upgrade_command(_config_path)}")
app = create_web_app(_config, _store)
server = app.server
