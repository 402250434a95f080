"""The Usage page in Chromium shows `kpis.usage`'s results for the demo's usage KPIs.

These demo-world tests catch rendering and console errors and a page drifting from its
service; the numbers themselves are checked against hand-computed figures in
test_e2e_small_world.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard.components import format as fmt
from dashboard.filters import date_range
from dashboard.services.usage import UsageView, build_usage
from kpis.health import Status

pytestmark = [pytest.mark.slow]
STATUS_TEXT = {Status.GREEN: "healthy", Status.AMBER: "at risk", Status.RED: "failing",
               Status.UNKNOWN: "no data"}


def _view(demo_store, product: str, start: str | None = None,  # type: ignore[no-untyped-def]
          end: str | None = None) -> UsageView:
    from datetime import timedelta

    config, store = demo_store
    now = datetime.now(UTC)
    dates = date_range(start, end, now=now)
    as_of = min(now, dates.end - timedelta(microseconds=1))
    return build_usage(store, config.product(product), start=dates.start, as_of=as_of)


@pytest.mark.browser
@pytest.mark.parametrize("product", ["churn", "demand"])
def test_usage_page_shows_dau_against_target(open_page, demo_store,  # type: ignore[no-untyped-def]
                                             product: str) -> None:
    view = _view(demo_store, product)
    dau = next(r.kpi for r in view.rows if r.kpi.name == "dau")
    assert dau.target is not None and dau.week_over_week is not None
    page, errors = open_page(f"/usage?product={product}", "#usage-kpi-dau .js-plotly-plot")
    assert page.inner_text("[data-testid=usage-latest-dau]") == fmt.number(dau.latest)
    assert page.inner_text("[data-testid=usage-wow-dau]") == fmt.change(dau.week_over_week)
    assert page.inner_text("[data-testid=usage-mean-dau]") == fmt.number(dau.mean_7d)
    assert page.inner_text("[data-testid=usage-status-dau]").strip() == STATUS_TEXT[dau.status]
    assert fmt.number(dau.target) in page.inner_text("[data-testid=usage-target-dau]")
    assert "downsampled" not in page.inner_text("#usage-kpi-dau")  # 84 daily points
    assert errors == []


@pytest.mark.browser
def test_usage_follows_the_url_date_range(open_page, demo_store) -> None:  # type: ignore[no-untyped-def]
    # Ending the range three weeks ago moves as_of back: the page shows that week's numbers.
    from datetime import timedelta

    end = (datetime.now(UTC) - timedelta(days=21)).date().isoformat()
    view = _view(demo_store, "churn", end=end)
    dau = next(r.kpi for r in view.rows if r.kpi.name == "dau")
    page, errors = open_page(f"/usage?product=churn&end={end}", "#usage-kpi-dau")
    assert page.inner_text("[data-testid=usage-wow-dau]") == fmt.change(dau.week_over_week)
    assert page.inner_text("[data-testid=usage-latest-dau]") == fmt.number(dau.latest)
    assert errors == []
