"""Links out of dspo to a source's own page (a run in MLflow, a DAG run in Airflow).

A URL comes from a source, so it is untrusted: only http(s) URLs become links; anything
else (javascript:, data:, a relative path) is shown as the plain text it stands beside.
"""

from __future__ import annotations

from typing import Any

from dash import html

SAFE_SCHEMES = ("http://", "https://")


def is_safe_url(url: object) -> bool:
    return isinstance(url, str) and url.lower().startswith(SAFE_SCHEMES)


def external_link(text: str, url: object, testid: str | None = None) -> Any:
    """`text` linked to `url` in a new tab when the URL is http(s), else `text` alone."""
    extra: dict[str, Any] = {"data-testid": testid} if testid else {}
    if is_safe_url(url):
        return html.A(text, href=str(url), target="_blank", rel="noopener noreferrer", **extra)
    return html.Span(text, **extra)
