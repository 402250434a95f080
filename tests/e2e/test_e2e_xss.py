"""Issue 9: text from sources never runs as script in Chromium, and a saved report's
script runs only in its sandbox.

The hostile world (tests/world/hostile.py) puts `<script>alert(1)</script>`,
`<img src=x onerror=alert(1)>`, `</script><script>alert(1)</script>` and
`javascript:alert(1)` in product, item, sprint, run, metric, model, pipeline, task,
feature, KPI, alert rule and KPI page names, served by `dspo serve`. An admin signs in
through the sign-in form and opens every page: no dialog opens, no console error is
logged (an injected `<img src=x>` would log its failed load), no element or link the
payloads describe exists, and the payloads are shown as text. The Evidently report the
data page links to tries to read the cookie and storage, fetch `/_dash-layout` and reach
the tab that opened it: in its opaque origin (CSP `sandbox allow-scripts`) it reaches none.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import dash
import pytest
from signin import page_for, serving
from world import hostile, small

from dashboard.app import create_app
from store.db import Store

pytestmark = [pytest.mark.slow, pytest.mark.browser]

QUERY = small.QUERY
PAGES: dict[str, tuple[str, ...]] = {
    f"/?{QUERY}": (hostile.PRODUCT_NAME, hostile.IMG, hostile.JS_URL),  # name, owner, text
    f"/alerts?{QUERY}": (hostile.HOSTILE_RULE,),
    f"/sprint?sprint=2&{QUERY}": (hostile.IMG,),  # an item title
    f"/review?sprint=2&{QUERY}": (hostile.PRODUCT_NAME, hostile.SCRIPT),  # a usage KPI
    f"/flow?{QUERY}": hostile.PAYLOADS,  # the items' titles
    f"/models?metric={hostile.IMG}&{QUERY}": (hostile.IMG,),
    f"/data?dataset={hostile.HOSTILE_DATASET}&{QUERY}": hostile.PAYLOADS,  # its features
    f"/pipelines?{QUERY}": (f"pipeline {hostile.SCRIPT}", f"task {hostile.CLOSE}"),
    f"/usage?{QUERY}": (hostile.SCRIPT,),
    f"/dora?{QUERY}": (hostile.PRODUCT_NAME,),
    f"/map?{QUERY}": (hostile.PRODUCT_NAME,),
    f"/sources?{QUERY}": (hostile.PRODUCT_NAME,),
    # an experiment's title and hypothesis, its best run's name (its javascript: URL no link)
    f"/ledger?{QUERY}": (f"Experiment {hostile.SCRIPT}", f"{hostile.IMG} lifts AUC",
                         f"run {hostile.CLOSE}"),
    "/admin": (),
    "/kpi/": (f"Board {hostile.CLOSE}",),
    "/kpi/shop-board?end=2026-03-15": (f"Board {hostile.CLOSE}", hostile.JS_URL),
    "/kpi/shop-review?end=2026-03-15": (small.COMMENTARY_SCRIPT,),
}

INJECTED = """() => ({
  images: document.querySelectorAll('img[src="x"], [onerror]').length,
  scripts: [...document.scripts].filter(s => s.textContent.includes('alert(1)')).length,
  javascriptUrls: [...document.querySelectorAll('[href], [src], [action], [formaction]')]
    .filter(e => ['href', 'src', 'action', 'formaction']
      .some(a => /^\\s*javascript:/i.test(e.getAttribute(a) || ''))).length,
})"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, hostile.HostileWorld]]:
    folder = tmp_path_factory.mktemp("hostile")
    built = hostile.build(folder)
    with serving(built.config_path, hostile.ENV, folder / "serve.log") as url:
        yield url.rstrip("/"), built


@pytest.fixture(scope="module")
def signed_in(browser: Any, world: tuple[str, hostile.HostileWorld]) -> Iterator[Any]:
    """A page signed in as an admin, recording every dialog of its context (and of the
    pages it opens) and its console errors and uncaught exceptions."""
    page = page_for(browser, world[0], {"width": 1400, "height": 900})
    page.dialogs, page.errors = [], []
    page.context.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    page.context.close()


LOADED_LATER = {f"/flow?{QUERY}": "#flow-backlog-grid .ag-row"}
"""The backlog grid asks the server for its rows once drawn (AG Grid's infinite model)."""


def test_every_page_is_listed(world: tuple[str, hostile.HostileWorld]) -> None:
    """A page added later gets its line in PAGES (its hostile text, if any)."""
    store = Store(world[1].config.store.url)
    create_app(world[1].config, store)  # registers the pages in this process too
    store.dispose()
    listed = {path.split("?")[0].rstrip("/") or "/" for path in PAGES}
    assert len(dash.page_registry) == len(PAGES) - 1  # the KPI page by two of its slugs
    for page in dash.page_registry.values():
        path = page.get("path_template") or page["path"]
        assert path.replace("<slug>", "shop-board") in listed, path


@pytest.mark.parametrize("path", list(PAGES))
def test_hostile_text_shows_as_text(signed_in: Any, world: tuple[str, hostile.HostileWorld],
                                    path: str) -> None:
    page = signed_in
    page.errors.clear()
    page.goto(world[0] + path)
    page.wait_for_selector("#_pages_content > *", timeout=30_000)
    page.wait_for_load_state("networkidle")
    if path in LOADED_LATER:  # rows a callback fetches after the page is drawn
        page.wait_for_selector(LOADED_LATER[path], timeout=30_000)
    shown = page.inner_text("#_pages_content")
    for text in PAGES[path]:
        assert text in shown, (path, text)
    assert page.evaluate(INJECTED) == {"images": 0, "scripts": 0, "javascriptUrls": 0}, path
    assert page.dialogs == [] and page.title() != "pwned", path
    assert page.errors == [], path


def test_a_report_runs_only_in_its_sandbox(signed_in: Any,
                                           world: tuple[str, hostile.HostileWorld]) -> None:
    url, built = world
    page = signed_in
    page.goto(f"{url}/data?dataset={hostile.HOSTILE_DATASET}&{QUERY}")
    link = page.locator(f'a.data-report-link[href="{built.report_url}"]')
    link.wait_for(timeout=30_000)
    with page.expect_popup() as opened:
        link.click()
    report = opened.value
    reached = _escape(report)
    # the script ran (Evidently draws with it), but in an opaque origin with no network
    assert reached["origin"] == "null"
    for what in ("cookie", "storage", "fetch", "opener"):
        assert reached[what].startswith("blocked"), (what, reached)
    assert page.dialogs == [] and page.title() != "pwned"
    policy = page.request.get(url + built.report_url).headers["content-security-policy"]
    assert "sandbox allow-scripts" in policy and "allow-same-origin" not in policy
    report.close()


def _escape(report: Any, timeout: float = 15.0) -> dict[str, str]:
    """What the report's script says it reached, once it has said it."""
    report.wait_for_selector("#escape", timeout=30_000)
    deadline = time.monotonic() + timeout
    while (text := report.inner_text("#escape")) == "running":
        assert time.monotonic() < deadline, "the report's script never finished"
        time.sleep(0.1)
    found: dict[str, str] = json.loads(text)
    return found
