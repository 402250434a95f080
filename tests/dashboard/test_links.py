"""Links to a source's page: only http(s) URLs become links; anything else stays text."""

from __future__ import annotations

import pytest
from dash import html

from dashboard.components.links import external_link


@pytest.mark.parametrize("url", ["https://mlflow.example.com/#/runs/1", "HTTP://m/x"])
def test_http_urls_are_links(url: str) -> None:
    link = external_link("run", url, "t")
    assert isinstance(link, html.A)
    assert (link.href, link.target, link.rel, link.children) == (
        url, "_blank", "noopener noreferrer", "run")


@pytest.mark.parametrize("url", ["javascript:alert(1)", " javascript:alert(1)",
                                 "data:text/html,<script>x</script>", "/relative", None, 3])
def test_other_urls_are_text(url: object) -> None:
    shown = external_link("run", url, "t")
    assert isinstance(shown, html.Span) and shown.children == "run"
    assert not hasattr(shown, "href")
