"""The sprint page in Chromium against the session's demo world.

The numbers the page must show are computed here with the same service (`build_sprint`,
which calls the KPI functions), so the test fails if the page, the store or a KPI drifts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import pytest

from dashboard.components import format as fmt
from dashboard.services.sprint import SprintView, build_sprint
from kpis.burndown import burndown
from kpis.history import as_text
from store import queries

pytestmark = [pytest.mark.slow]
CHARTS = ("#sprint-burndown", "#sprint-burnup", "#sprint-velocity")


def _view(demo_store: Any, product: str, sprint: str | None = None) -> SprintView:
    cfg, store = demo_store
    return build_sprint(store, cfg.product(product), sprint, as_of=datetime.now(UTC))


def _wait_for_charts(page: Any) -> None:
    for chart in CHARTS:
        page.wait_for_selector(f"{chart} .js-plotly-plot", timeout=30_000)  # lazy plotly.js


def _assert_numbers(page: Any, view: SprintView) -> None:
    row = view.selected
    assert row is not None
    assert page.inner_text("[data-testid=sprint-commitment]") == fmt.points(row["commitment"])
    assert page.inner_text("[data-testid=sprint-completed]") == fmt.points(row["completed"])
    assert page.inner_text("[data-testid=sprint-remaining]") == fmt.points(view.remaining)
    assert page.inner_text("[data-testid=sprint-scope]") == fmt.points(view.scope_now)
    assert page.inner_text("[data-testid=sprint-scope-change-count]") == str(
        len(view.scope_changes))
    assert view.forecast is not None
    low, likely, high = view.forecast
    assert page.inner_text("[data-testid=sprint-forecast-low]") == fmt.points(low)
    assert page.inner_text("[data-testid=sprint-forecast-likely]") == fmt.points(likely)
    assert page.inner_text("[data-testid=sprint-forecast-high]") == fmt.points(high)
    for carried in view.carry_over.itertuples(index=False):
        testid = f"sprint-carry-items-{carried.sprint}"
        assert page.inner_text(f"[data-testid={testid}]") == str(carried.items)


@pytest.mark.browser
@pytest.mark.parametrize("product", ["churn", "demand"])
def test_sprint_page_shows_the_active_sprint(open_page, demo_store, product: str) -> None:  # type: ignore[no-untyped-def]
    expected = _view(demo_store, product)
    assert expected.selected is not None and expected.selected["state"] == "active"
    page, errors = open_page(f"/sprint?product={product}", "#sprint-burndown")
    _wait_for_charts(page)
    _assert_numbers(page, expected)
    assert "(active)" in page.inner_text("#sprint-select")
    changes = page.locator("[data-testid=sprint-scope-changes-table] tbody tr")
    assert changes.count() == len(expected.scope_changes) > 0
    assert errors == []


@pytest.mark.browser
def test_choosing_a_sprint_puts_it_in_the_url(open_page, demo_store) -> None:  # type: ignore[no-untyped-def]
    expected = _view(demo_store, "demand", "103")
    assert expected.selected is not None and expected.selected["state"] == "closed"
    page, errors = open_page("/sprint?product=demand", "#sprint-burndown")
    page.click("#sprint-select button")
    page.click("#sprint-option-103")
    page.wait_for_url("**sprint=103")
    assert "product=demand" in urlparse(page.url).query
    page.wait_for_function(
        "document.querySelector('[data-testid=sprint-dates]').innerText.includes('closed')")
    _wait_for_charts(page)
    _assert_numbers(page, expected)
    assert errors == []


@pytest.mark.browser
def test_sprint_page_loads_nothing_from_another_host(open_page, dashboard_url: str) -> None:  # type: ignore[no-untyped-def]
    page, errors = open_page("/sprint?product=churn&sprint=nope", "#sprint-burndown")
    hosts: list[str] = []
    page.on("request", lambda r: hosts.append(urlparse(r.url).netloc))
    page.reload()
    _wait_for_charts(page)
    assert set(hosts) == {urlparse(dashboard_url).netloc}
    assert errors == []


@pytest.mark.parametrize("product", ["churn", "demand"])
def test_demo_sprints_have_scope_changes_that_agree_with_velocity(demo_store,  # type: ignore[no-untyped-def]
                                                                  product: str) -> None:
    """The demo world holds what the page exists to explain: mid-sprint additions,
    re-estimates, removals and carry-over, and a burndown that starts at velocity's
    commitment and ends at its completed for every sprint."""
    _cfg, store = demo_store
    view = _view(demo_store, product)
    sprints = queries.sprints(store, product)
    items = queries.backlog_items(store, product)
    events = queries.item_events(store, product)
    for row in view.velocity.itertuples(index=False):
        frame = burndown(sprints, items, events, as_text(row.external_id), as_of=view.as_of)
        assert frame["scope"].iloc[0] == row.commitment
        assert frame["completed"].iloc[-1] == row.completed
    assert {"added", "re-estimated"} <= set(view.scope_changes["change"])
    assert view.carry_over["items"].sum() > 0
