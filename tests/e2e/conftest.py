"""The demo world, built once per session by the real `dspo demo`, and a served dashboard.

Browser tests drive Debian's Chromium headless through Playwright (never a downloaded
browser). Without /usr/bin/chromium they skip with the reason, except under CI=true, where
that is a failure: CI must run them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from signin import signed_in

from dspo.devserver import CHROMIUM, CHROMIUM_ARGS, serving

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "config" / "demo.yaml"


@dataclass(frozen=True)
class DemoWorld:
    folder: Path
    env: dict[str, str]
    collect_output: str
    users: dict[str, str]  # the demo users `dspo demo` printed, with their passwords


def printed_users(output: str) -> dict[str, str]:
    """'  po           po           password: Xy...' lines of `dspo demo`'s output."""
    return dict(re.findall(r"^\s+(\S+)\s+\S+\s+password: (\S+)$", output, re.M))


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory: pytest.TempPathFactory) -> DemoWorld:
    folder = tmp_path_factory.mktemp("demo") / "world"
    env = {"DSPO_DEMO_DIR": str(folder), "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    dspo = Path(sys.executable).parent / "dspo"
    out = subprocess.run(
        [str(dspo), "demo", "--dir", str(folder)], env={**os.environ, **env},
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert out.returncode == 0, f"dspo demo failed:\n{out.stdout}\n{out.stderr}"
    users = printed_users(out.stdout)
    assert set(users) == {"po", "stakeholder"}, out.stdout
    return DemoWorld(folder, env, out.stdout + out.stderr, users)


@pytest.fixture(scope="session")
def demo_env(demo_world: DemoWorld) -> Iterator[None]:
    """Point ${DSPO_DEMO_DIR} in config/demo.yaml at the session's world for in-process reads."""
    old = os.environ.get("DSPO_DEMO_DIR")
    os.environ["DSPO_DEMO_DIR"] = str(demo_world.folder)
    yield
    if old is None:
        os.environ.pop("DSPO_DEMO_DIR", None)
    else:
        os.environ["DSPO_DEMO_DIR"] = old


@pytest.fixture(scope="session")
def dashboard_url(demo_world: DemoWorld, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[str]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serving(DEMO_CONFIG, demo_world.env, log) as url:
        yield url


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def demo_store(demo_env: None):  # type: ignore[no-untyped-def]
    """(config, Store) of the session's demo world, to compute what pages must show."""
    from config.loader import load_config
    from store.db import Store

    cfg = load_config(DEMO_CONFIG)
    store = Store(cfg.store.url)
    yield cfg, store
    store.dispose()


@pytest.fixture(scope="session")
def demo_context(browser, dashboard_url: str, demo_world: DemoWorld):  # type: ignore[no-untyped-def]
    """A browser context signed in as the demo's PO, shared by the demo-world tests."""
    page = signed_in(browser, dashboard_url, "po", demo_world.users["po"])
    page.close()
    yield page.context
    page.context.close()


@pytest.fixture
def open_page(demo_context, dashboard_url: str):  # type: ignore[no-untyped-def]
    """open_page("/sprint?product=churn", "#sprint-burndown") -> (page, console_errors).

    Waits for the given selector; collects console errors and uncaught exceptions so a test
    can assert there were none (a failed Dash callback shows up there).
    """
    opened = []

    def _open(path: str, ready: str):  # type: ignore[no-untyped-def]
        page = demo_context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(dashboard_url.rstrip("/") + path)
        page.wait_for_selector(ready, timeout=30_000)
        opened.append(page)
        return page, errors

    yield _open
    for page in opened:
        page.close()
