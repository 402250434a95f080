"""The Pipelines page in Chromium shows `kpis.pipelines`' results for the demo's scoring jobs.

These demo-world tests catch rendering and console errors and a page drifting from its
service; the numbers themselves are checked against hand-computed figures in
test_e2e_small_world.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.components import format as fmt
from dashboard.filters import date_range
from dashboard.services.pipelines import PipelinesView, build_pipelines
from kpis.health import Status

pytestmark = [pytest.mark.slow]
STATUS_TEXT = {Status.GREEN: "healthy", Status.AMBER: "at risk", Status.RED: "failing",
               Status.UNKNOWN: "no data"}


def _view(demo_store, product: str) -> PipelinesView:  # type: ignore[no-untyped-def]
    config, store = demo_store
    now = datetime.now(UTC)
    dates = date_range(None, None, now=now)
    return build_pipelines(store, config.product(product), start=dates.start, as_of=now,
                           days=dates.days)


@pytest.mark.browser
@pytest.mark.parametrize("product", ["churn", "demand"])
def test_pipelines_page_shows_rate_and_freshness(open_page, demo_store,  # type: ignore[no-untyped-def]
                                                 product: str) -> None:
    view = _view(demo_store, product)
    name = f"{product}-scoring"
    rate = next(r for r in view.rates if r.pipeline == name)
    assert rate.window == timedelta(days=7) and rate.success_rate is not None
    fresh = view.freshness.set_index("pipeline").loc[name]
    before = datetime.now(UTC)
    page, errors = open_page(f"/pipelines?product={product}",
                             "#pipelines-timeline .js-plotly-plot")
    after = datetime.now(UTC)
    assert page.inner_text(f"[data-testid=pipelines-rate-{name}]") == fmt.percent(
        rate.success_rate)
    assert page.inner_text(f"[data-testid=pipelines-rate-status-{name}]").strip() == \
        STATUS_TEXT[rate.status]
    # "5 h ago" as of the page's render, which lies between before and after
    assert page.inner_text(f"[data-testid=pipelines-fresh-{name}]") in {
        fmt.ago(fresh["last_success"], before), fmt.ago(fresh["last_success"], after)}
    assert page.inner_text(f"[data-testid=pipelines-fresh-status-{name}]").strip() == \
        STATUS_TEXT[Status(fresh["status"])]
    for chart in ("#pipelines-success .js-plotly-plot", "#pipelines-duration .js-plotly-plot"):
        page.wait_for_selector(chart, timeout=30_000)
    assert errors == []


def test_scoring_runs_every_six_hours(demo_store) -> None:  # type: ignore[no-untyped-def]
    # The demo's scoring job runs every 6 h: fresh within 2 x 6 h, and its last success
    # lies within one interval (plus a run's length) of now.
    view = _view(demo_store, "churn")
    fresh = view.freshness.set_index("pipeline").loc["churn-scoring"]
    assert fresh["expected_s"] == 12 * 3600
    assert fresh["status"] is Status.GREEN
