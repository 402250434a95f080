"""What a person waits for on the large store: cold page loads in Chromium, and 20 users at once.

Usage (build the store first with benchmarks/large_store.py):
    .venv/bin/python benchmarks/large_browser.py --config .dspo/large/dspo.yaml [--repeat 3]
    .venv/bin/python benchmarks/large_browser.py --config ... --load [--users 20 --seconds 60]
    ... [--server serve|gunicorn] [--workers 4] [--base-url http://127.0.0.1:8050/]

Default mode: every page opened in a fresh browser context (empty cache, signed in as an
admin through the sign-in form beforehand) in the system's headless Chromium, timed from
navigation start until the page's content is in and every chart has drawn its SVG. The
table says where the time went, in ms since navigation start: the HTML answered, the
last JS bundle arrived (and how many KB of JS came), the layout request (`_dash-layout`)
answered, the router callback (the page's content) answered, the charts were drawn.

`--load`: `--users` threads, each signed in with its own session (httpx), loading pages
in turn for `--seconds`: each load is the router callback a browser makes for that page
(the requests that carry the page's data; the static bundles are cached after the first
visit). Prints requests/s, p50/p95 in ms and errors, overall and per page.

`--server serve` runs `dspo serve` as it stands (dspo/devserver.py); `gunicorn` runs
`gunicorn dspo.wsgi:server` with `--workers` workers of 4 threads; `--base-url` times a
server already running on the config's store.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from large_pages import END, PRODUCT, SLUG, percentiles, router_body

from dspo.devserver import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ensure_user,
    free_port,
    serving,
    sign_in,
    wait_for_http,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update"]
TIMEOUT = 60.0
"""Seconds a simulated user waits for an answer before counting it an error."""
PAGES = ("/", "/sprint", "/flow", "/models", "/data", "/pipelines", "/usage", "/dora",
         "/map", "/ledger", "/review", "/alerts", "/sources", "/kpi", f"/kpi/{SLUG}",
         "/admin")
DRAWN = """() => {
  const content = document.getElementById('_pages_content');
  if (!content || !content.children.length) return null;
  if (document.querySelector('[data-dash-is-loading="true"]')) return null;
  for (const g of document.querySelectorAll('.dash-graph')) {
    if (!g.querySelector('.main-svg')) return null;
  }
  return performance.now();
}"""
TIMINGS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const js = res.filter(r => /\\.js(\\?|$)/.test(new URL(r.name).pathname + '?'));
  const layout = res.find(r => r.name.includes('/_dash-layout'));
  return {
    html: nav.responseEnd,
    js_end: Math.max(0, ...js.map(r => r.responseEnd)),
    js_kb: js.reduce((s, r) => s + r.encodedBodySize, 0) / 1024,
    js_count: js.length,
    layout_end: layout ? layout.responseEnd : 0,
    origin: performance.timeOrigin,
  };
}"""


def page_url(base: str, path: str) -> str:
    """The page as the benchmark opens it: product checkout as of the store's last day."""
    if path.startswith("/kpi/"):
        query = f"?end={END}"
    elif path in ("/kpi", "/admin"):
        query = ""
    else:
        query = f"?product={PRODUCT}&end={END}"
    return base.rstrip("/") + path + query


# ---------------------------------------------------------------- servers

