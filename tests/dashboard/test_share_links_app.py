"""Share links through the real app: a PO makes one from the KPI page's Share panel; it
opens that one page without an account and says who shared it until when; it opens
nothing else; it stops working when revoked, when it expires, or when one character of
its token changes; each creation and revocation is in the audit log as the PO."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from world import kpi_users
from world.kpi_users import SEARCH, App, router, share_callback, share_url, texts

from dashboard.auth.access import NEEDS
from dashboard.auth.routes import share_token
from store.audit import audit_events
from store.people import add_share_link


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    yield from kpi_users.build(tmp_path_factory.mktemp("share-app"))


def make_link(app: App, days: int = 7) -> str:
    """The share URL's path, as the PO's panel shows it."""
    answer = share_callback(app.client("ana"), "/kpi/shop-review", days=days)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    url = share_url(answer)
    assert url is not None and url.startswith("http://localhost/share/")
    return url.removeprefix("http://localhost")


def link_id_of(app: App, path: str) -> str:
    from dashboard.auth.routes import share_serializer

    return str(share_serializer(app.server.secret_key).loads(path.rsplit("/", 1)[1]))


def visitor(app: App, path: str) -> Any:
    client = app.client()
    answer = client.get(path)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:200]
    assert answer.headers["Location"] == "/kpi/shop-review"
    return client


def test_a_link_opens_its_page_without_an_account_and_says_who_and_until(app: App) -> None:
    before = datetime.now(UTC)
    client = visitor(app, make_link(app, days=7))
    assert client.get("/kpi/shop-review").status_code == 200
    shown = texts(router(client, "/kpi/shop-review", SEARCH))
    # the same figure a signed-in stakeholder sees: dau's 7-day mean 6,700 / 7 = 957
    assert shown["kpi-objective-value-shop-0"] == "957"
    said = shown["kpi-shared-by"]
    assert said.startswith("Shared by ana; this link works until ")
    until = datetime.strptime(said.rsplit("until ", 1)[1], "%d %b %Y %H:%M UTC.").replace(
        tzinfo=UTC)
    # 7 days from when it was made (to the minute shown)
    expected = before + timedelta(days=7)
    assert abs(until.replace(tzinfo=UTC) - expected) < timedelta(minutes=2)
    assert '"id":"kpi-share"' not in router(client, "/kpi/shop-review", SEARCH).get_data(
        as_text=True)


def test_a_link_opens_nothing_else(app: App) -> None:
    client = visitor(app, make_link(app))
    # another KPI page, a PO page, the home only lists its own page
    assert client.get("/kpi/shop-board").headers["Location"] == "/kpi/shop-review"
    assert router(client, "/kpi/shop-board", SEARCH).status_code in (302, 403)
    for path in ("/", "/sprint", "/alerts", "/usage", "/admin"):
        answer = client.get(f"{path}?product=shop")
        assert answer.status_code in (302, 403), path
        assert answer.headers.get("Location", "/kpi/shop-review") == "/kpi/shop-review"
    home = texts(router(client, "/kpi/"))
    assert "kpi-home-page-shop-review" in home and "kpi-home-page-shop-board" not in home
    # no callback that acts, nor any PO callback; no export of another page
    assert share_callback(client, "/kpi/shop-review").status_code == 403
    for output, need in NEEDS.items():
        if need.action or need.access in ("po", "admin"):
            answer = client.post("/_dash-update-component", json={
                "output": output, "inputs": [], "state": [], "changedPropIds": []})
            assert answer.status_code == 403, output
    assert client.get("/export/kpi/shop-board.pdf").status_code == 403
    assert client.get("/export/sprint.png?product=shop").status_code == 403


def test_a_revoked_link_stops_at_once(app: App) -> None:
    path = make_link(app)
    client = visitor(app, path)
    link = link_id_of(app, path)
    answer = share_callback(app.client("ana"), "/kpi/shop-review", revoke=link)
    assert f"Link {link} revoked" in answer.get_data(as_text=True)
    assert texts(answer)[f"kpi-share-state-{link}"] == "revoked"
    # the open session ends with the next request, and the link no longer opens
    assert client.get("/kpi/shop-review").headers["Location"].startswith("/login")
    assert app.client().get(path).status_code == 403
    events = audit_events(app.store)
    rows = events[events["detail"].map(lambda d: d.get("link") == link)]
    assert rows[["actor", "action", "target"]].values.tolist() == [
        ["ana", "share-revoke", "shop-review"], ["ana", "share-create", "shop-review"]]


def test_an_expired_link_is_refused(app: App) -> None:
    now = datetime.now(UTC)
    with app.store.session() as s:
        gone = add_share_link(s, page="shop-review", created_by="ana",
                              now=now - timedelta(days=8), expires_at=now - timedelta(days=1))
        soon = add_share_link(s, page="shop-review", created_by="ana", now=now,
                              expires_at=now + timedelta(seconds=1.5))
    secret = app.server.secret_key
    assert app.client().get(f"/share/{share_token(secret, gone.link_id)}").status_code == 403
    client = visitor(app, f"/share/{share_token(secret, soon.link_id)}")
    assert client.get("/kpi/shop-review").status_code == 200
    time.sleep(max(0.0, (soon.expires_at - datetime.now(UTC)).total_seconds()) + 0.2)
    assert client.get("/kpi/shop-review").headers["Location"].startswith("/login")


def test_a_tampered_token_is_refused(app: App) -> None:
    path = make_link(app)
    token = path.rsplit("/", 1)[1]
    for i in (0, len(token) // 2, len(token) - 1):
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]
        assert app.client().get(f"/share/{changed}").status_code == 403, i


def test_only_a_po_of_the_pages_products_shares_it(app: App) -> None:
    # sam (stakeholder) is refused by the guard; bo (a PO of other products) by the page
    assert share_callback(app.client("sam"), "/kpi/shop-review").status_code == 403
    answer = share_callback(app.client("bo"), "/kpi/shop-review")
    assert "You cannot share this page." in answer.get_data(as_text=True)
    # an admin may; a payload asking for a year is told the choices
    assert share_url(share_callback(app.client("ada"), "/kpi/shop-board", days=1))
    refused = share_callback(app.client("ana"), "/kpi/shop-review", days=365)
    assert "A share link lasts 1 to 90 days" in refused.get_data(as_text=True)


def test_a_link_lasts_the_chosen_days(app: App) -> None:
    before = datetime.now(UTC)
    link = link_id_of(app, make_link(app, days=30))
    events = audit_events(app.store)
    made = events[events["detail"].map(lambda d: d.get("link") == link)].iloc[0]
    assert (made["actor"], made["action"], made["detail"]["days"]) == ("ana", "share-create", 30)
    expires = datetime.fromisoformat(made["detail"]["expires_at"])
    assert timedelta(days=30) <= expires - before < timedelta(days=30, minutes=1)
