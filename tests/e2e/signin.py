"""Signing the browser tests in: every dashboard page needs a signed-in user now.

A module that serves its own world uses `serving` from here instead of
`dspo.devserver.serving`: it adds an admin user to that world's store first and remembers
the credentials by URL, so `page_for(browser, url)` opens a page already signed in through
the real sign-in form.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dspo.devserver import ensure_user, sign_in
from dspo.devserver import serving as serve

CREDENTIALS: dict[str, tuple[str, str]] = {}


@contextmanager
def serving(config: Path, env: Mapping[str, str], log: Path, port: int | None = None
            ) -> Iterator[str]:
    username, password = ensure_user(config, env)
    with serve(config, env, log, port) as url:
        CREDENTIALS[url.rstrip("/")] = (username, password)
        yield url


def signed_in(browser: Any, url: str, username: str, password: str,
              viewport: dict[str, int] | None = None) -> Any:
    """A new browser context signed in through the sign-in form, and its first page."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, url, username, password)
    return page


def page_for(browser: Any, url: str, viewport: dict[str, int] | None = None) -> Any:
    """A signed-in page on a world served by `serving` above."""
    username, password = CREDENTIALS[url.rstrip("/")]
    return signed_in(browser, url, username, password, viewport)
