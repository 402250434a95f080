"""Serve the full Evidently reports the store links to, so that nothing in them runs as dspo.

A report is made of a product's data, and Evidently inlines column names and values into
a `<script>` without escaping: a column named `</script><script>...` runs script in the
report's page. That page therefore never gets the dashboard's origin:

- an HTML report is served with its own Content-Security-Policy (`REPORT_POLICY`): a
  sandbox whose scripts run (Evidently draws its charts with them) in an opaque origin,
  with no access to dspo's cookies or storage and no network at all (connect-src 'none');
- a JSON report is data: `application/json`, as an attachment, never sniffed as a page.

Only `.html` and `.json` files under a configured evidently source's `reports_dir` are
served, by source name; hidden files and folders (dspo's import ledger in `.dspo/`),
temporary files and anything that resolves outside `reports_dir` (`..`, symbolic links)
are 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import flask
from werkzeug.exceptions import NotFound

from config.reports import REPORTS_ROUTE, report_dirs, report_path_url
from config.schema import DspoConfig
from dashboard.security.headers import REPORT_POLICY, own_policy

SERVED = {".html": "text/html", ".json": "application/json"}


def report_url(config: DspoConfig, report_path: str | None) -> str | None:
    """The dashboard URL of a stored report path, or None when no source owns it."""
    return report_path_url(report_dirs(config), report_path)


def report_file(folders: Mapping[str, Path], source: str, name: str) -> Path | None:
    """The report file a URL names, or None unless it is one dspo may serve."""
    root = folders.get(source)
    parts = name.split("/")
    if root is None or "\\" in name or "\x00" in name:
        return None
    if any(not part or part.startswith(".") for part in parts):
        return None  # "..", hidden files and folders: the import ledger lives in .dspo/
    path = root.joinpath(*parts)
    if path.suffix not in SERVED:
        return None
    try:
        resolved = path.resolve()
        served = resolved.is_relative_to(root) and resolved.is_file()
    except (OSError, ValueError):  # a name too long for the file system
        return None
    return resolved if served else None


def policy_text(policy: Mapping[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def register_reports(server: flask.Flask, config: DspoConfig) -> None:
    folders = report_dirs(config)

    @own_policy(REPORT_POLICY)
    def report(source: str, name: str) -> flask.Response:
        path = report_file(folders, source, name)
        if path is None:
            raise NotFound()
        mimetype = SERVED[path.suffix]
        response = flask.send_file(path, mimetype=mimetype, download_name=path.name,
                                   as_attachment=mimetype == "application/json")
        # Set here too, so the report is sandboxed even on a server without the
        # security headers (a test app); the headers module sets the same policy.
        response.headers["Content-Security-Policy"] = policy_text(REPORT_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    server.add_url_rule(f"{REPORTS_ROUTE}/<source>/<path:name>", "report", report)
