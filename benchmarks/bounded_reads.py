"""Reads that must stay small whatever the history: one long series, timed through dspo.

Usage: .venv/bin/python benchmarks/bounded_reads.py [--dir /tmp/dspo-bounded]
       [--points 1000000] [--series 20000] [--repeat 20]

Builds (once per folder) the small world of `tests/world/small.py` on SQLite, plus
`--points` points in the champion's `auc` series (run r2) and as many in the `dau` usage
series, spread over the 92 days before the world's end, plus `--series` one-point metric
series of other runs (a registry with many runs). Then prints p50/p95 in milliseconds of
the 2,000-point chart reads and of the Overview, Models and Usage pages' server-side
render (layout plus the JSON Dash sends; the per-worker cache cleared before each, and once
more for the Overview served from it), and each page's JSON bytes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pages import timed  # noqa: E402  (benchmarks/pages.py: the same p50/p95 timer)

from store import records as r  # noqa: E402
from store.db import Store  # noqa: E402
from store.writer import write_records  # noqa: E402
from tests.world import small  # noqa: E402

SPAN = timedelta(days=92)


def _long(kind: r.SeriesKind, name: str, labels: dict[str, str], points: int,
          base: float, unit: str = "") -> Iterator[r.Point]:
    """`points` values evenly over SPAN up to the world's end, a slow wave around `base`."""
    first = small.AS_OF - SPAN
    gap = SPAN / points
    for i in range(points):
        yield r.Point(small.PRODUCT, kind, name, first + i * gap,
                      base * (1 + 0.05 * ((i * 7919) % 1000) / 1000), labels=labels,
                      unit=unit)


def build(folder: Path, points: int, series: int) -> Path:
    """The world's folder with its big series written (skipped when already built)."""
    marker = folder / "built"
    if marker.exists():
        return folder / "dspo.yaml"
    world = small.build(folder)
    store = Store(world.config.store.url)
    try:
        t0 = time.perf_counter()
        with store.session() as session:
            write_records(session, "mlflow", _long(r.SeriesKind.MODEL_METRIC, "auc",
                                                   {"run_id": "r2"}, points, 0.84),
                          batch_size=10_000)
        with store.session() as session:
            write_records(session, "product-db", _long(r.SeriesKind.USAGE, "dau", {}, points,
                                                       1000.0, "users"), batch_size=10_000)
        with store.session() as session:
            write_records(session, "mlflow", (
                r.Point(small.PRODUCT, r.SeriesKind.MODEL_METRIC, "loss", small.AS_OF,
                        float(i), labels={"run_id": f"other-{i}"}) for i in range(series)),
                          batch_size=10_000)
        print(f"built {folder} in {time.perf_counter() - t0:.0f} s")
    finally:
        store.dispose()
    marker.touch()
    return folder / "dspo.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/dspo-bounded"))
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--series", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    path = build(args.dir, args.points, args.series)

    import plotly.io as pio

    from config.loader import load_config
    from dashboard.app import create_app
    from store import queries

    cfg = load_config(path)
    store = Store(cfg.store.url)
    app = create_app(cfg, store)
    from dashboard.pages import models, overview, usage  # registered once the app exists
    start = (small.AS_OF - SPAN).date().isoformat()
    query = {"product": small.PRODUCT, "start": start, "end": small.END}

    cache = app.server.extensions["dspo"].cache

    def page(module: object, cached: bool = False) -> Callable[[], str]:
        def render() -> str:
            if not cached:
                cache.clear()  # time the computation, not a hit of the per-worker cache
            with app.server.test_request_context():
                return str(pio.json.to_json_plotly(module.layout(**query)))  # type: ignore[attr-defined]
        return render

    checks: list[tuple[str, Callable[[], object]]] = [
        ("chart read: dau, 2,000 points", lambda: queries.series_points(
            store, small.PRODUCT, r.SeriesKind.USAGE, "dau", max_points=2000)),
        ("chart read: auc of v2, 2,000", lambda: queries.model_metric_points(
            store, small.PRODUCT, "rec", "2", "auc", max_points=2000)),
        ("latest point: dau", lambda: queries.latest_point(
            store, small.PRODUCT, r.SeriesKind.USAGE, "dau")),
        ("Overview render", page(overview)),
        ("Models render", page(models)),
        ("Usage render", page(usage)),
        ("Overview render, cached", page(overview, cached=True)),
    ]
    print(f"store: {store.display_url}; {args.points:,} points in auc (r2) and in dau, "
          f"{args.series:,} other series; {args.repeat} runs each")
    print(f"{'what':<32} {'p50 ms':>9} {'p95 ms':>9}")
    for name, fn in checks:
        p50, p95 = timed(fn, args.repeat)
        print(f"{name:<32} {p50:9.1f} {p95:9.1f}")
    print(f"{'page':<32} {'JSON bytes':>19}")
    for name, module in (("Overview", overview), ("Models", models), ("Usage", usage)):
        print(f"{name:<32} {len(page(module)()):>19,}")
    store.dispose()


if __name__ == "__main__":
    main()
