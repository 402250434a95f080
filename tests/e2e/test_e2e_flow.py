"""The flow & backlog page in Chromium against the session's demo world.

Expected numbers come from the same service (`build_flow`, which calls the KPI functions)
for the same date range, so the test fails if the page, the store or a KPI drifts. The
backlog grid (AG Grid's infinite row model, a block of rows per request) is checked
against the demo store's items worked out here with pandas: its row count, its first
page, and a filtered, sorted page.

These demo-world tests catch rendering and console errors and a page drifting from its
service; the numbers themselves are checked against hand-computed figures in
test_e2e_small_world.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from waits import wait_true

from dashboard.components import format as fmt
from dashboard.filters import date_range
from dashboard.services.flow import FlowView, build_flow
from store import queries

pytestmark = [pytest.mark.slow]
CHARTS = ("#flow-cfd", "#flow-throughput", "#flow-cycle", "#flow-ageing")
GRID = "flow-backlog-grid"
ROW_COUNT = f"""() => {{
    try {{ return dash_ag_grid.getApi('{GRID}').getDisplayedRowCount(); }}
    catch (e) {{ return null; }}
}}"""
FIRST_ROWS = f"""n => {{
    try {{
        const api = dash_ag_grid.getApi('{GRID}'), rows = [];
        for (let i = 0; i < n; i++) {{
            const node = api.getDisplayedRowAtIndex(i);
            if (!node || !node.data) return null;  // the block has not arrived yet
            rows.push(node.data);
        }}
        return rows;
    }} catch (e) {{ return null; }}
}}"""


def _view(demo_store: Any, product: str, start: str | None, end: str | None) -> FlowView:
    cfg, store = demo_store
    now = datetime.now(UTC)
    dates = date_range(start, end, now=now)
    return build_flow(store, cfg.product(product), start=dates.start, end=min(now, dates.end))


def _days(value: float | None) -> str:
    return "–" if value is None else fmt.points(value)


def _grid_rows(page: Any, expected: int) -> int:
    wait_true(page, f"want => ({ROW_COUNT})() === want", expected)
    return int(page.evaluate(ROW_COUNT))


def _first_rows(page: Any, n: int, field: str, expected: list[Any]) -> list[Any]:
    """The first `n` rows' `field`, once they are the expected ones (blocks arrive later)."""
    wait_true(page, f"""([n, want]) => {{
        const rows = ({FIRST_ROWS})(n);
        return rows !== null && JSON.stringify(rows.map(r => r['{field}'])) ===
            JSON.stringify(want);
    }}""", [n, expected])
    return [row[field] for row in page.evaluate(FIRST_ROWS, n)]


@pytest.mark.browser
@pytest.mark.parametrize(
    ("product", "days_back"),
    [
        pytest.param("churn", None, id="churn-default-range"),
        pytest.param("demand", None, id="demand-default-range"),
        # a past range (days before today; the demo world ends today): the numbers are
        # those of that range, not of today
        pytest.param("churn", (70, 28), id="churn-past-range"),
    ],
)
def test_flow_page_shows_the_kpi_results(open_page, demo_store, product: str,  # type: ignore[no-untyped-def]
                                         days_back: tuple[int, int] | None) -> None:
    start = end = None
    if days_back is not None:
        today = datetime.now(UTC).date()
        start, end = (str(today - timedelta(days=d)) for d in days_back)
    query = f"?product={product}" + (f"&start={start}&end={end}" if start else "")
    expected = _view(demo_store, product, start, end)
    page, errors = open_page(f"/flow{query}", "#flow-cfd")
    for chart in CHARTS:
        page.wait_for_selector(f"{chart} .js-plotly-plot", timeout=30_000)  # lazy plotly.js
    assert page.inner_text("[data-testid=flow-wip]") == str(expected.wip)
    assert page.inner_text("[data-testid=flow-done]") == str(expected.done_in_range)
    for level in (50, 85, 95):
        assert page.inner_text(f"[data-testid=flow-cycle-p{level}]") == _days(
            expected.cycle[level])
        assert page.inner_text(f"[data-testid=flow-lead-p{level}]") == _days(expected.lead[level])
    assert page.inner_text("[data-testid=flow-alert-items]") == str(expected.alert_items)
    assert page.inner_text("[data-testid=flow-backlog-count]") == str(expected.items)
    assert _grid_rows(page, expected.items) == expected.items
    for epic in expected.epics.itertuples(index=False):
        name = "No epic" if epic.epic is None else epic.epic
        share = page.inner_text(f'[data-testid="flow-epic-share-{name}"]')
        assert share == f"{epic.share_done:.0%}"
    assert expected.wip > 0 and expected.done_in_range > 0
    assert errors == []


