"""PDF and PNG of a KPI page, the sprint page and the sprint review, made on the server.

`GET /export/kpi/<slug>.pdf|.png[?end=]`, `GET /export/sprint.pdf|.png?product=&sprint=`
and `GET /export/review.pdf|.png?product=&sprint=` render the page in the system Chromium
(Playwright, `executable_path=/usr/bin/chromium`, never a downloaded browser), exactly as
the person asking sees it: the browser carries their session cookie, so every request it
makes passes the same guard with the same principal, and the guard lets an export through
only to those who may open its page (`dashboard.auth.guard`). It loads the page from this
server on 127.0.0.1 and every other request is aborted, so an export works offline and
reaches nothing else. It prints with the print stylesheet (`assets/print.css`: no
navigation, no panels).

The server answers its own browser while the export waits, so it must serve requests
concurrently: `dspo serve` does (threads); under gunicorn give it two workers or threads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import flask

from dashboard.auth.principal import current as current_principal
from dashboard.context import current
from dashboard.stakeholders import may_open
from dspo.devserver import CHROMIUM, CHROMIUM_ARGS

RENDER_TIMEOUT_MS = 45_000
VIEWPORT = {"width": 1080, "height": 760}  # about an A4 landscape page's printable width
PDF_OPTIONS: dict[str, Any] = {"format": "A4", "landscape": True, "print_background": True,
                               "margin": {"top": "10mm", "bottom": "10mm", "left": "10mm",
                                          "right": "10mm"}}
MEDIA_TYPES = {"pdf": "application/pdf", "png": "image/png"}
SPRINT_KEYS = ("product", "sprint", "start", "end")
CHARTS_DRAWN = """() => {
  const content = document.getElementById('_pages_content');
  if (!content || !content.querySelector(READY)) return false;
  if (document.querySelector('[data-dash-is-loading="true"]')) return false;
  return [...content.querySelectorAll('.js-plotly-plot, .dash-graph')]
    .every(g => g.querySelector('.main-svg'));
}"""


class ExportUnavailable(RuntimeError):
    """The server cannot render now; the message says why and what to do."""


def register_exports(server: flask.Flask) -> None:
    @server.get("/export/kpi/<slug>.<any(pdf, png):kind>")
    def export_kpi(slug: str, kind: str) -> flask.Response:
        page = current().config.stakeholder_page(slug)
        if page is None:
            return _answer(404, f"No KPI page {slug!r}.")
        if not may_open(current_principal(), page):
            return _answer(403, "This KPI page is not open to you.")
        query = _query(("end",))
        return _export(f"/kpi/{slug}{query}", kind, f"kpi-{slug}", "#kpi-page")

    @server.get("/export/sprint.<any(pdf, png):kind>")
    def export_sprint(kind: str) -> flask.Response:
        name = "sprint-" + "-".join(flask.request.args.get(k, "") for k in ("product", "sprint"))
        return _export(f"/sprint{_query(SPRINT_KEYS)}", kind, name.strip("-"),
                       "#sprint-burndown, [data-testid=empty-state]")

    @server.get("/export/review.<any(pdf, png):kind>")
    def export_review(kind: str) -> flask.Response:
        name = "review-" + "-".join(flask.request.args.get(k, "") for k in ("product", "sprint"))
        return _export(f"/review{_query(SPRINT_KEYS)}", kind, name.strip("-"),
                       "#review-delivered-chart, [data-testid=empty-state]")


def _query(keys: tuple[str, ...]) -> str:
    args = {k: flask.request.args[k] for k in keys if flask.request.args.get(k)}
    return f"?{urlencode(args)}" if args else ""


def _answer(status: int, message: str) -> flask.Response:
    response = flask.make_response(message + "\n", status)
    response.mimetype = "text/plain"
    return response


def _export(path: str, kind: str, name: str, ready: str) -> flask.Response:
    request = flask.request
    app = flask.current_app
    cookie_name = app.config.get("SESSION_COOKIE_NAME") or "session"
    try:
        data = render(local_base_url(request.environ) + path, kind, ready,
                      {cookie_name: request.cookies.get(cookie_name, "")},
                      app.config.get("TRUSTED_HOSTS"))
    except ExportUnavailable as e:
        return _answer(503, str(e))
    response = flask.make_response(data)
    response.mimetype = MEDIA_TYPES[kind]
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{kind}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def local_base_url(environ: dict[str, Any]) -> str:
    """This server on 127.0.0.1, at the port it listens on (before any proxy's headers)."""
    original = environ.get("werkzeug.proxy_fix.orig") or environ
    return f"http://127.0.0.1:{original.get('SERVER_PORT') or environ.get('SERVER_PORT')}"


def render(url: str, kind: str, ready: str, cookies: dict[str, str],
           trusted_hosts: list[str] | None = None) -> bytes:
    """The page at `url` as PDF or PNG bytes, once `ready` shows and its charts are drawn."""
    if not Path(CHROMIUM).exists():
        raise ExportUnavailable(f"PDF and PNG export needs Chromium at {CHROMIUM} "
                                "(apt-get install chromium); it is not installed here.")
    if trusted_hosts and "127.0.0.1" not in trusted_hosts:
        raise ExportUnavailable("Exports render the page from 127.0.0.1: add 127.0.0.1 to "
                                "dashboard.trusted_hosts.")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        raise ExportUnavailable("PDF and PNG export needs the playwright package "
                                "(pip install playwright; no browser download).") from e
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                return _draw(browser, url, kind, ready, cookies)
            finally:
                browser.close()
    except PlaywrightError as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ExportUnavailable(f"The page could not be rendered: {first}") from e


def _draw(browser: Any, url: str, kind: str, ready: str, cookies: dict[str, str]) -> bytes:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(RENDER_TIMEOUT_MS)
    context.add_cookies([{"name": n, "value": v, "url": url, "httpOnly": True,
                          "sameSite": "Lax"} for n, v in cookies.items() if v])
    context.route("**/*", _local_only)
    page = context.new_page()
    page.emulate_media(media="print")
    page.goto(url)
    page.wait_for_function(CHARTS_DRAWN.replace("READY", repr(ready)))
    page.evaluate("document.fonts.ready.then(() => true)")
    if kind == "pdf":
        return bytes(page.pdf(**PDF_OPTIONS))
    return bytes(page.screenshot(full_page=True))


def _local_only(route: Any) -> None:
    """Requests to this server go on; anything else (a CDN, a tracker) is aborted."""
    if urlsplit(route.request.url).hostname == "127.0.0.1":
        route.continue_()
    else:
        route.abort()
