"""The Data & drift page in Chromium shows `kpis.data`'s results for the demo's datasets.

Expected numbers come from `build_data` on the session's demo store, the same call the page
makes, so the test fails if the page, the store or a KPI drifts apart.

These demo-world tests catch rendering and console errors and a page drifting from its
service; the numbers themselves are checked against hand-computed figures in
test_e2e_small_world.py.
"""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime

import pytest

from dashboard.components import format as fmt
from dashboard.filters import date_range
from dashboard.reports import report_url
from dashboard.services.data import DataView, build_data, configured_datasets
from kpis.health import Status

pytestmark = [pytest.mark.slow]
STATUS_TEXT = {Status.GREEN: "healthy", Status.AMBER: "at risk", Status.RED: "failing",
               Status.UNKNOWN: "no data"}


def _view(demo_store, product: str) -> DataView:  # type: ignore[no-untyped-def]
    config, store = demo_store
    selected = config.product(product)
    now = datetime.now(UTC)
    dates = date_range(None, None, now=now)
    return build_data(store, selected, configured_datasets(list(config.sources), product),
                      dataset=None, start=dates.start, as_of=now)


@pytest.mark.browser
@pytest.mark.parametrize(("product", "dataset"), [("churn", "churn-features"),
                                                  ("demand", "demand-features")])
def test_data_page_shows_latest_drift(open_page, demo_store, dashboard_url: str,  # type: ignore[no-untyped-def]
                                      product: str, dataset: str) -> None:
    view = _view(demo_store, product)
    assert view.dataset == dataset
    latest = view.latest[view.latest["dataset"] == dataset].iloc[-1]
    page, errors = open_page(f"/data?product={product}&dataset={dataset}",
                             "#data-drift-share .js-plotly-plot")
    assert page.inner_text("[data-testid=data-latest-share]") == fmt.percent(
        latest["drifted_share"])
    assert page.inner_text("[data-testid=data-latest-status]").strip() == STATUS_TEXT[
        Status(latest["status"])]
    for chart in ("#data-features .js-plotly-plot", "#data-quality .js-plotly-plot"):
        page.wait_for_selector(chart, timeout=30_000)
    # one report link per window in the range, and the newest one answers 200
    links = page.locator("#data-reports a.data-report-link")
    assert links.count() == len(view.history)
    href = links.first.get_attribute("href")
    config, _ = demo_store
    assert href == report_url(config, view.history.iloc[-1]["report_path"])
    with urllib.request.urlopen(dashboard_url.rstrip("/") + href, timeout=10) as response:
        assert response.status == 200
        assert response.read(1)
    assert errors == []


def test_churn_story_drifts(demo_store) -> None:  # type: ignore[no-untyped-def]
    # The demo's churn data drifts from week 8: the latest report fails its objective and
    # the features that drift lead the heatmap.
    view = _view(demo_store, "churn")
    latest = view.latest.iloc[-1]
    assert latest["status"] is Status.RED and latest["drifted_share"] > 0.3
    counts = view.matrix.drift_counts
    assert counts.iloc[0] >= 3 and counts.is_monotonic_decreasing


@pytest.mark.browser
def test_unknown_dataset_falls_back_to_the_first(open_page) -> None:  # type: ignore[no-untyped-def]
    page, errors = open_page("/data?product=churn&dataset=nope", "#data-drift-share")
    assert "churn-features" in page.inner_text("#data-datasets")
    assert errors == []
