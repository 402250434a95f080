"""Server-side cost of every page and callback on the large store, and what each one ships.

Usage (build the store first with benchmarks/large_store.py):
    .venv/bin/python benchmarks/large_pages.py --config .dspo/large/dspo.yaml [--repeat 20]
        [--start 2024-11-30]

For each page, as an admin signed in through the sign-in form, p50/p95 in milliseconds of:
- render: the page's layout function called as Dash's router callback calls it (with the
  URL's query as keyword arguments, inside the app's request context, with the admin as
  the request's principal), plus the JSON Dash would send (`to_json_plotly`);
- router: the router callback through Flask's test client (the request a browser sends
  after the layout, with the guard, CSRF check and serialisation), with its answer's size
  and the largest trace in it (points and bytes).
Then the other server callbacks (filters, page links, the Models selectors, a page of 20
rows of the Flow page's backlog grid, plain and filtered and sorted) the same way.
Callbacks that change the store (alert actions, share links) are not timed. With `--cold`
the per-worker page cache (`dashboard/cache.py`) is emptied before every call, so the
figures are the pages' computation rather than cache hits.
Pages are opened on product `checkout` as of the store's last day (`end=2026-11-29`),
over the page's default range unless `--start` widens it (e.g. 2 years).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "bench", "bench-password-not-secret"
PRODUCT, END = "checkout", "2026-11-29"
SLUG = f"{PRODUCT}-review"
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
FILTERS_OUTPUT = ("..url.search...filter-product.value...filter-dates.start_date"
                  "...filter-dates.end_date..")


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 (nearest rank) of milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(len(ordered) * 0.95) - 1)]


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """p50, p95 in ms over `repeat` calls, after one untimed warm-up; the last answer."""
    answer = fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        answer = fn()
        samples.append((time.perf_counter() - t0) * 1000)
    p50, p95 = percentiles(samples)
    return p50, p95, answer


def page_paths() -> list[tuple[str, str, str]]:
    """(name, path, path for the layout) of every registered page, in menu order."""
    import dash

    out = []
    for page in sorted(dash.page_registry.values(), key=lambda p: p.get("order") or 0):
        path = page.get("path_template") or page["path"]
        out.append((page["name"], path.replace("<slug>", SLUG), page["module"]))
    return out


def query_of(path: str, start: str | None) -> dict[str, str]:
    """The URL query the benchmark opens `path` with."""
    if path.startswith("/kpi/"):
        return {"end": END}
    if path in ("/kpi", "/admin"):
        return {}
    query = {"product": PRODUCT, "end": END}
    return {**query, "start": start} if start else query


def search_of(query: dict[str, str]) -> str:
    return "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""


# ---------------------------------------------------------------- traces in an answer

@dataclass(frozen=True)
class Trace:
    points: int
    bytes: int


def traces(node: Any) -> Iterator[Any]:
    """Every plotly trace (a dict in a figure's `data` list) anywhere in a JSON answer."""
    if isinstance(node, dict):
        data = node.get("data")
        if "layout" in node and isinstance(data, list):
            yield from (t for t in data if isinstance(t, dict))
        for value in node.values():
            yield from traces(value)
    elif isinstance(node, list):
        for value in node:
            yield from traces(value)


def points_of(trace: dict[str, Any]) -> int:
    """A trace's points: the longest of its coordinate arrays (plotly may ship them typed)."""
    longest = 0
    for axis in ("x", "y", "values", "z"):
        value = trace.get(axis)
        if isinstance(value, list):
            longest = max(longest, len(value))
        elif isinstance(value, dict) and "bdata" in value:  # base64 typed array
            shape = value.get("shape")
            longest = max(longest, int(str(shape).split(",")[0]) if shape else
                          len(value["bdata"]) * 3 // 4 // _itemsize(str(value.get("dtype"))))
    return longest


def _itemsize(dtype: str) -> int:
    digits = re.sub(r"\D", "", dtype)
    return max(1, int(digits) // 8) if digits else 8


def largest_trace(answer: Any) -> Trace:
    found = [Trace(points_of(t), len(json.dumps(t, separators=(",", ":"))))
             for t in traces(answer)]
    return max(found, key=lambda t: t.bytes, default=Trace(0, 0))


# ---------------------------------------------------------------- the app in-process

@dataclass
class Bench:
    app: Any
    store: Any
    client: Any
    csrf: str


def open_app(config_path: Path) -> Bench:
    """The dashboard as `dspo serve` builds it, with the benchmark's admin signed in."""
    from config.loader import load_config
    from dashboard.app import create_app
    from dspo.users import add, reset_password
    from store.db import Store
    from store.people import find_user

    config = load_config(config_path)
    store = Store(config.store.url)
    with store.session() as s:
        exists = find_user(s, USER) is not None
    issued = (reset_password(store, USER) if exists
              else add(store, USER, "admin", password=PASSWORD))
    app = create_app(config, store)
    client = app.server.test_client()
    _sign_in(client, issued.username, issued.password)
    client.get("/")  # sets the CSRF cookie, as a page load does
    cookie = client.get_cookie("_csrf_token")
    return Bench(app, store, client, cookie.value if cookie else "")


def _sign_in(client: Any, username: str, password: str) -> None:
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', form)
    if token is None:
        raise RuntimeError("no sign-in form at /login")
    answer = client.post("/login", data={"username": username, "password": password,
                                         "form_token": token.group(1), "next": "/"})
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in refused: {answer.status_code}")


def callback(bench: Bench, body: dict[str, Any]) -> Any:
    answer = bench.client.post("/_dash-update-component", json=body,
                               headers={"X-CSRFToken": bench.csrf})
    if answer.status_code not in (200, 204):
        raise RuntimeError(f"callback answered {answer.status_code}: "
                           f"{answer.get_data(as_text=True)[:200]}")
    return answer


def router_body(path: str, search: str) -> dict[str, Any]:
    """Dash's page router callback, as the browser sends it after the layout."""
    return {"output": ROUTER_OUTPUT,
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"]}


def cold(bench: Bench, fn: Callable[[], object]) -> Callable[[], object]:
    """`fn` after emptying the per-worker page cache: the computation, not a cache hit."""
    cache = bench.app.server.extensions["dspo"].cache

    def run() -> object:
        cache.clear()
        return fn()

    return run


def render(bench: Bench, module: str, query: dict[str, str]) -> Callable[[], object]:
    """The page's layout and its JSON, inside a request made by the signed-in admin."""
    import dash
    import flask
    import plotly.io as pio

    from dashboard.auth.principal import user_named

    layout = next(p["layout"] for p in dash.page_registry.values() if p["module"] == module)
    principal = user_named(bench.store, USER)

    def run() -> object:
        with bench.app.server.test_request_context("/_dash-update-component", method="POST"):
            flask.g.principal = principal
            kwargs = {"slug": SLUG, **query} if module.endswith(".kpi") else query
            return pio.json.to_json_plotly(layout(**kwargs))

    return run


# ---------------------------------------------------------------- the other callbacks

def other_callbacks(search: str) -> dict[str, dict[str, Any]]:
    """Bodies of the server callbacks that read, as the browser sends them."""
    options = [{"label": PRODUCT, "value": PRODUCT}]
    return {
        "filters (url changed)": {
            "output": FILTERS_OUTPUT,
            "outputs": [{"id": "url", "property": "search"},
                        {"id": "filter-product", "property": "value"},
                        {"id": "filter-dates", "property": "start_date"},
                        {"id": "filter-dates", "property": "end_date"}],
            "inputs": [{"id": "url", "property": "search", "value": search},
                       {"id": "filter-product", "property": "value", "value": PRODUCT},
                       {"id": "filter-dates", "property": "start_date", "value": None},
                       {"id": "filter-dates", "property": "end_date", "value": END}],
            "state": [{"id": "filter-product", "property": "options", "value": options}],
            "changedPropIds": ["url.search"]},
        "page links": {
            "output": '{"path":["ALL"],"type":"nav-link"}.href',
            "outputs": [{"id": {"path": "/", "type": "nav-link"}, "property": "href"},
                        {"id": {"path": "/models", "type": "nav-link"}, "property": "href"}],
            "inputs": [{"id": "url", "property": "search", "value": search}],
            "state": [[{"id": {"path": "/", "type": "nav-link"}, "property": "id",
                        "value": {"path": "/", "type": "nav-link"}},
                       {"id": {"path": "/models", "type": "nav-link"}, "property": "id",
                        "value": {"path": "/models", "type": "nav-link"}}]],
            "changedPropIds": ["url.search"]},
        "flow grid, 20 rows": flow_grid({}, []),
        "flow grid, bugs by pts": flow_grid(
            {"type": {"filterType": "text", "type": "equals", "filter": "bug"}},
            [{"colId": "points", "sort": "desc"}]),
    }


def flow_grid(filters: dict[str, Any], sort: list[dict[str, str]]) -> dict[str, Any]:
    """The Flow page's backlog grid asking for its first page of 20 rows."""
    request = {"startRow": 0, "endRow": 20, "filterModel": filters, "sortModel": sort}
    return {"output": "flow-backlog-grid.getRowsResponse",
            "outputs": {"id": "flow-backlog-grid", "property": "getRowsResponse"},
            "inputs": [{"id": "flow-backlog-grid", "property": "getRowsRequest",
                        "value": request}],
            "state": [{"id": "flow-backlog-product", "property": "data", "value": PRODUCT}],
            "changedPropIds": ["flow-backlog-grid.getRowsRequest"]}


def models_selector(bench: Bench) -> dict[str, Any] | None:
    """The Models page's model/metric selector callback (its id is a hash Dash makes)."""
    deps = bench.client.get("/_dash-dependencies").get_json()
    found = next((d for d in deps if any(i["id"] == "models-model" for i in d["inputs"])),
                 None)
    if found is None:
        return None
    return {"output": found["output"],
            "outputs": {"id": "url", "property": "search"},
            "inputs": [{"id": "models-model", "property": "value",
                        "value": f"{PRODUCT}-model-1"},
                       {"id": "models-metric", "property": "value", "value": "auc"}],
            "state": [{"id": "models-shown", "property": "data",
                       "value": {"model": f"{PRODUCT}-model-0", "metric": "auc"}},
                      {"id": "url", "property": "search", "value": f"?product={PRODUCT}"}],
            "changedPropIds": ["models-model.value"]}


# ---------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / ".dspo" / "large" / "dspo.yaml")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--start", default=None, help="range start (default: the page's)")
    parser.add_argument("--pages", default="", help="comma-separated paths (default: all)")
    parser.add_argument("--cold", action="store_true",
                        help="empty the per-worker page cache before every call")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    bench = open_app(args.config)
    wanted = {p for p in args.pages.split(",") if p}
    print(f"store: {bench.store.display_url}; {args.repeat} runs each after one warm-up; "
          f"product {PRODUCT}, end {END}, start {args.start or 'default'}"
          f"{'; page cache emptied before each call' if args.cold else ''}")
    print(f"{'page':<18} {'render p50':>10} {'p95':>7} {'router p50':>10} {'p95':>7} "
          f"{'answer KB':>10} {'trace pts':>10} {'trace KB':>9}")
    for name, path, module in page_paths():
        if wanted and path not in wanted:
            continue
        query = query_of(path, args.start)
        page = render(bench, module, query)
        body = router_body(path, search_of(query))
        router: Callable[[], object] = partial(callback, bench, body)
        if args.cold:
            page, router = cold(bench, page), cold(bench, router)
        r50, r95, _ = timed(page, args.repeat)
        c50, c95, answer = timed(router, args.repeat)
        data = answer.get_data()  # type: ignore[attr-defined]
        trace = largest_trace(json.loads(data))
        print(f"{name:<18} {r50:>10.1f} {r95:>7.1f} {c50:>10.1f} {c95:>7.1f} "
              f"{len(data) / 1024:>10.1f} {trace.points:>10,} {trace.bytes / 1024:>9.1f}")
    print(f"\n{'callback':<24} {'p50 ms':>8} {'p95 ms':>8}")
    bodies = other_callbacks(search_of(query_of("/", args.start)))
    selector = models_selector(bench)
    if selector is not None:
        bodies["models selector"] = selector
    for name, body in bodies.items():
        p50, p95, _ = timed(partial(callback, bench, body), args.repeat)
        print(f"{name:<24} {p50:>8.1f} {p95:>8.1f}")
    bench.store.dispose()


if __name__ == "__main__":
    main()
