"""Time the overview on the demo store: the page's data assembly and its full render.

Usage: .venv/bin/python benchmarks/overview.py [--demo-dir .dspo/demo] [--repeat 30]
Prints p50/p95 per product. Build the world first (`make run` or `dspo demo`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo-dir", type=Path, default=ROOT / ".dspo" / "demo")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    os.environ["DSPO_DEMO_DIR"] = str(args.demo_dir.resolve())

    from config.loader import load_config
    from dashboard.app import create_app
    from dashboard.services.overview import build_overview
    from store.db import Store

    cfg = load_config(ROOT / "config" / "demo.yaml")
    store = Store(cfg.store.url)
    app = create_app(cfg, store)
    from dashboard.pages import overview as page  # registers itself: only after the app exists
    print(f"store: {store.display_url}")
    print(f"{'product':<10} {'what':<28} {'p50 ms':>8} {'p95 ms':>8}")
    for product in cfg.products:
        names = [s.name for s in cfg.sources if s.product == product.key]

        def data(p=product, n=names) -> object:  # type: ignore[no-untyped-def]
            return build_overview(store, p, n, as_of=datetime.now(UTC))

        def render(key=product.key) -> object:  # type: ignore[no-untyped-def]
            with app.server.app_context():
                return page.layout(product=key).to_plotly_json()

        for what, fn in (("data (queries + KPIs)", data), ("layout incl. figures", render)):
            p50, p95 = timed(fn, args.repeat)
            print(f"{product.key:<10} {what:<28} {p50:8.1f} {p95:8.1f}")
    store.dispose()


if __name__ == "__main__":
    main()
