"""Regenerate the README's screenshots: build the demo world, serve it, shoot each product.

Usage: .venv/bin/python scripts/screenshot.py --out docs [--demo-dir .dspo/demo]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from dspo.devserver import CHROMIUM, CHROMIUM_ARGS, serving

ROOT = Path(__file__).resolve().parent.parent
SHOTS = {"overview.png": "/?product=churn", "overview-demand.png": "/?product=demand"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--demo-dir", type=Path, default=ROOT / ".dspo" / "demo")
    args = parser.parse_args()
    env = {"DSPO_DEMO_DIR": str(args.demo_dir.resolve()), "MLFLOW_DISABLE_TELEMETRY": "true",
           "DO_NOT_TRACK": "1"}
    dspo = Path(sys.executable).parent / "dspo"
    subprocess.run([str(dspo), "demo", "--dir", env["DSPO_DEMO_DIR"]], check=True,
                   env={**os.environ, **env})
    args.out.mkdir(parents=True, exist_ok=True)
    with serving(ROOT / "config" / "demo.yaml", env, args.out / ".serve.log") as url, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        for name, path in SHOTS.items():
            page.goto(url.rstrip("/") + path)
            page.wait_for_selector("#overview-sources")
            page.wait_for_timeout(800)  # let Plotly finish drawing
            page.screenshot(path=str(args.out / name), full_page=True)
            print(f"wrote {args.out / name}")
        browser.close()
    (args.out / ".serve.log").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
