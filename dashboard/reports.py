"""Serve the full Evidently reports the store links to, and nothing else.

Only files under a configured evidently source's `reports_dir` are served, by source name,
so a link can never reach another file on the host.
"""

from __future__ import annotations

import flask
from werkzeug.exceptions import NotFound

from config.reports import REPORTS_ROUTE, report_dirs, report_path_url
from config.schema import DspoConfig


def report_url(config: DspoConfig, report_path: str | None) -> str | None:
    """The dashboard URL of a stored report path, or None when no source owns it."""
    return report_path_url(report_dirs(config), report_path)


def register_reports(server: flask.Flask, config: DspoConfig) -> None:
    folders = report_dirs(config)

    @server.route(f"{REPORTS_ROUTE}/<source>/<path:name>")
    def report(source: str, name: str) -> flask.Response:
        if source not in folders:
            raise NotFound()
        return flask.send_from_directory(folders[source], name)
