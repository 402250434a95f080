"""Stakeholder KPI pages through the real app (Flask's test client): who opens which page,
what it shows them (hand-computed on the small world), and what they are refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dash
import pytest
from world import kpi_users, small
from world.kpi_users import SEARCH, App, router, texts

from dashboard.auth.access import NEEDS
from dashboard.auth.guard import exported_page, page_need


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    yield from kpi_users.build(tmp_path_factory.mktemp("kpi-app"))


def po_pages() -> list[str]:
    return sorted(p["path"] for p in dash.page_registry.values()
                  if p.get("access", "po") in ("po", "admin"))


def test_a_stakeholder_in_the_audience_sees_the_published_figures(app: App) -> None:
    client = app.client("sam")
    assert client.get("/kpi/shop-review").status_code == 200
    answer = router(client, "/kpi/shop-review", SEARCH)
    assert answer.status_code == 200
    shown = texts(answer)
    # dau's 7-day mean ending 15 Mar 00:00: (5 x 1,100 + 2 x 600) / 7 = 957.14, between
    # the 900 threshold and the 1,000 warning: at risk
    assert shown["kpi-objective-value-shop-0"] == "957"
    assert shown["kpi-objective-target-shop-0"] == "target >= 900"
    assert shown["kpi-objective-status-shop-0"] == "at risk"
    # scoring runs ending 9..15 Mar: 5 of 7 succeeded = 71.4%, under 95%: failing
    assert shown["kpi-objective-value-shop-1"] == "71.4%"
    assert shown["kpi-objective-status-shop-1"] == "failing"
    assert shown["kpi-status-shop"] == "failing"  # the worst of the two
    # usage: dau's 7-day mean 957 against >= 900, +11.7% week over week (6,700 vs
    # 6,000); orders (40 x 5 + 20 x 2) / 7 = 34.3, no objective, no week one
    assert shown["kpi-usage-mean-shop-dau"] == "957"
    assert shown["kpi-usage-target-shop-dau"] == "target >= 900"
    assert shown["kpi-usage-status-shop-dau"] == "at risk"
    assert shown["kpi-usage-wow-shop-dau"] == "+11.7%"
    assert shown["kpi-usage-mean-shop-orders"] == "34"
    assert shown["kpi-usage-target-shop-orders"] == "no target agreed"
    assert shown["kpi-usage-wow-shop-orders"] == "–"
    assert shown["kpi-missing-kpis"] == "No data yet for: signups."
    assert shown["kpi-as-of"] == "As of 15 Mar 2026 23:59 UTC; trends over the last 14 days"
    # the commentary arrives as a string child: React shows its markup as text
    assert shown["kpi-commentary"] == ("Orders <b>doubled</b> & scoring failed twice; "
                                       + small.COMMENTARY_SCRIPT)
    body = answer.get_data(as_text=True)
    assert "dangerouslySetInnerHTML" not in body
    # no backlog internals, no share panel for a stakeholder, no PO-only figure
    assert "kpi-velocity-shop" not in shown and '"id":"kpi-share"' not in body
    assert "Champion AUC" not in body and "Training freshness" not in body


def test_the_board_page_shows_the_backlog_to_its_audience(app: App) -> None:
    client = app.client("lee")
    shown = texts(router(client, "/kpi/shop-board", SEARCH))
    # champion v2's newest auc 0.86 (14 Mar) >= the 0.85 warning
    assert shown["kpi-objective-value-shop-0"] == "0.860"
    assert shown["kpi-objective-status-shop-0"] == "healthy"
    # velocity: Sprint 1 6 points, Sprint 2 3: mean 4.5; 9 of 27 points done = 33%
    assert shown["kpi-velocity-shop"] == "4.5"
    assert shown["kpi-backlog-done-shop"] == "33%"
    assert shown["kpi-done-items-shop"] == "3 of 8 items done"


def test_a_stakeholder_not_in_the_audience_is_sent_home(app: App) -> None:
    client = app.client("kim")
    answer = client.get("/kpi/shop-review")
    assert answer.status_code == 302 and answer.headers["Location"] == "/kpi/"
    assert router(client, "/kpi/shop-review", SEARCH).status_code in (302, 403)
    assert client.get("/export/kpi/shop-review.pdf").status_code == 403
    home = texts(router(client, "/kpi/"))
    assert home["kpi-home-empty"].startswith("No KPI page is published for you")
    # sam may open the review, not the board
    sam = app.client("sam")
    assert sam.get("/kpi/shop-board").status_code == 302
    assert sam.get("/export/kpi/shop-board.png").status_code == 403


@pytest.mark.parametrize("user", ["sam", "lee", "kim"])
def test_every_po_page_route_and_callback_is_refused_to_stakeholders(app: App,
                                                                     user: str) -> None:
    client = app.client(user)
    for path in po_pages():
        answer = client.get(path)
        assert answer.status_code in (302, 403), path
        assert answer.headers.get("Location", "/kpi/") == "/kpi/", path
        assert router(client, path, "?product=shop").status_code in (302, 403), path
    po_callbacks = [out for out, need in NEEDS.items() if need.access in ("po", "admin")]
    assert po_callbacks  # the alerts' actions, the models' chooser, the map's clicks ...
    for output in po_callbacks:
        answer = client.post("/_dash-update-component", json={
            "output": output, "inputs": [], "state": [], "changedPropIds": []})
        assert answer.status_code == 403, output
    assert client.get("/export/sprint.pdf?product=shop").status_code == 403


def test_the_home_lists_what_each_may_open(app: App) -> None:
    # sam: the listed review; lee: nothing (the board is unlisted: only by its address)
    sam = texts(router(app.client("sam"), "/kpi/"))
    assert "kpi-home-page-shop-review" in sam and "kpi-home-page-shop-board" not in sam
    assert "kpi-home-empty" in texts(router(app.client("lee"), "/kpi/"))
    # a PO of shop sees both pages with whom they are for; a PO of other products none
    ana = texts(router(app.client("ana"), "/kpi/"))
    assert ana["kpi-home-page-shop-review"] == (
        "Shop recommender, sprint reviewShop recommendersam")
    assert ana["kpi-home-page-shop-board"].endswith("lee (unlisted)")
    assert "kpi-home-empty" in texts(router(app.client("bo"), "/kpi/"))


def test_a_po_of_the_pages_products_gets_its_share_panel_and_exports(app: App) -> None:
    body = router(app.client("ana"), "/kpi/shop-review", SEARCH).get_data(as_text=True)
    assert '"id":"kpi-share"' in body and '"id":"kpi-share-create"' in body
    assert "/export/kpi/shop-review.pdf?end=2026-03-15" in body.replace("\\u002f", "/")


def test_a_po_of_other_products_gets_no_kpi_page_of_shop(app: App) -> None:
    client = app.client("bo")
    shown = texts(router(client, "/kpi/shop-review", SEARCH))
    assert "kpi-not-found" in shown and "kpi-objective-value-shop-0" not in shown
    assert client.get("/export/kpi/shop-review.pdf").status_code == 403


def test_a_stakeholder_signs_in_to_the_kpi_home_and_its_navbar(app: App) -> None:
    client = app.client("sam")
    assert client.get("/").headers["Location"] == "/kpi/"  # the overview is a PO page
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert "KPI pages" in layout and "sam (stakeholder)" in layout
    assert '"Sprint"' not in layout and '"Overview"' not in layout
    # no product selector or date range: a KPI page chooses its own products and period
    assert '"Shop recommender"' not in layout
    assert '"Shop recommender"' in app.client("ana").get("/_dash-layout").get_data(as_text=True)


def test_an_export_path_needs_what_its_page_needs() -> None:
    assert exported_page("/export/kpi/shop-review.pdf") == "/kpi/shop-review"
    assert exported_page("/export/sprint.png") == "/sprint"
    assert exported_page("/export/sprint.html") is None
    need, slug = page_need("/kpi/shop-review")
    assert need is not None and (need.access, slug) == ("stakeholder", "shop-review")
    need, slug = page_need("/kpi/")
    assert need is not None and (need.access, slug) == ("shell", None)


def test_exports_without_chromium_say_so(app: App, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    import dashboard.export

    monkeypatch.setattr(dashboard.export, "CHROMIUM", str(tmp_path / "no-chromium"))
    answer = app.client("ana").get("/export/kpi/shop-review.pdf")
    assert answer.status_code == 503
    assert "needs Chromium at" in answer.get_data(as_text=True)
    assert app.client("ana").get("/export/kpi/no-such-page.pdf").status_code == 404
