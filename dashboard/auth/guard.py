"""One check in front of every request: the principal, then the rule for what it asks.

- Static files, the sign-in routes and the health probes are open; the push API has its
  own bearer tokens.
- Without a principal: a GET of a page, a report or an export redirects to the sign-in
  page (and back after it); Dash's own requests and every other method answer 401.
- A page (GET of its path, and Dash's router callback that renders it) needs the page's
  audience; a callback needs the rule it was registered with (`access.callback`), and an
  unregistered callback is refused.
- A product named anywhere in a request (the `product` query parameter of the URL or of
  a callback's `url.search`, the product selector's value) must be one the principal
  looks after; editing a callback payload to read another product gets 403.
- Reports need the PO role for the product of their source.
- An export (`/export/<page>.pdf|.png`) needs exactly what the page it renders needs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import flask
from dash._pages import _path_to_page
from markupsafe import escape

from dashboard.auth.access import NEEDS, ROUTER_OUTPUT, Need, allows, page_access
from dashboard.auth.principal import Principal
from dashboard.health import HEALTH_PATHS

OPEN_PATHS = HEALTH_PATHS  # probes of load balancers and orchestrators
OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon", "/static/",
                 "/login", "/share/", "/auth/")
OWN_AUTH_PREFIXES = ("/api/v1/",)  # the push API: per-source bearer tokens
SHELL_PATHS = ("/_dash-layout", "/_dash-dependencies", "/_reload-hash", "/logout")
KPI_PREFIX = "/kpi/"
EXPORT_PREFIX, EXPORT_FORMATS = "/export/", (".pdf", ".png")

Audience = Callable[[str], "Iterable[str] | None"]  # a KPI page's audience, None if no page
ReportProduct = Callable[[str], "str | None"]  # the product of a reports/<source> path


def check(principal: Principal, audience: Audience, report_product: ReportProduct
          ) -> flask.Response | None:
    """None to let the request through, else the answer that refuses it."""
    request = flask.request
    path = request.path
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES) or path.startswith(OWN_AUTH_PREFIXES):
        return None
    if not principal.signed_in:
        return _to_sign_in(path)
    if path == "/_dash-update-component":
        return _check_callback(principal, audience)
    if path in SHELL_PATHS:
        return None
    if not _products_allowed(principal, request.args.getlist("product")):
        return _refuse("this product is not one you look after")
    if path.startswith("/reports/"):
        product = report_product(path)
        if product is None or not principal.sees_product(product):
            return _refuse("this report is not one you may open")
        return None
    if path.startswith(EXPORT_PREFIX):
        return _check_export(principal, path, audience)
    if request.method == "GET":
        return _check_page(principal, path, audience)
    return _refuse("not allowed")


def _check_page(principal: Principal, path: str, audience: Audience) -> flask.Response | None:
    need, slug = page_need(path)
    if need is None:  # not a page: Dash answers its own 404 page to those who may see pages
        return None if principal.kind == "user" and principal.role != "stakeholder" else \
            _refuse("no such page")
    if allows(principal, need, stakeholder_page=slug, audience=audience(slug) or ()):
        return None
    if principal.role == "stakeholder" or principal.kind == "share":
        home = landing(principal)
        if home != path:
            return flask.redirect(home)  # type: ignore[return-value]
    return _refuse("this page is not open to you")


def exported_page(path: str) -> str | None:
    """The page an export renders (`/export/kpi/q1.pdf` -> `/kpi/q1`), None if no export."""
    if not path.startswith(EXPORT_PREFIX) or not path.endswith(EXPORT_FORMATS):
        return None
    return "/" + path[len(EXPORT_PREFIX):].rsplit(".", 1)[0]


def _check_export(principal: Principal, path: str, audience: Audience) -> flask.Response | None:
    """Refused with 403, never a redirect: a file was asked for, not a page to land on."""
    page = exported_page(path)
    need, slug = page_need(page) if page else (None, None)
    if flask.request.method == "GET" and need is not None and allows(
            principal, need, stakeholder_page=slug, audience=audience(slug or "") or ()):
        return None
    return _refuse("this export is not open to you")


def page_need(path: str) -> tuple[Need | None, str | None]:
    """The need of the page at `path` and, for a KPI page, its slug; (None, None) if no page."""
    page, variables = _path_to_page(path.strip("/"))  # Dash matches paths without slashes
    if not page:
        return None, None
    access = page_access(page)
    slug = (variables or {}).get("slug") if access == "stakeholder" else None
    return Need(access, page.get("path", path)), slug


def landing(principal: Principal) -> str:
    """Where a principal's session starts: its shared page, the stakeholder home, the
    overview."""
    if principal.kind == "share" and principal.share_page:
        return KPI_PREFIX + principal.share_page
    if principal.role == "stakeholder":
        return KPI_PREFIX
    return "/"


def _check_callback(principal: Principal, audience: Audience) -> flask.Response | None:
    try:
        body = json.loads(flask.request.get_data(as_text=True) or "null")
        output = body["output"]
    except (ValueError, TypeError, KeyError):
        return _refuse("a callback request needs a JSON body with its output", status=400)
    if not isinstance(output, str):
        return _refuse("a callback request names its output as text", status=400)
    if output == ROUTER_OUTPUT:
        pathname = _input_value(body, "_pages_location", "pathname")
        search = _input_value(body, "_pages_location", "search")
        if not isinstance(pathname, str):
            return _refuse("which page?", status=400)
        if not _products_allowed(principal, _products_in_search(search)):
            return _refuse("this product is not one you look after")
        return _check_page(principal, urlsplit(pathname).path, audience)
    need = NEEDS.get(output)
    if need is None:
        return _refuse("this callback has no access rule")
    slug = _kpi_slug(body)
    if not allows(principal, need, stakeholder_page=slug, audience=audience(slug or "") or ()):
        return _refuse("this action or view is not open to you")
    if not _products_allowed(principal, list(_products_in_body(body))):
        return _refuse("this product is not one you look after")
    return None


def _values(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("inputs", "state"):
        items = body.get(key)
        if not isinstance(items, list):  # a hand-made body: the security layer answers 400
            continue
        for item in items:
            if isinstance(item, dict):
                yield item
            elif isinstance(item, list):  # pattern-matching (ALL) groups
                yield from (x for x in item if isinstance(x, dict))


def _input_value(body: dict[str, Any], component: str, prop: str) -> Any:
    for item in _values(body):
        if item.get("id") == component and item.get("property") == prop:
            return item.get("value")
    return None


def _products_in_search(search: Any) -> list[str]:
    if not isinstance(search, str):
        return []
    return parse_qs(search.lstrip("?")).get("product", [])


def _products_in_body(body: dict[str, Any]) -> Iterator[str]:
    """Every product a callback names: in a `search` (the URL's query), the product
    selector, or any component whose id ends in `-product` (a page's stored product)."""
    for item in _values(body):
        if item.get("property") == "search":
            yield from _products_in_search(item.get("value"))
        component, value = item.get("id"), item.get("value", item.get("data"))
        if isinstance(component, str) and component.endswith("product") \
                and isinstance(value, str):
            yield value


def _kpi_slug(body: dict[str, Any]) -> str | None:
    """The KPI page a callback acts on: the slug in `url.pathname` when it is a KPI page."""
    for item in _values(body):
        value = item.get("value")
        if item.get("property") == "pathname" and isinstance(value, str) \
                and value.startswith(KPI_PREFIX):
            return value[len(KPI_PREFIX):].strip("/") or None
    return None


def _products_allowed(principal: Principal, products: Iterable[str]) -> bool:
    if principal.role not in ("po", "admin"):
        return True  # stakeholder and share access is per page, checked there
    return all(principal.sees_product(p) for p in products if p)


def _to_sign_in(path: str) -> flask.Response:
    request = flask.request
    if request.method == "GET" and not path.startswith("/_dash"):
        target = request.full_path.rstrip("?")
        return flask.redirect("/login?next=" + quote(target, safe="/"))  # type: ignore[return-value]
    return _refuse("sign in first", status=401)


def _refuse(message: str, *, status: int = 403) -> flask.Response:
    """A JSON answer for callbacks and APIs, a short page for browsers."""
    if flask.request.path.startswith(("/_dash", "/api/")) or flask.request.is_json:
        return flask.make_response(flask.jsonify({"error": message}), status)
    page = (f"<!doctype html><title>dspo</title><p>{escape(message)}. "
            "<a href='/'>Home</a> · <a href='/login'>Sign in</a></p>")
    return flask.make_response(page, status)
