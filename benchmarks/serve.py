"""What the server `dspo serve` runs costs: start, concurrent answers, stop.

Usage: .venv/bin/python benchmarks/serve.py [--rounds 3] [--clients 8] [--requests 25]

On a fresh SQLite store with one product and one admin, for each way of serving (Werkzeug
with --dev, as `dspo serve` did before; gunicorn as the browser tests run it, one worker x
8 threads; gunicorn with its default workers), in rounds that alternate the ways so a
busy machine slows each alike:

- start: from launching `dspo serve` to the first answer of /login;
- answers: `--clients` clients at once, each sending `--requests` requests for a signed-in
  page (`/`, the HTML shell Dash serves) on its own keep-alive connection: requests/s and
  latency p50/p95;
- stop: from SIGTERM, with one idle keep-alive client still connected, to the exit.

Prints the median of the rounds per way.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from dspo.devserver import free_port, wait_for_http
from dspo.server import default_workers, usable_cores
from dspo.users import add
from store.db import Store

PASSWORD = "benchmark-password-0123"
DSPO = Path(sys.executable).parent / "dspo"
WAYS = {
    "werkzeug (--dev)": ("--dev",),
    "gunicorn 1 worker x 8 threads": ("--workers", "1", "--threads", "8"),
    f"gunicorn {default_workers(usable_cores())} workers x 4 threads (default)": (),
}


def sign_in(url: str) -> httpx.Cookies:
    form = httpx.get(url + "login", timeout=60)
    token = re.search(r'name="form_token" value="([^"]+)"', form.text)
    assert token, form.text
    answer = httpx.post(url + "login", cookies=form.cookies, timeout=60, data={
        "username": "bench", "password": PASSWORD, "form_token": token.group(1)})
    assert answer.status_code == 302, answer.status_code
    cookies = httpx.Cookies(form.cookies)
    cookies.update(answer.cookies)
    return cookies


def client(url: str, cookies: httpx.Cookies, requests: int) -> list[float]:
    timings = []
    with httpx.Client(cookies=cookies, timeout=60) as http:
        for _ in range(requests):
            t = time.perf_counter()
            assert http.get(url).status_code == 200
            timings.append((time.perf_counter() - t) * 1000)
    return timings


def one_round(config: Path, args: tuple[str, ...], clients: int, requests: int,
              log: Path) -> dict[str, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    t0 = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(DSPO), "serve", "-c", str(config), "--port", str(port), *args],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"})
    try:
        wait_for_http(url + "login", timeout=120, process=process)
        started = time.perf_counter() - t0
        cookies = sign_in(url)
        t1 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            ms = [m for part in pool.map(lambda _: client(url, cookies, requests),
                                         range(clients)) for m in part]
        seconds = time.perf_counter() - t1
        with httpx.Client(timeout=60) as idle:
            idle.get(url + "login")
            t2 = time.perf_counter()
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
            stopped = time.perf_counter() - t2
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    ms.sort()
    return {"start": started, "rps": len(ms) / seconds, "p50": statistics.median(ms),
            "p95": ms[int(0.95 * (len(ms) - 1))], "stop": stopped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=25)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store(f"sqlite:///{folder / 'dspo.db'}")
        store.upgrade()
        add(store, "bench", "admin", password=PASSWORD)
        store.dispose()
        config = folder / "dspo.yaml"
        config.write_text(f'store: {{url: "{store.url}"}}\n'
                          "products: [{key: churn, name: Churn}]\n")
        for _ in range(args.rounds):
            for way, extra in WAYS.items():
                results[way].append(one_round(config, extra, args.clients, args.requests,
                                              folder / "serve.log"))
    print(f"`dspo serve`, {usable_cores()} cores, {args.clients} clients x {args.requests} "
          f"requests for /, median of {args.rounds} rounds")
    print(f"| {'server':<44} | start s | requests/s | p50 ms | p95 ms | stop s |")
    print(f"|{'-' * 46}|---------|------------|--------|--------|--------|")
    for way, rounds in results.items():
        m = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        print(f"| {way:<44} | {m['start']:7.2f} | {m['rps']:10.0f} | {m['p50']:6.1f} "
              f"| {m['p95']:6.1f} | {m['stop']:6.2f} |")


if __name__ == "__main__":
    main()
