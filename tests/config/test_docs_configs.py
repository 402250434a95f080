"""Every config example in docs/sources.md is one `dspo config check` accepts.

A reader copies these blocks into their own file, so each must validate as written: the
block's `sources:` list is placed under one product per `product:` it names, and every
`${VAR}` it uses is given a value of the right shape.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from config.loader import parse_config

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "sources.md").read_text(), re.S)
SOURCE_BLOCKS = [b for b in BLOCKS if b.lstrip().startswith("sources:")]


def test_the_docs_have_an_example_for_every_new_kind() -> None:
    kinds = {s["kind"] for b in SOURCE_BLOCKS for s in yaml.safe_load(b)["sources"]}
    assert {"airflow", "github_actions", "github_issues", "jira", "push", "evidently",
            "files"} <= kinds


@pytest.mark.parametrize("block", SOURCE_BLOCKS,
                         ids=[re.search(r"kind: (\w+)", b).group(1) + f"-{i}"  # type: ignore[union-attr]
                              for i, b in enumerate(SOURCE_BLOCKS)])
def test_each_documented_config_validates(block: str) -> None:
    products = sorted(set(re.findall(r"product: ([\w.-]+)", block)))
    header = "products:\n" + "".join(f"  - {{key: {p}, name: {p}}}\n" for p in products)
    env = {name: "a-secret-value-0123456789abcdef" for name in re.findall(r"\$\{(\w+)", block)}
    config = parse_config(header + block, source="docs/sources.md", env=env)
    assert config.sources
