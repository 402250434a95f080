"""Serve the full Evidently reports the store links to, and nothing else.

Only files under a configured evidently source's `reports_dir` are served, by source name,
so a link can never reach another file on the host.
"""

from __future__ import annotations

from pathlib import Path

import flask
from werkzeug.exceptions import NotFound

from config.schema import DspoConfig, EvidentlySource

ROUTE = "/reports"


def report_dirs(config: DspoConfig) -> dict[str, Path]:
    return {s.name: Path(s.reports_dir).resolve() for s in config.sources
            if isinstance(s, EvidentlySource)}


def report_url(config: DspoConfig, report_path: str | None) -> str | None:
    """The dashboard URL of a stored report path, or None when no source owns it."""
    if not report_path:
        return None
    path = Path(report_path).resolve()
    for source, folder in report_dirs(config).items():
        if path.is_relative_to(folder):
            return f"{ROUTE}/{source}/{path.relative_to(folder).as_posix()}"
    return None


def register_reports(server: flask.Flask, config: DspoConfig) -> None:
    folders = report_dirs(config)

    @server.route(f"{ROUTE}/<source>/<path:name>")
    def report(source: str, name: str) -> flask.Response:
        if source not in folders:
            raise NotFound()
        return flask.send_from_directory(folders[source], name)
