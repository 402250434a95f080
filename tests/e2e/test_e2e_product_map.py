"""Product map: the graph holds the product's parts from the store; a click opens a page.

These demo-world tests catch rendering and console errors and a page drifting from its
service; the numbers themselves are checked against hand-computed figures in
test_e2e_small_world.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from waits import wait_true

from dashboard.services.product_map import build_map

pytestmark = [pytest.mark.slow]

# The layout (cose) places nodes differently on every load, and the 640 px graph under the
# page header does not fit an 800 px viewport: a node low in the graph lay below the fold,
# where a mouse click lands on nothing. The graph is scrolled to the top first, at once
# (Bootstrap makes scrolling smooth), and two frames pass so that Cytoscape, which caches
# where its container is and refreshes that on the scroll event, maps the click right.
SCROLL_GRAPH_TO_TOP = """() => new Promise(done => {
  document.querySelector('#map-graph').scrollIntoView({block: 'start', behavior: 'instant'});
  requestAnimationFrame(() => requestAnimationFrame(done));
})"""

NODE_POSITION = """id => {
  const cy = document.querySelector('#map-graph')._cyreg.cy;
  const node = cy.getElementById(id);
  const box = cy.container().getBoundingClientRect();
  const p = node.renderedPosition();
  return {x: box.x + p.x, y: box.y + p.y};
}"""


def _expected(demo_store, product: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    cfg, store = demo_store
    return build_map(store, cfg.product(product), as_of=datetime.now(UTC)).counts


@pytest.mark.browser
def test_map_shows_every_part_and_opens_pages(open_page, demo_store) -> None:  # type: ignore[no-untyped-def]
    expected = _expected(demo_store, "churn")
    assert expected["model"] == 1 and expected["version"] == 3 and expected["dataset"] == 1
    page, errors = open_page("/map?product=churn", "#map-graph canvas")
    for kind, count in expected.items():
        assert page.inner_text(f"[data-testid=map-count-{kind}]").startswith(f"{count} ")
    wait_true(page, "() => document.querySelector('#map-graph')._cyreg.cy.nodes().length > 0")
    page.evaluate(SCROLL_GRAPH_TO_TOP)
    point = page.evaluate(NODE_POSITION, "dataset:churn-features")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/data?product=churn&dataset=churn-features")
    assert errors == []