@pytest.mark.browser
def test_backlog_table_filters_and_sorts(open_page, demo_store) -> None:  # type: ignore[no-untyped-def]
    _, store = demo_store
    items = queries.backlog_items(store, "churn")  # ordered as the grid: created, then key
    # the floating filter is 'contains', ignoring case
    bugs = items.loc[items["type"].str.lower().str.contains("bug")]
    page, errors = open_page("/flow?product=churn", f"#{GRID} .ag-row")
    assert _grid_rows(page, len(items)) == len(items) > 20
    assert _first_rows(page, 20, "key", items["key"][:20].tolist()) == \
        items["key"][:20].tolist()
    type_filter = page.locator(".ag-floating-filter input").nth(2)  # key, title, type, ...
    type_filter.fill("Bug")
    assert _grid_rows(page, len(bugs)) == len(bugs) > 0
    page.click(f"#{GRID} .ag-header-cell[col-id=points] .ag-header-cell-label")  # ascending
    page.wait_for_selector(f"#{GRID} .ag-header-cell[col-id=points][aria-sort=ascending]")
    # unestimated first, then by points going up: the first page of 20 (or fewer)
    points = [None if p != p else float(p) for p in bugs["points"]]
    ordered = [p for p in points if p is None] + sorted(p for p in points if p is not None)
    shown = min(20, len(ordered))
    assert _first_rows(page, shown, "points", ordered[:shown]) == ordered[:shown]
    assert _grid_rows(page, len(bugs)) == len(bugs)
    # items filed by alerts, tinted (#fdecea)
    # (still by points going up, unestimated first, then by key)
    filed = items.loc[items["origin"] == "alert"]
    alerts = [k for _, _, k in sorted((p == p, p if p == p else 0, k)
                                      for p, k in zip(filed["points"], filed["key"], strict=True))]
    type_filter.fill("")
    page.locator(f"#{GRID} .ag-floating-filter[aria-colindex='10'] input").fill("alert")
    assert _grid_rows(page, len(alerts)) == len(alerts) > 0
    shown = min(20, len(alerts))
    assert _first_rows(page, shown, "key", alerts[:shown]) == alerts[:shown]
    tint = page.evaluate(f"""() => getComputedStyle(document.querySelector(
        '#{GRID} .ag-center-cols-container .ag-row')).backgroundColor""")
    assert tint == "rgb(253, 236, 234)"
    assert errors == []


@pytest.mark.browser
def test_flow_page_loads_nothing_from_another_host(open_page, dashboard_url: str) -> None:  # type: ignore[no-untyped-def]
    """AG Grid 35 themes itself from its own JavaScript: no stylesheet from a CDN."""
    page, errors = open_page("/flow?product=demand", "#flow-cfd")
    hosts: list[str] = []
    page.on("request", lambda r: hosts.append(urlparse(r.url).netloc))
    page.reload()
    page.wait_for_selector(f"#{GRID} .ag-row", timeout=30_000)
    assert set(hosts) == {urlparse(dashboard_url).netloc}
    assert page.locator(f"#{GRID} .ag-header-cell").count() >= 10
    assert errors == []
