"""`stakeholder_pages:` in the config: defaults, and every mistake reported at its YAML path."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.loader import ConfigError, parse_config

PRODUCTS = """
products:
  - key: churn
    name: Churn
    objectives:
      - {name: AUC, kind: model_metric, model: m, metric: auc, op: ">=", threshold: 0.8}
  - key: demand
    name: Demand
    objectives:
      - {name: DAU, kind: usage, kpi: dau, op: ">=", threshold: 10}
stakeholder_pages:
"""


def _errors(pages: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(PRODUCTS + pages, source="test.yaml", env={})
    return [str(issue) for issue in info.value.issues]


def test_a_page_with_only_what_it_needs_gets_the_defaults() -> None:
    cfg = parse_config(PRODUCTS + "  - {slug: q1, title: Q1, products: [churn]}\n",
                       source="t", env={})
    page = cfg.stakeholder_pages[0]
    assert (page.audience, page.objectives, page.kpis, page.commentary) == ([], [], [], "")
    assert page.period == timedelta(days=28)
    assert page.show_backlog is False and page.listed is True
    assert cfg.stakeholder_page("q1") is page and cfg.stakeholder_page("q2") is None


def test_objectives_of_any_of_the_pages_products_resolve() -> None:
    cfg = parse_config(PRODUCTS + "  - {slug: both, title: B, products: [churn, demand], "
                       "objectives: [DAU, AUC], audience: ['*'], period: 7d}\n",
                       source="t", env={})
    page = cfg.stakeholder_pages[0]
    assert page.objectives == ["DAU", "AUC"] and page.period == timedelta(days=7)
    assert page.opens_for("anyone") and not cfg.stakeholder_pages[0].show_backlog


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        pytest.param("  - {slug: q1, title: Q, products: [churn, nope]}\n",
                     ["stakeholder_pages[0].products[1]: unknown product 'nope' "
                      "(known: churn, demand)"], id="unknown-product"),
        pytest.param("  - {slug: q1, title: Q, products: [churn], objectives: [AUC, DAU]}\n",
                     ["stakeholder_pages[0].objectives[1]: no objective 'DAU' in churn "
                      "(known: 'AUC')"], id="objective-of-another-product"),
        pytest.param("  - {slug: q1, title: Q, products: [churn]}\n"
                     "  - {slug: q1, title: R, products: [demand]}\n",
                     ["stakeholder_pages[1].slug: duplicate 'q1'"], id="duplicate-slug"),
        pytest.param("  - {slug: Q 1, title: Q, products: [churn]}\n",
                     ["stakeholder_pages[0].slug: String should match pattern "
                      "'^[a-z0-9][a-z0-9_.-]*$'"], id="slug-not-a-key"),
        pytest.param("  - {slug: q1, title: Q, products: []}\n",
                     ["stakeholder_pages[0].products: List should have at least 1 item after "
                      "validation, not 0"], id="no-product"),
        pytest.param("  - {slug: q1, title: Q, products: [churn], period: 400d}\n",
                     ["stakeholder_pages[0].period: period must be between 1d and 366d"],
                     id="period-too-long"),
        pytest.param("  - {slug: q1, title: Q, products: [churn], audince: [sam]}\n",
                     ["stakeholder_pages[0].audince: unknown key (check its spelling)"],
                     id="typo-key"),
        pytest.param("  - {slug: q1, products: [churn]}\n",
                     ["stakeholder_pages[0].title: field required"], id="no-title"),
        pytest.param("  - {slug: q1, title: Q, products: [churn], audience: [' sam']}\n",
                     ["stakeholder_pages[0].audience: ' sam' is not a username"],
                     id="padded-username"),
    ],
)
def test_errors_name_their_yaml_path(pages: str, expected: list[str]) -> None:
    assert _errors(pages) == expected
