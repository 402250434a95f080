"""Time every page of the dashboard on the demo store, as its callback runs on the server.

Usage: .venv/bin/python benchmarks/pages.py [--demo-dir .dspo/demo] [--repeat 20]
Prints p50/p95 in milliseconds of each page's layout (store reads, KPIs, figures and the
JSON Dash sends), per product. Build the world first (`make run` or `dspo demo`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import plotly.io as pio

ROOT = Path(__file__).resolve().parent.parent


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, round(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo-dir", type=Path, default=ROOT / ".dspo" / "demo")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ["DSPO_DEMO_DIR"] = str(args.demo_dir.resolve())

    import dash

    from config.loader import load_config
    from dashboard.app import create_app
    from store.db import Store

    cfg = load_config(ROOT / "config" / "demo.yaml")
    store = Store(cfg.store.url)
    app = create_app(cfg, store)
    print(f"store: {store.display_url}; {args.repeat} runs each")
    print(f"{'page':<16} {'product':<8} {'p50 ms':>8} {'p95 ms':>8}")
    pages = sorted(dash.page_registry.values(), key=lambda p: p.get("order") or 0)
    for page in pages:
        for product in cfg.products:
            def render(layout=page["layout"], key=product.key) -> object:  # type: ignore[no-untyped-def]
                with app.server.test_request_context():
                    return pio.json.to_json_plotly(layout(product=key))

            p50, p95 = timed(render, args.repeat)
            print(f"{page['name']:<16} {product.key:<8} {p50:8.1f} {p95:8.1f}")
    store.dispose()


if __name__ == "__main__":
    main()
