"""Stakeholder KPI pages in Chromium on the small world (tests/world/small.py), served by
`dspo serve`: a stakeholder signs in and sees only their page with its hand-computed
figures; a PO makes a share link that opens the page without an account until it is
revoked; the server exports the page and the sprint page as PDF and PNG, refused to the
wrong people."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from signin import page_for, serving, signed_in
from world import small

from dspo.devserver import ensure_user

pytestmark = [pytest.mark.slow, pytest.mark.browser]
REVIEW = "/kpi/shop-review?end=2026-03-15"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The served small world's URL and the passwords of sam (in shop-review's audience)
    and kim (in none)."""
    folder = tmp_path_factory.mktemp("kpi-small")
    built = small.build(folder)
    people = {name: ensure_user(built.config_path, {}, name, "stakeholder")[1]
              for name in ("sam", "kim")}
    with serving(built.config_path, {}, folder / "serve.log") as url:
        yield url.rstrip("/"), people


def watch(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def text(page: Any, testid: str) -> str:
    return str(page.inner_text(f'[data-testid="{testid}"]')).strip()


def test_a_stakeholder_sees_only_their_page(browser: Any,
                                            world: tuple[str, dict[str, str]]) -> None:
    url, people = world
    page = signed_in(browser, url, "sam", people["sam"], {"width": 1280, "height": 900})
    errors = watch(page)
    # signed in, sam lands on the KPI home, which lists the one page published for them
    page.wait_for_selector('[data-testid="kpi-home-pages"]', timeout=30_000)
    assert page.url.endswith("/kpi/")
    assert page.locator('[data-testid^="kpi-home-page-"]').count() == 1
    assert page.locator(".navbar .nav-link").all_inner_texts() == ["KPI pages"]
    page.goto(url + REVIEW)
    page.wait_for_selector("#kpi-page .js-plotly-plot", timeout=30_000)
    # dau's 7-day mean (5 x 1,100 + 2 x 600) / 7 = 957, at risk (900 <= 957 < 1,000);
    # scoring 5 of 7 runs = 71.4%, failing; dau +11.7% week over week (6,700 vs 6,000)
    assert text(page, "kpi-objective-value-shop-0") == "957"
    assert text(page, "kpi-objective-status-shop-0") == "at risk"
    assert text(page, "kpi-objective-value-shop-1") == "71.4%"
    assert text(page, "kpi-objective-status-shop-1") == "failing"
    assert text(page, "kpi-usage-wow-shop-dau") == "+11.7%"
    assert text(page, "kpi-commentary").endswith(small.COMMENTARY_SCRIPT)  # text, not HTML
    assert page.locator("#kpi-share").count() == 0
    # printed: no navigation bar, no download links
    page.emulate_media(media="print")
    assert not page.locator(".navbar").is_visible()
    assert not page.locator("#kpi-export-pdf").is_visible()
    # another page or a PO page sends sam home
    page.goto(url + "/kpi/shop-board")
    page.wait_for_url(url + "/kpi/")
    page.goto(url + "/sprint?product=shop")
    page.wait_for_url(url + "/kpi/")
    assert page.title() != "pwned" and errors == []
    page.context.close()


def test_a_po_shares_the_page_and_revokes_the_link(browser: Any,
                                                   world: tuple[str, dict[str, str]]) -> None:
    url, _ = world
    po = page_for(browser, url, {"width": 1280, "height": 900})
    errors = watch(po)
    po.goto(url + REVIEW)
    po.wait_for_selector("#kpi-share-create", timeout=30_000)
    po.click("#kpi-share-create")
    link = str(po.input_value("#kpi-share-url", timeout=30_000))
    assert "/share/" in link
    # a visitor without an account opens it, and is told who shared it until when
    visitor = browser.new_context().new_page()
    visitor.goto(link)
    visitor.wait_for_selector('[data-testid="kpi-shared-by"]', timeout=30_000)
    assert text(visitor, "kpi-shared-by").startswith("Shared by e2e; this link works until ")
    assert visitor.url.endswith("/kpi/shop-review")
    # revoked on the PO's page, the link stops working at the visitor's next request
    link_id = po.locator('[data-testid="kpi-share-link"] td').first.inner_text()
    po.click(f'button[id*="{link_id}"]')
    po.wait_for_selector(f'[data-testid="kpi-share-state-{link_id}"]:has-text("revoked")',
                         timeout=30_000)
    visitor.reload()
    visitor.wait_for_url(lambda u: "/login" in u, timeout=30_000)
    visitor.goto(link)
    assert "not valid" in visitor.inner_text("body")
    visitor.context.close()
    assert errors == []
    po.context.close()


def test_exports_as_pdf_and_png_for_those_who_may_open_the_page(
    browser: Any, world: tuple[str, dict[str, str]]
) -> None:
    url, people = world
    sam = signed_in(browser, url, "sam", people["sam"])
    pdf = sam.request.get(url + "/export/kpi/shop-review.pdf?end=2026-03-15", timeout=90_000)
    assert pdf.status == 200, pdf.text()[:300]
    assert pdf.body().startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    png = sam.request.get(url + "/export/kpi/shop-review.png?end=2026-03-15", timeout=90_000)
    assert png.status == 200 and png.body().startswith(PNG_SIGNATURE)
    # the same exports, and the sprint page's, are refused to those who may not open them
    assert sam.request.get(url + "/export/kpi/shop-board.pdf").status == 403
    assert sam.request.get(url + "/export/sprint.pdf?product=shop").status == 403
    kim = signed_in(browser, url, "kim", people["kim"])
    assert kim.request.get(url + "/export/kpi/shop-review.png").status == 403
    anonymous = browser.new_context()
    refused = anonymous.request.get(url + "/export/kpi/shop-review.pdf", max_redirects=0)
    assert refused.status == 302 and "/login" in refused.headers["location"]
    # the admin exports the sprint page (Sprint 2 of the small world)
    admin = page_for(browser, url)
    sprint = admin.request.get(url + "/export/sprint.pdf?product=shop&sprint=2",
                               timeout=90_000)
    assert sprint.status == 200 and sprint.body().startswith(b"%PDF")
    sprint_png = admin.request.get(url + "/export/sprint.png?product=shop", timeout=90_000)
    assert sprint_png.status == 200 and sprint_png.body().startswith(PNG_SIGNATURE)
    for context in (sam.context, kim.context, anonymous, admin.context):
        context.close()
