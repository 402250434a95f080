"""Experiment settings in config: bad ones are errors naming their YAML path."""

from __future__ import annotations

import pytest

from config.loader import ConfigError, parse_config


def _errors(products: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(f"products:\n{products}", source="t", env={})
    return [str(i) for i in e.value.issues]


def test_bad_criterion_names_its_path() -> None:
    errors = _errors("  - key: a\n    name: A\n    experiments:\n"
                     "      - {item: A-1, criterion: 'auc >= 0.8 and auc is better'}\n")
    assert errors == ["products[0].experiments[0].criterion: cannot read 'auc is better': "
                      "write '<metric> <op> <number>' or '<metric> <op> champion' "
                      "(op: >=, >, <=, <), joined by 'and'"]


def test_duplicate_item_and_empty_type() -> None:
    errors = _errors("  - key: a\n    name: A\n    experiments: [{item: A-1}, {item: A-1}]\n")
    assert len(errors) == 1 and "experiments[1].item: duplicate 'A-1'" in errors[0]
    errors = _errors("  - key: a\n    name: A\n    backlog: {item_kinds: {delivery: [' ']}}\n")
    assert errors == ["products[0].backlog.item_kinds.delivery: an item type may not be empty"]


def test_defaults() -> None:
    config = parse_config("products: [{key: a, name: A}]", source="t", env={})
    kinds = config.products[0].backlog.item_kinds
    assert (kinds.experiment, kinds.delivery) == (["experiment", "spike"],
                                                  ["report", "prototype", "analysis"])
    assert config.products[0].experiments == []
