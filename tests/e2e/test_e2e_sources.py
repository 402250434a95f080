"""The Sources page in Chromium, on a store seeded with hand-made runs: each source's last
run, rows written, freshness against its own interval, its recent runs, errors as text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from signin import page_for, serving

from store.collector_runs import finish_collector_run, start_collector_run
from store.db import Store

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HOSTILE = "<img src=x onerror=\"document.title='pwned'\">"


@pytest.fixture(scope="module")
def sources_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("sources")
    db = folder / "dspo.db"
    items = folder / "items.csv"
    items.write_text("key,title,type,status,status_category,points,created\n")
    config = folder / "dspo.yaml"
    config.write_text(f"""
store: {{url: "sqlite:///{db}"}}
products: [{{key: p, name: Payments}}]
sources:
  - {{name: tracker, kind: files, product: p, items: {items}, interval: 1h}}
  - {{name: usage, kind: sql_kpis, product: p, url: "sqlite:///{folder / 'x.db'}",
      interval: 15m, queries: [{{name: dau, sql: "SELECT 1"}}]}}
  - {{name: later, kind: files, product: p, items: {items}}}
""")
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    now = datetime.now(UTC)
    with store.session() as s:
        _run(s, "tracker", "files", now - timedelta(minutes=30), "ok", 120, 150)
        _run(s, "usage", "sql_kpis", now - timedelta(hours=2), "ok", 9, 9)
        _run(s, "usage", "sql_kpis", now - timedelta(minutes=5), "failed", 0, 0,
             f"source 'usage' (sqlite:///x.db): query 'dau' failed: {HOSTILE}")
    store.dispose()
    with serving(config, {}, folder / "serve.log") as url:
        yield url


def _run(session, source: str, kind: str, started: datetime, status: str,  # type: ignore[no-untyped-def]
         rows: int, records: int, error: str | None = None) -> None:
    run = start_collector_run(session, source, kind, started, "host:1")
    finish_collector_run(session, run, status=status, rows_written=rows, records_read=records,
                         error=error, watermark=started if status == "ok" else None,
                         finished=started + timedelta(seconds=42))


def test_sources_page_shows_runs_and_freshness(browser, sources_url: str) -> None:  # type: ignore[no-untyped-def]
    page = page_for(browser, sources_url, {"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(sources_url.rstrip("/") + "/sources?product=p")
    page.wait_for_selector("#sources-summary")
    text = {key: page.inner_text(f"[data-testid={key}]").strip() for key in (
        "source-status-tracker", "source-rows-tracker", "source-fresh-tracker",
        "source-status-usage", "source-fresh-usage", "source-status-later",
        "source-error-usage")}
    assert text["source-status-tracker"] == "ok"
    assert text["source-rows-tracker"] == "120"
    assert text["source-fresh-tracker"] == "healthy"  # 30 min old, every 1 h
    assert text["source-status-usage"] == "failed"
    assert text["source-fresh-usage"] == "failing"  # last success 2 h ago, every 15 min: stale
    assert text["source-status-later"] == "never run"
    assert HOSTILE in text["source-error-usage"]  # shown as text, never run as HTML
    assert page.title() != "pwned"
    runs = page.inner_text("#source-runs-usage")
    assert "The last 2 runs: 1 ok, 1 failed or abandoned" in runs and "42 s" in runs
    assert errors == []
    page.close()
