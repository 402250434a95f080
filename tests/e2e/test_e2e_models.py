"""The Models page in Chromium shows what `build_models` computes from the demo store.

These demo-world tests catch rendering and console errors and a page drifting from its
service; the numbers themselves are checked against hand-computed figures in
test_e2e_small_world.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from waits import wait_true

from dashboard.components import format as fmt
from dashboard.filters import date_range
from dashboard.services.models import ModelsView, build_models

pytestmark = [pytest.mark.slow]
CHART = "#models-history-graph .js-plotly-plot"


def _expected(demo_store, product: str, metric: str | None = None) -> ModelsView:  # type: ignore[no-untyped-def]
    config, store = demo_store
    now = datetime.now(UTC)
    dates = date_range(None, None, now=now)
    return build_models(store, config.product(product), model=None, metric=metric,
                        start=dates.start, as_of=now)


@pytest.mark.browser
@pytest.mark.parametrize("product", ["churn", "demand"])
def test_models_page_shows_the_kpi_results(open_page, demo_store, product: str) -> None:  # type: ignore[no-untyped-def]
    view = _expected(demo_store, product)
    model = view.model
    assert model is not None and model.comparison is not None
    comparison = model.comparison
    assert comparison.champion is not None and comparison.challenger is not None
    # the demo's deployment job leaves champion on v2 and challenger on v3
    assert (comparison.champion.version, comparison.challenger.version) == ("2", "3")
    page, errors = open_page(f"/models?product={product}", CHART)
    page.wait_for_selector("#models-timeline-graph .js-plotly-plot", timeout=30_000)
    assert model.metric == {"churn": "auc", "demand": "mape"}[product]  # the objective's
    assert page.inner_text("[data-testid=models-champion-version]") == "v2"
    assert page.inner_text("[data-testid=models-champion-latest]") == fmt.objective_value(
        "model_metric", comparison.champion.latest)
    assert page.inner_text("[data-testid=models-champion-mean]") == fmt.objective_value(
        "model_metric", comparison.champion.mean_last)
    assert page.inner_text("[data-testid=models-challenger-latest]") == fmt.objective_value(
        "model_metric", comparison.challenger.latest)
    assert comparison.delta is not None
    assert page.inner_text("[data-testid=models-delta]") == f"{comparison.delta:+.3f}"
    assert comparison.better in ("champion", "challenger")
    assert comparison.better in page.inner_text("[data-testid=models-better]")
    objective = model.objectives[0].trend.result
    assert page.inner_text("[data-testid=models-objective-value-0]") == fmt.objective_value(
        objective.kind, objective.value)
    # the registry timeline: champion moved 2 times (churn) or 4 times (demand, a rollback)
    champion_bars = model.intervals[model.intervals["alias"] == "champion"]
    assert len(champion_bars) == {"churn": 2, "demand": 4}[product]
    assert page.locator("#models-timeline-graph .bars .point").count() == len(model.intervals)
    assert errors == []


@pytest.mark.browser
def test_metric_choice_lives_in_the_url(open_page, demo_store) -> None:  # type: ignore[no-untyped-def]
    page, errors = open_page("/models?product=churn", CHART)
    page.click("#models-metric")
    page.get_by_text("precision", exact=True).last.click()
    page.wait_for_url("**metric=precision**")
    page.wait_for_selector("#models-history .card-header:has-text('precision per version')")
    view = _expected(demo_store, "churn", "precision")
    assert view.model is not None and view.model.comparison is not None
    champion = view.model.comparison.champion
    assert champion is not None
    wait_true(page, "want => document.querySelector('[data-testid=models-champion-latest]')"
              ".innerText == want", fmt.objective_value("model_metric", champion.latest))
    assert "product=churn" in page.url
    direct, more_errors = open_page("/models?product=churn&metric=precision", CHART)
    assert "precision per version" in direct.inner_text("#models-history")
    assert errors == [] and more_errors == []
