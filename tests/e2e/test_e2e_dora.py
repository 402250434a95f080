"""The DORA page in Chromium shows what `build_dora` computes from the demo store.

The demo's deployment job (dspo/demo/world.py) promoted demand's champion three times with
one rollback two days after the week-6 release: 3 promotions, change failure rate 1/3,
restored five days later by the re-release. Churn's champion was promoted twice, cleanly.

These demo-world tests catch rendering and console errors and a page drifting from its
service; the numbers themselves are checked against hand-computed figures in
test_e2e_small_world.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.components import format as fmt
from dashboard.filters import date_range
from dashboard.services.dora import DoraView, build_dora

pytestmark = [pytest.mark.slow]


def _expected(demo_store, product: str) -> DoraView:  # type: ignore[no-untyped-def]
    config, store = demo_store
    now = datetime.now(UTC)
    dates = date_range(None, None, now=now)
    return build_dora(store, config.product(product), start=dates.start, end=dates.end,
                      as_of=now)


def _duration(value: timedelta | None) -> str:
    return fmt.duration(None if value is None else value.total_seconds())


# (product, promotions, change failure rate, time to restore)
STORIES = [
    pytest.param("demand", 3, 1 / 3, timedelta(days=5), id="demand-rollback"),
    pytest.param("churn", 2, 0.0, None, id="churn-clean"),
]


@pytest.mark.parametrize(("product", "promotions", "cfr", "restore"), STORIES)
def test_demo_story(demo_store, product: str, promotions: int, cfr: float,  # type: ignore[no-untyped-def]
                    restore: timedelta | None) -> None:
    result = _expected(demo_store, product).result
    assert result.promotions == promotions
    assert result.change_failure_rate == pytest.approx(cfr)
    assert result.time_to_restore_p50 == restore
    # every version went live 2 days 10 hours after its training run started
    assert result.lead_time_p50 == timedelta(days=2, hours=10)


@pytest.mark.browser
@pytest.mark.parametrize("product", ["demand", "churn"])
def test_dora_page_shows_the_kpi_results(open_page, demo_store, product: str) -> None:  # type: ignore[no-untyped-def]
    view = _expected(demo_store, product)
    result = view.result
    page, errors = open_page(f"/dora?product={product}", "#dora-weekly .js-plotly-plot")
    page.wait_for_selector("#dora-lead .js-plotly-plot", timeout=30_000)
    assert page.inner_text("[data-testid=dora-frequency]") == (
        f"{result.deployment_frequency:.2f} / week")
    assert page.inner_text("[data-testid=dora-frequency-detail]") == (
        f"{result.promotions} promotions")
    assert page.inner_text("[data-testid=dora-lead-time]") == _duration(result.lead_time_p50)
    assert page.inner_text("[data-testid=dora-cfr]") == fmt.percent(result.change_failure_rate)
    assert page.inner_text("[data-testid=dora-restore]") == _duration(
        result.time_to_restore_p50)
    rows = page.locator("[data-testid=dora-promotions-table] tbody tr")
    assert rows.count() == result.promotions
    for i, failed in enumerate(result.failures["failed"]):
        outcome = page.inner_text(f"[data-testid=dora-outcome-{i}]")
        assert outcome.startswith("rollback") if failed else outcome == "ok"
    assert errors == []