@contextmanager
def gunicorn(config: Path, workers: int, log: Path) -> Iterator[str]:
    """`gunicorn dspo.wsgi:server` on a free port, as a deployment would run it."""
    port = free_port()
    binary = Path(sys.executable).parent / "gunicorn"
    env = {**os.environ, "DSPO_CONFIG": str(config)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "-w", str(workers), "--threads", "4", "-b", f"127.0.0.1:{port}",
             "dspo.wsgi:server"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        url = f"http://127.0.0.1:{port}/"
        try:
            wait_for_http(url + "login", timeout=120, process=process)
            yield url
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def server(args: argparse.Namespace) -> Iterator[str]:
    log = Path(f"/tmp/dspo-large-{args.server}.log")
    if args.base_url:
        yield args.base_url
    elif args.server == "gunicorn":
        with gunicorn(args.config, args.workers, log) as url:
            yield url
    else:
        with serving(args.config, {}, log) as url:
            yield url


# ---------------------------------------------------------------- cold loads

@dataclass
class Load:
    html: float
    js_end: float
    js_kb: float
    js_count: int
    layout_end: float
    router_end: float
    drawn: float


def cold_load(browser: Any, state: Any, url: str, timeout: float = 60.0) -> Load:
    """Open `url` in a fresh context (cold cache) and wait until its charts are drawn."""
    context = browser.new_context(storage_state=state)
    page = context.new_page()
    routers: list[Any] = []
    page.on("requestfinished", lambda req: routers.append(req)
            if "_dash-update-component" in req.url and "_pages_content" in (req.post_data or "")
            else None)
    try:
        page.goto(url, wait_until="commit")
        deadline = time.monotonic() + timeout
        drawn = None
        while drawn is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not drawn within {timeout:.0f} s")
            drawn = page.evaluate(DRAWN)
            if drawn is None:
                time.sleep(0.01)
        t = page.evaluate(TIMINGS)
        router_end = 0.0
        if routers:
            timing = routers[0].timing
            router_end = timing["startTime"] - t["origin"] + timing["responseEnd"]
        return Load(t["html"], t["js_end"], t["js_kb"], t["js_count"], t["layout_end"],
                    router_end, float(drawn))
    finally:
        context.close()


def browser_table(base: str, config: Path, repeat: int) -> None:
    from playwright.sync_api import sync_playwright

    username, password = ensure_user(config, {}, "bench-browser")
    args = sorted(set(CHROMIUM_ARGS) | set(BENCH_ARGS))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        signer = browser.new_context()
        page = signer.new_page()
        sign_in(page, base, username, password)
        state = signer.storage_state()
        signer.close()
        print(f"cold loads in headless Chromium, median of {repeat}; ms since navigation start")
        print(f"{'page':<16} {'HTML':>6} {'JS end':>7} {'JS KB':>7} {'#JS':>4} "
              f"{'layout':>7} {'router':>7} {'drawn':>7} {'drawn max':>9}")
        for path in PAGES:
            cold_load(browser, state, page_url(base, path))  # warms the server, not the browser
            loads = [cold_load(browser, state, page_url(base, path)) for _ in range(repeat)]
            med = {k: statistics.median(getattr(x, k) for x in loads)
                   for k in Load.__dataclass_fields__}
            print(f"{path:<16} {med['html']:>6.0f} {med['js_end']:>7.0f} {med['js_kb']:>7.0f} "
                  f"{med['js_count']:>4.0f} {med['layout_end']:>7.0f} {med['router_end']:>7.0f} "
                  f"{med['drawn']:>7.0f} {max(x.drawn for x in loads):>9.0f}")
        browser.close()


# ---------------------------------------------------------------- load

@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, path: str, ms: float, error: str | None) -> None:
        with self.lock:
            if error is None:
                self.samples[path].append(ms)
            else:
                self.errors[path] += 1
                self.reasons[error] += 1


def signed_in_client(base: str, username: str, password: str) -> Any:
    """An httpx client with a session and the CSRF cookie, as a browser has after sign-in."""
    import httpx

    client = httpx.Client(base_url=base, timeout=TIMEOUT, follow_redirects=False)
    form = client.get("/login").text
    token = re.search(r'name="form_token" value="([^"]+)"', form)
    if token is None:
        raise RuntimeError("no sign-in form at /login")
    answer = client.post("/login", data={"username": username, "password": password,
                                         "form_token": token.group(1), "next": "/"})
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in refused: {answer.status_code}")
    client.get("/")  # a page load sets the CSRF cookie
    client.headers["X-CSRFToken"] = client.cookies.get("_csrf_token") or ""
    return client


def user_loop(client: Any, offset: int, until: float, results: Results) -> None:
    """Load the pages in turn (each user starting elsewhere) until the clock runs out."""
    import httpx

    i = offset
    while time.monotonic() < until:
        path = PAGES[i % len(PAGES)]
        i += 1
        search = page_url("", path)[len(path):]
        t0 = time.perf_counter()
        error: str | None = None
        try:
            answer = client.post("/_dash-update-component", json=router_body(path, search))
            error = None if answer.status_code == 200 else f"HTTP {answer.status_code}"
        except httpx.HTTPError as e:  # a timeout or reset is an error to count, not to stop on
            error = type(e).__name__
        results.add(path, (time.perf_counter() - t0) * 1000, error)


def load_table(base: str, config: Path, users: int, seconds: float) -> None:
    username, password = ensure_user(config, {}, "bench-load")
    clients = [signed_in_client(base, username, password) for _ in range(users)]
    results = Results()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=user_loop, args=(c, n, until, results))
               for n, c in enumerate(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    for c in clients:
        c.close()
    every = [ms for s in results.samples.values() for ms in s]
    errors = sum(results.errors.values())
    p50, p95 = percentiles(every) if every else (0.0, 0.0)
    print(f"{users} users for {seconds:.0f} s: {len(every) + errors} requests, "
          f"{(len(every) + errors) / elapsed:.1f} requests/s, p50 {p50:.0f} ms, "
          f"p95 {p95:.0f} ms, {errors} errors {dict(results.reasons) or ''}")
    print(f"{'page':<16} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}")
    for path in PAGES:
        s = results.samples.get(path, [])
        a, b = percentiles(s) if s else (0.0, 0.0)
        print(f"{path:<16} {len(s):>8} {a:>8.0f} {b:>8.0f} {results.errors.get(path, 0):>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / ".dspo" / "large" / "dspo.yaml")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--server", choices=("serve", "gunicorn"), default="serve")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--base-url", default=None)
    args = parser.parse_args()
    args.config = args.config.resolve()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    with server(args) as base:
        print(f"server: {args.base_url or args.server}"
              f"{f' ({args.workers} workers)' if args.server == 'gunicorn' else ''}; {base}")
        if args.load:
            load_table(base, args.config, args.users, args.seconds)
        else:
            browser_table(base, args.config, args.repeat)


if __name__ == "__main__":
    main()
