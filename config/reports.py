"""Where the full Evidently reports live and the dashboard path that serves each one.

Shared by the dashboard (links and the serving route) and the alert tickets (evidence
links), so both map a stored report path to the same URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from config.schema import DspoConfig, EvidentlySource

REPORTS_ROUTE = "/reports"


def report_dirs(config: DspoConfig) -> dict[str, Path]:
    """Evidently source name -> its reports_dir, resolved."""
    return {s.name: Path(s.reports_dir).resolve() for s in config.sources
            if isinstance(s, EvidentlySource)}


def report_path_url(dirs: Mapping[str, str | Path], report_path: str | None) -> str | None:
    """The dashboard path (`/reports/<source>/<file>`) of a stored report, or None when no
    source's reports_dir holds it (a link may never reach another file on the host).

    A report dspo computed is stored as its JSON snapshot; when Evidently's rendered HTML
    was kept beside it (`save_html`), the link opens that instead of downloading data."""
    if not report_path:
        return None
    path = Path(report_path).resolve()
    rendered = path.with_suffix(".html")
    if path.suffix == ".json" and rendered.is_file():
        path = rendered
    for source, folder in dirs.items():
        root = Path(folder).resolve()
        if path.is_relative_to(root):
            return f"{REPORTS_ROUTE}/{source}/{path.relative_to(root).as_posix()}"
    return None
