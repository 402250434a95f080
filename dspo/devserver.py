"""Start `dspo serve` in a child process and drive it with the system Chromium.

Shared by the browser tests and `scripts/screenshot.py`, so both see the dashboard exactly
as `make run` serves it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


# One worker with enough threads for a page's parallel requests and an export that loads
# the page from this same server: the suite starts dozens of servers on two cores.
SERVE_ARGS = ("--workers", "1", "--threads", "8")


@contextmanager
def serving(config: Path, env: Mapping[str, str], log: Path, port: int | None = None
            ) -> Iterator[str]:
    """Migrate the config's store, then run `dspo serve` (gunicorn) until the block ends;
    yields its base URL. A deployment migrates once before serving, and so does this."""
    port = port or free_port()
    dspo = Path(sys.executable).parent / "dspo"
    migrate(config, env)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(dspo), "serve", "--config", str(config), "--port", str(port), *SERVE_ARGS],
            env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            wait_for_http(url, timeout=60, process=process)
            yield url
        finally:
            # Ctrl+C's quick stop: a test has nothing in flight to drain, and SIGTERM's
            # graceful stop waits ~2 s for the browser's idle keep-alive connections.
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _store(config: Path, env: Mapping[str, str]) -> Any:
    from config.loader import load_config
    from store.db import Store

    return Store(load_config(config, env={**os.environ, **env}).store.url)


def migrate(config: Path, env: Mapping[str, str]) -> None:
    """`dspo db upgrade` for the config's store, in this process (a few ms at head)."""
    store = _store(config, env)
    try:
        store.upgrade()
    finally:
        store.dispose()


def ensure_user(config: Path, env: Mapping[str, str], username: str = "e2e",
                role: str = "admin") -> tuple[str, str]:
    """A user of the config's store (migrated first) with a fresh password:
    (username, password).

    The browser tests and the screenshot script sign in as this user, through the same
    sign-in form a person uses.
    """
    from dspo.users import add, reset_password
    from store.people import find_user

    store = _store(config, env)
    try:
        store.upgrade()
        with store.session() as s:
            exists = find_user(s, username) is not None
        issued = reset_password(store, username) if exists else add(store, username, role)
    finally:
        store.dispose()
    return issued.username, issued.password


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    """Sign a Playwright page in through the sign-in form."""
    page.goto(base_url.rstrip("/") + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#signin")
    page.wait_for_url(lambda url: "/login" not in url, timeout=30_000)
