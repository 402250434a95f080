"""Issue 9: every route and every callback of the app as served is refused to those who
may not use it, found by discovery, so a route or callback added later is checked too.

Routes come from the Flask url map and callbacks from `GET /_dash-dependencies`; each must
be classified, here (`ROUTES`, `PAGES`, `CALLBACKS`) and in the rules
(`dashboard.auth.access.NEEDS`), or the first test fails: adding one means saying who may
use it. Callback bodies are built from the dependency specs (every input and state
`None`) and sent with the CSRF cookie and header, so a refusal is the guard's, never
CSRF's. Then: a PO editing the product in a URL or a callback payload (or acting on an
alert of another product), and a stakeholder editing the KPI page's path, are refused.

Share links that expired, were revoked or had their token altered are refused in
tests/dashboard/test_share_links_app.py; a PO of other products opening a KPI page of
shop in tests/dashboard/test_stakeholder_pages_app.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import dash
import pytest
from hostile_app import (
    HostileApp,
    build,
    callback_body,
    guarded,
    output_key,
    post,
    router,
    server_callbacks,
)
from world import hostile

from dashboard.auth.access import NEEDS, ROUTER_OUTPUT
from store import queries

Rule = tuple[str, str]  # (method, url rule)

ROUTES: dict[Rule, str] = {
    # open to everyone: static files, sign-in, share links (their own signed token)
    ("GET", "/static/<path:filename>"): "open",
    ("GET", "/assets/<path:filename>"): "open",
    ("GET", "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>"): "open",
    ("GET", "/_favicon.ico"): "open",
    ("GET", "/login"): "open",
    ("POST", "/login"): "open",
    ("GET", "/share/<token>"): "open",
    ("GET", "/auth/oidc/login"): "open",
    ("GET", "/auth/oidc/callback"): "open",
    # anyone signed in: the shell Dash loads on every page, and signing out
    ("GET", "/_dash-layout"): "signed-in",
    ("GET", "/_dash-dependencies"): "signed-in",
    ("GET", "/_reload-hash"): "signed-in",
    ("POST", "/logout"): "signed-in",
    # per callback (CALLBACKS) and per page (PAGES)
    ("POST", "/_dash-update-component"): "callback",
    ("GET", "/"): "page",
    ("GET", "/<path:path>"): "page",
    ("GET", "/export/kpi/<slug>.<any(pdf, png):kind>"): "page",  # needs what its page needs
    # POs of the product: a report by its source's product, the sprint page's export
    ("GET", "/reports/<source>/<path:name>"): "po",
    ("GET", "/export/sprint.<any(pdf, png):kind>"): "po",
    ("GET", "/export/review.<any(pdf, png):kind>"): "po",
    # the push API: a bearer token per push source, no cookie
    ("POST", "/api/v1/sources/<source>/pipeline-runs"): "bearer",
    ("POST", "/api/v1/sources/<source>/deployments"): "bearer",
    ("POST", "/api/v1/sources/<source>/metrics"): "bearer",
    ("POST", "/api/v1/sources/<source>/drift-reports"): "bearer",
    ("POST", "/api/v1/sources/<source>/backlog-items"): "bearer",
    ("GET", "/api/v1/openapi.json"): "open",
    # health probes: ok / ready or not, nothing else
    ("GET", "/healthz"): "open",
    ("GET", "/readyz"): "open",
    **{(m, rule): "bearer" for rule in ("/api/v1/", "/api/v1/<path:rest>")
       for m in ("DELETE", "GET", "PATCH", "POST", "PUT")},
}

PAGES = {"/": "po", "/alerts": "po", "/sprint": "po", "/flow": "po", "/models": "po",
         "/review": "po", "/data": "po", "/pipelines": "po", "/usage": "po", "/dora": "po",
         "/map": "po", "/sources": "po", "/ledger": "po", "/admin": "admin", "/kpi": "shell",
         "/kpi/<slug>": "stakeholder"}
"""Every registered page (by path template) -> its audience."""

CALLBACKS = {
    ("..url.search...filter-product.value...filter-dates.start_date...filter-dates.end_date..",
     ""): ("shell", False),
    ('{"path":["ALL"],"type":"nav-link"}.href', ""): ("shell", False),
    ("alerts-body.children", "/alerts"): ("po", True),
    ("kpi-share-body.children", "/kpi/<slug>"): ("stakeholder", True),
    ("url.search", "/models"): ("po", False),
    ("url.href", "/map"): ("po", False),
    ("flow-backlog-grid.getRowsResponse", "/flow"): ("po", False),
}
"""Every server callback but Dash's page router: (output without Dash's `@hash` of
duplicate outputs, page) -> (audience, whether it acts)."""

SLUGS = {"shop-review": "sam", "shop-board": "lee"}  # each KPI page's one stakeholder
STAKEHOLDERS = ("sam", "lee", "kim")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileApp]:
    yield from build(tmp_path_factory.mktemp("sweep"))


@pytest.fixture(scope="module")
def clients(app: HostileApp) -> dict[str, Any]:
    """A signed-in client per person, and "anonymous": a visitor who is not signed in."""
    people: dict[str, Any] = {name: app.client(name) for name, _, _ in hostile.PEOPLE}
    return people | {"anonymous": app.client()}


@pytest.fixture(scope="module")
def dependencies(clients: dict[str, Any]) -> list[dict[str, Any]]:
    answer = clients["ada"].get("/_dash-dependencies")
    assert answer.status_code == 200
    found: list[dict[str, Any]] = answer.get_json()
    return found


def page_paths() -> list[str]:
    """A URL of every registered page (a KPI page by each of its slugs)."""
    paths = []
    for page in dash.page_registry.values():
        if page.get("path_template"):
            paths += [page["path_template"].replace("<slug>", slug) for slug in SLUGS]
        else:
            paths.append(page["path"])
    return paths


def page_access(path: str) -> str:
    return PAGES["/kpi/<slug>" if path.startswith("/kpi/") else path]


def refused(answer: Any) -> bool:
    """A refusal of the guard: 403, or a page sent to the sign-in or the stakeholder home."""
    if answer.status_code == 302:
        return answer.headers["Location"].split("?")[0] in ("/login", "/kpi/")
    return answer.status_code == 403


# ---------------------------------------------------------------- discovery


def test_every_route_page_and_callback_is_classified(app: HostileApp,
                                                     dependencies: list[dict[str, Any]]
                                                     ) -> None:
    rules = {(m, r.rule) for r in app.server.url_map.iter_rules()
             for m in r.methods - {"HEAD", "OPTIONS"}}
    assert rules == set(ROUTES), "classify each new route in ROUTES: who may use it?"
    pages = {p.get("path_template") or p["path"]: p.get("access", "po")
             for p in dash.page_registry.values()}
    assert pages == PAGES, "classify each new page in PAGES"
    callbacks = guarded(dependencies)
    unruled = [d["output"] for d in callbacks if d["output"] not in NEEDS]
    assert unruled == [], "register these callbacks through dashboard.auth.access.callback"
    found = {(output_key(d["output"]), NEEDS[d["output"]].page):
             (NEEDS[d["output"]].access, NEEDS[d["output"]].action) for d in callbacks}
    assert found == CALLBACKS, "classify each new callback in CALLBACKS"
    # the page router is there, and the only callback without a rule runs in the browser
    assert ROUTER_OUTPUT in {d["output"] for d in dependencies}
    assert all(d.get("clientside_function") for d in dependencies
               if d["output"] not in NEEDS and d["output"] != ROUTER_OUTPUT)


# ---------------------------------------------------------------- who is refused what


def sample(rule: str) -> str:
    """A URL of `rule` whose answer only the guard decides (real names where they matter)."""
    concrete = {
        "/static/<path:filename>": "/static/x.css",
        "/assets/<path:filename>": "/assets/dspo.css",
        "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>":
            "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.v1.min.js",
        "/share/<token>": "/share/not-a-token",
        "/reports/<source>/<path:name>": f"/reports/{hostile.REPORT_SOURCE}/"
                                         f"{hostile.REPORT_NAME}",
        "/export/kpi/<slug>.<any(pdf, png):kind>": "/export/kpi/shop-review.pdf",
        "/export/sprint.<any(pdf, png):kind>": "/export/sprint.pdf?product=shop",
        "/export/review.<any(pdf, png):kind>": "/export/review.pdf?product=shop",
        "/api/v1/<path:rest>": "/api/v1/x",
    }
    return concrete.get(rule, rule.replace("<source>", "shop-push"))


def test_a_visitor_not_signed_in_gets_only_open_routes(clients: dict[str, Any],
                                                       dependencies: list[dict[str, Any]],
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    import dashboard.export

    monkeypatch.setattr(dashboard.export, "render", _no_render)
    client = clients["anonymous"]
    for (method, rule), audience in ROUTES.items():
        url = sample(rule)
        if audience in ("callback", "page") and rule != "/export/kpi/<slug>.<any(pdf, png):kind>":
            continue  # below, one by one
        answer = client.open(url, method=method, json={} if method != "GET" else None)
        where = answer.headers.get("Location", "")
        if audience == "open":
            assert answer.status_code != 401 and not where.startswith("/login"), url
        elif audience == "bearer":
            assert answer.status_code in (401, 403, 404), url
            assert answer.is_json and not where, url
        elif method == "GET" and not url.startswith("/_dash"):
            # a person following a link signs in first, then comes back to it
            assert answer.status_code == 302, url
            assert where.startswith("/login?next=" + url.split("?")[0]), url
        else:
            assert answer.status_code == 401 and answer.is_json, url
    for path in page_paths():
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].startswith("/login?next=" + path), path
        assert router(client, path).status_code == 401, path
    for dep in server_callbacks(dependencies):
        answer = post(client, callback_body(dep))
        assert answer.status_code == 401, dep["output"]
        assert answer.get_json() == {"error": "sign in first"}, dep["output"]


def _no_render(*_args: Any, **_kwargs: Any) -> bytes:
    return b"%PDF-1.4 rendered"


@pytest.mark.parametrize("user", STAKEHOLDERS)
def test_a_stakeholder_is_refused_every_po_and_admin_route_and_callback(
        app: HostileApp, clients: dict[str, Any], dependencies: list[dict[str, Any]],
        user: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import dashboard.export

    monkeypatch.setattr(dashboard.export, "render", _no_render)
    client = clients[user]
    for path in page_paths():
        access = page_access(path)
        if access in ("po", "admin") or (access == "stakeholder"
                                         and SLUGS[path.rsplit("/", 1)[1]] != user):
            answer = client.get(path)
            assert refused(answer), (user, path, answer.status_code)
            assert answer.headers.get("Location", "/kpi/") == "/kpi/", (user, path)
            assert refused(router(client, path, "?product=shop")), (user, path)
            if access == "stakeholder":
                assert client.get(f"/export{path}.pdf").status_code == 403, (user, path)
        else:  # the KPI home, and their own KPI page and its export
            assert client.get(path).status_code == 200, (user, path)
            assert router(client, path).status_code == 200, (user, path)
            if access == "stakeholder":
                assert client.get(f"/export{path}.pdf").status_code == 200, (user, path)
    for (method, rule), audience in ROUTES.items():
        if audience == "po":
            answer = client.open(sample(rule), method=method)
            assert answer.status_code == 403, (user, rule)
        if audience == "signed-in" and method == "GET":
            assert client.get(rule).status_code == 200, (user, rule)
    for dep in guarded(dependencies):
        need = NEEDS[dep["output"]]
        answer = post(client, callback_body(dep))
        if need.action or need.access in ("po", "admin"):
            assert answer.status_code == 403, (user, dep["output"])
            assert "CSRF" not in answer.get_json()["error"]
        else:
            assert answer.status_code not in (401, 403), (user, dep["output"])


def test_stakeholder_page_callbacks_refuse_those_outside_the_audience(
        clients: dict[str, Any], dependencies: list[dict[str, Any]]) -> None:
    checked = 0
    for dep in guarded(dependencies):
        need = NEEDS[dep["output"]]
        if need.access != "stakeholder":
            continue
        for slug, audience in SLUGS.items():
            body = callback_body(dep, {("url", "pathname"): f"/kpi/{slug}"})
            for user in STAKEHOLDERS:
                answer = post(clients[user], body)
                opens = user == audience and not need.action
                assert (answer.status_code == 403) is not opens, (user, slug, dep["output"])
                checked += 1
            # a PO of the page's product passes the guard (the callback itself decides)
            assert post(clients["ana"], body).status_code not in (401, 403), slug
    assert checked, "no stakeholder-page callback found: is the share panel gone?"


def test_only_an_admin_opens_admin_pages_and_everyone_allowed_passes(
        clients: dict[str, Any], dependencies: list[dict[str, Any]]) -> None:
    """The control of the refusals above: the same requests pass for who may send them."""
    for path in page_paths():
        access = page_access(path)
        for user in ("ada", "ana"):
            allowed = access != "admin" or user == "ada"
            for answer in (clients[user].get(path + "?product=shop"),
                           router(clients[user], path, "?product=shop&end=2026-03-15")):
                assert (answer.status_code == 200) is allowed, (user, path)
                assert (answer.status_code == 403) is not allowed, (user, path)
    for dep in server_callbacks(dependencies):
        values = {("_pages_location", "pathname"): "/", ("url", "pathname"): "/kpi/shop-review"}
        answer = post(clients["ada"], callback_body(dep, values))
        assert answer.status_code not in (401, 403), dep["output"]


# ---------------------------------------------------------------- tampered requests


def test_a_po_editing_the_product_in_the_url_is_refused(app: HostileApp,
                                                        clients: dict[str, Any],
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    import dashboard.export

    monkeypatch.setattr(dashboard.export, "render", _no_render)
    ana = clients["ana"]
    other = hostile.OTHER
    for path in page_paths():
        if page_access(path) != "po":
            continue
        for search in (f"?product={other}", f"?product=shop&product={other}",
                       f"?product=%65{other[1:]}", f"?end=2026-03-15&product={other}"):
            assert ana.get(path + search).status_code == 403, (path, search)
            assert router(ana, path, search).status_code == 403, (path, search)
        assert router(ana, path, "?product=shop").status_code == 200, path
    assert ana.get(f"/export/sprint.pdf?product={other}").status_code == 403
    assert ana.get("/export/sprint.pdf?product=shop").status_code == 200
    assert ana.get(f"/export/review.pdf?product={other}").status_code == 403
    assert ana.get("/export/review.pdf?product=shop").status_code == 200
    assert ana.get(app.world.other_report_url).status_code == 403
    assert ana.get(app.world.report_url).status_code == 200
    assert clients["bo"].get(app.world.other_report_url).status_code == 200


def test_a_po_editing_the_product_in_a_callback_payload_is_refused(
        clients: dict[str, Any], dependencies: list[dict[str, Any]]) -> None:
    """Every callback that carries a product (the URL's query, the product selector, a
    page's stored product) is refused when it names one the PO does not look after."""
    ana, checked = clients["ana"], []
    for dep in guarded(dependencies):
        carried = [(i["id"], i["property"]) for i in [*dep["inputs"], *dep["state"]]
                   if i["property"] == "search" or i["id"].endswith("product")]
        if not carried:
            continue
        other, own = (callback_body(dep, naming(carried, p)) for p in (hostile.OTHER, "shop"))
        assert post(ana, other).status_code == 403, dep["output"]
        assert post(ana, own).status_code != 403, dep["output"]
        checked.append(output_key(dep["output"]))
    # the filters, the nav links, the alerts' actions, the models' chooser, the backlog grid
    assert len(checked) == 5, checked


def naming(carried: list[tuple[str, str]], product: str) -> dict[tuple[str, str], Any]:
    """Values naming `product` for each (id, property) that carries one."""
    return {key: f"?product={product}" if key[1] == "search" else product for key in carried}


def _alerts_action(trigger: dict[str, Any], product: str) -> dict[str, Any]:
    """The Alerts page's action callback as the renderer sends it for one click."""
    kind = trigger["type"]
    clicked = [{"id": trigger, "property": "n_clicks", "value": 1}]
    groups = {t: clicked if t == kind else []
              for t in ("alerts-ack", "alerts-retry", "alerts-discard")}
    return {
        "output": "alerts-body.children",
        "outputs": {"id": "alerts-body", "property": "children"},
        "inputs": [groups["alerts-ack"],
                   {"id": "alerts-silence-submit", "property": "n_clicks", "value": None},
                   groups["alerts-retry"], groups["alerts-discard"]],
        "state": [{"id": "alerts-silence-rule", "property": "value", "value": None},
                  {"id": "alerts-silence-for", "property": "value", "value": "1d"},
                  {"id": "alerts-silence-reason", "property": "value", "value": None},
                  {"id": "alerts-product", "property": "data", "value": product}],
        "changedPropIds": [json.dumps(trigger, sort_keys=True, separators=(",", ":"))
                           + ".n_clicks"],
    }


def test_a_po_cannot_act_on_another_products_alerts(app: HostileApp,
                                                    clients: dict[str, Any]) -> None:
    """The page's product is ana's, but the clicked alert or delivery is elsewhere's."""
    ana, store = clients["ana"], app.store
    dead = hostile.other_dead_letter(store)
    for trigger in ({"type": "alerts-ack", "fp": hostile.OTHER_FINGERPRINT},
                    {"type": "alerts-retry", "row": dead},
                    {"type": "alerts-discard", "row": dead}):
        answer = post(ana, _alerts_action(trigger, "shop"))
        assert answer.status_code in (200, 403), answer.get_data(as_text=True)[:300]
    alerts = queries.alerts(store, hostile.OTHER)
    assert alerts["acknowledged_by"].isna().all(), "ana acknowledged elsewhere's alert"
    outbox = queries.outbox(store, pending_only=False, product=hostile.OTHER)
    assert outbox["state"].tolist() == ["dead"], "ana retried or discarded its delivery"
    # the control: ana acknowledges shop's own alert
    answer = post(ana, _alerts_action({"type": "alerts-ack", "fp": hostile.SHOP_FINGERPRINT},
                                      "shop"))
    assert answer.status_code == 200
    assert queries.alerts(store, "shop")["acknowledged_by"].tolist() == ["ana"]


@pytest.mark.parametrize("pathname", [
    "/kpi/shop-board", "/kpi/shop-board/", "/kpi//shop-board", "/KPI/shop-board",
    "/kpi/%73hop-board", "/kpi/shop-board%00", "/kpi/shop-board?x=1", "/kpi/shop-board#x",
    "/kpi/shop-review/../shop-board", "/kpi/shop-review/../../admin", "/kpi/shop-review#/admin",
    "/kpi/shop-review%2f..%2fshop-board", "/admin#/kpi/shop-review", "//localhost/admin",
    "http://localhost/kpi/shop-board",
])
def test_a_stakeholder_editing_the_kpi_path_is_refused(clients: dict[str, Any],
                                                       pathname: str) -> None:
    """sam may open shop-review only: no other KPI page, nor any PO page, however the
    router's pathname is spelled (the guard and Dash's router must read it alike)."""
    answer = router(clients["sam"], pathname, "?end=2026-03-15")
    body = answer.get_data(as_text=True)
    shown = [m for m in ("Board", "kpi-velocity", "admin-audit", "kpi-objective-value")
             if m in body]
    assert refused(answer) or answer.status_code == 400 or (
        answer.status_code == 200 and not shown), (pathname, answer.status_code, body[:200])


def test_a_query_parameter_cannot_swap_the_kpi_page(clients: dict[str, Any]) -> None:
    """Dash passes query parameters over path variables: `?slug=` names another page
    while the guard checks the path's; the page itself checks again."""
    answer = router(clients["sam"], "/kpi/shop-review", "?slug=shop-board&end=2026-03-15")
    assert answer.status_code in (200, 403)
    body = answer.get_data(as_text=True)
    assert "Board" not in body and "kpi-velocity" not in body
    assert "kpi-objective-value" not in body
    # the control: lee, in the board's audience, sees it by its own path
    own = router(clients["lee"], "/kpi/shop-board", "?end=2026-03-15").get_data(as_text=True)
    assert "kpi-velocity-shop" in own


@pytest.mark.parametrize("shape", [5, "x", {"a": 1}, [5, "x"], None])
def test_a_malformed_callback_body_gets_a_4xx_whoever_sends_it(clients: dict[str, Any],
                                                               shape: Any) -> None:
    """The guard reads a body's inputs before the security layer checks its shape; a body
    whose `inputs` is not a list answered 500 to any signed-in user, stakeholders first."""
    for name in ("sam", "ana"):
        for key in ("inputs", "state"):
            body = {"output": "alerts-body.children", key: shape}
            answer = post(clients[name], body)
            assert 400 <= answer.status_code < 500, (name, key, shape, answer.status_code)
