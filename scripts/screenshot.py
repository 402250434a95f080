"""Regenerate the README's screenshots: build the demo world, serve it, shoot every page.

Usage: .venv/bin/python scripts/screenshot.py --out docs [--demo-dir .dspo/demo]
Writes docs/<page>.png for each page (churn product), docs/overview-demand.png, the
demo's KPI page (docs/kpi-page.png) and its PDF export (docs/kpi-page.pdf), and the
sprint review pack's PDF (docs/review-pack.pdf).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from dspo.devserver import CHROMIUM, CHROMIUM_ARGS, ensure_user, serving, sign_in

ROOT = Path(__file__).resolve().parent.parent
# file name -> (path and query, selector that tells the page is drawn)
SHOTS = {
    "overview.png": ("/?product=churn", "#overview-sources"),
    "overview-demand.png": ("/?product=demand", "#overview-sources"),
    "alerts.png": ("/alerts?product=churn", "#alerts-active"),
    "sprint.png": ("/sprint?product=churn", "#sprint-burndown .js-plotly-plot"),
    "review.png": ("/review?product=churn", "#review-delivered-chart .js-plotly-plot"),
    "ledger.png": ("/ledger?product=churn", "[data-testid=ledger-row-CHURN-901]"),
    "flow.png": ("/flow?product=churn", "#flow-cfd .js-plotly-plot"),
    "models.png": ("/models?product=churn", "#models-history .js-plotly-plot"),
    "data.png": ("/data?product=churn", "#data-drift-share .js-plotly-plot"),
    "pipelines.png": ("/pipelines?product=demand", "#pipelines-timeline .js-plotly-plot"),
    "usage.png": ("/usage?product=churn", "#usage-kpi-dau .js-plotly-plot"),
    "dora.png": ("/dora?product=demand", "#dora-promotions"),
    "map.png": ("/map?product=churn", "#map-graph canvas"),
    "sources.png": ("/sources?product=churn", "#sources-summary"),
    "kpi-page.png": ("/kpi/churn", "#kpi-page .js-plotly-plot"),
}
# file name -> the server's own export (dashboard/export.py), as a PO downloads it
EXPORTS = {"kpi-page.pdf": "/export/kpi/churn.pdf",
           "review-pack.pdf": "/export/review.pdf?product=churn"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--demo-dir", type=Path, default=ROOT / ".dspo" / "demo")
    parser.add_argument("--only", nargs="*", help="file names to regenerate (default: all)")
    args = parser.parse_args()
    env = {"DSPO_DEMO_DIR": str(args.demo_dir.resolve()), "MLFLOW_DISABLE_TELEMETRY": "true",
           "DO_NOT_TRACK": "1"}
    dspo = Path(sys.executable).parent / "dspo"
    subprocess.run([str(dspo), "demo", "--dir", env["DSPO_DEMO_DIR"]], check=True,
                   env={**os.environ, **env})
    args.out.mkdir(parents=True, exist_ok=True)
    shots = {k: v for k, v in SHOTS.items() if not args.only or k in args.only}
    username, password = ensure_user(ROOT / "config" / "demo.yaml", env, "screenshots", "admin")
    with serving(ROOT / "config" / "demo.yaml", env, args.out / ".serve.log") as url, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        sign_in(page, url, username, password)
        for name, (path, ready) in shots.items():
            page.goto(url.rstrip("/") + path)
            page.wait_for_selector(ready, timeout=30_000)
            page.wait_for_timeout(1000)  # let Plotly and Cytoscape finish drawing
            page.screenshot(path=str(args.out / name), full_page=True)
            print(f"wrote {args.out / name}")
        for name, path in EXPORTS.items():
            if args.only and name not in args.only:
                continue
            answer = page.request.get(url.rstrip("/") + path, timeout=90_000)
            if not answer.ok:
                raise SystemExit(f"{path}: {answer.status} {answer.text()}")
            (args.out / name).write_bytes(answer.body())
            print(f"wrote {args.out / name}")
        browser.close()
    (args.out / ".serve.log").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
