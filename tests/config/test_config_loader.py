"""Config loading: YAML paths in errors, ${ENV} interpolation, shipped files valid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.loader import ConfigError, load_config, parse_config
from config.schema import DspoConfig
from config.sources import source_models

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = """
products:
  - key: churn
    name: Churn
sources:
  - name: ml
    kind: mlflow
    product: churn
    tracking_uri: ${MLFLOW_URI}
"""


def _errors(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="test.yaml", env=env or {})
    return [str(issue) for issue in info.value.issues]


def test_env_interpolation_and_defaults() -> None:
    text = MINIMAL + "store:\n  url: ${STORE_URL:-sqlite:///x.db}\n"
    cfg = parse_config(text, source="t", env={"MLFLOW_URI": "http://127.0.0.1:5000"})
    assert cfg.sources[0].tracking_uri == "http://127.0.0.1:5000"  # type: ignore[union-attr]
    assert cfg.store.url == "sqlite:///x.db"


def test_missing_env_names_the_key() -> None:
    assert _errors(MINIMAL) == [
        "sources[0].tracking_uri: environment variable MLFLOW_URI is not set"
    ]


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        pytest.param(
            "products: [{key: a, name: A}]\nsources:\n"
            "  - {name: s1, kind: files, product: a, items: i.csv}\n"
            "  - {name: s2, kind: sql_kpis, product: a, url: 'sqlite://', queries: []}\n"
            "  - {name: s3, kind: mlflow, product: a}\n",
            ["sources[1].queries: List should have at least 1 item after validation, not 0",
             "sources[2].tracking_uri: field required"],
            id="missing-and-empty-fields-per-source",
        ),
        pytest.param(
            "products: [{key: a, name: A, objectives: [{name: o, kind: usage, kpi: dau, "
            "op: '>=', threshold: 10, warning: 5}]}]\n",
            ["products[0].objectives[0]: warning must lie at or above threshold for op '>='"],
            id="warning-on-wrong-side",
        ),
        pytest.param(
            "products: [{key: a, name: A, colour: red}]\n",
            ["products[0].colour: unknown key (check its spelling)"],
            id="typo-key",
        ),
        pytest.param(
            "products: [{key: a, name: A}]\nsources: [{name: s, kind: files, product: b, "
            "items: i.csv}]\n",
            ["sources[0].product: unknown product 'b' (known: a)"],
            id="unknown-product",
        ),
        pytest.param(
            "products: [{key: a, name: A}]\nstore: {retention: {raw_points: 6h}}\n",
            ["store.retention.raw_points: must be at least 1d (points are pruned by whole "
             "UTC days)"],
            id="retention-under-a-day",
        ),
        pytest.param(
            "products: [{key: a, name: A}]\nstore: {retention: {raw_points: forever}}\n",
            ["store.retention.raw_points: Input should be a valid timedelta, invalid "
             "character in hour"],
            id="retention-not-a-duration",
        ),
        pytest.param(
            "products: [{key: a, name: A}]\nsources: [{name: s, kind: nosuchkind, product: a}]\n",
            None,
            id="unknown-kind",
        ),
    ],
)
def test_errors_name_their_yaml_path(yaml_text: str, expected: list[str] | None) -> None:
    errors = _errors(yaml_text)
    if expected is None:
        assert errors[0].startswith("sources[0]") and "kind" in errors[0].lower()
    else:
        assert errors == expected


def test_not_a_mapping_and_bad_yaml() -> None:
    assert _errors("- a\n- b\n") == ["the top level must be a mapping"]
    assert _errors("products: [\n")[0].startswith("not valid YAML")


@pytest.mark.parametrize("name", ["demo.yaml", "example.yaml", "compose.yaml"])
def test_shipped_configs_are_valid(name: str) -> None:
    env = {"FEATURES_DB_PASSWORD": "x", "PRODUCT_DB_PASSWORD": "x",
           "DSPO_STORE_URL": "postgresql+psycopg://u@h/d", "MLFLOW_TRACKING_URI": "http://m",
           "JENKINS_PUSH_TOKEN": "x" * 32}
    env["AIRFLOW_PASSWORD"] = "x"
    env["JIRA_API_TOKEN"] = "x"
    cfg = load_config(ROOT / "config" / name, env=env)
    assert cfg.products


def _documented_keys(model: type, prefix: str = "") -> set[str]:
    """Every field name of the schema, recursively, as in the YAML."""
    from typing import get_args

    from pydantic import BaseModel

    keys: set[str] = set()
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        keys.add(field.alias or name)  # YAML spells an aliased field (`for`) by its alias
        stack: list[Any] = [field.annotation]
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                keys |= _documented_keys(tp)
            else:
                stack.extend(get_args(tp))
    return keys


def _all_keys() -> set[str]:
    """The top-level schema's keys and those of every registered source kind."""
    keys = _documented_keys(DspoConfig)
    for model in source_models().values():
        keys |= _documented_keys(model)
    return keys


def test_every_option_is_in_example_yaml() -> None:
    text = (ROOT / "config" / "example.yaml").read_text()
    missing = sorted(k for k in _all_keys() if f"{k}:" not in text)
    assert missing == [], f"config/example.yaml does not mention: {missing}"


def test_every_option_is_in_the_docs() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    missing = sorted(k for k in _all_keys() if f"`{k}`" not in text)
    assert missing == [], f"docs/configuration.md does not mention: {missing}"


def test_cli_config_check_reports_paths_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"products": [{"key": "a", "name": "A"}],
                                   "sources": [{"name": "s", "kind": "mlflow", "product": "a"}]}))
    dspo = Path(sys.executable).parent / "dspo"
    out = subprocess.run([str(dspo), "config", "check", str(bad)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1
    assert "sources[0].tracking_uri: field required" in out.stderr
    ok = subprocess.run([str(dspo), "config", "check", str(ROOT / "config" / "demo.yaml")],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "2 product(s), 10 source(s)" in ok.stdout


def test_configuration_reference_is_up_to_date() -> None:
    from config.docs import render

    assert (ROOT / "docs" / "configuration.md").read_text() == render(), (
        "run: python -m config.docs > docs/configuration.md"
    )


RULES = """
products: [{key: churn, name: Churn}]
sinks:
  - {name: jira, kind: jira, url: "https://x.atlassian.net", user: u, token: t, project: P}
alerts:
  - name: drift-high
    product: churn
    condition: {kind: drift, dataset: d, op: ">", threshold: 0.3}
    backlog: {title: "Drift on {dataset}: {value:.0%}"}
  - name: churn-auc-low
    product: churn
    for: 1h
    sinks: [backlog, jira]
    condition: {kind: model_metric, model: m, metric: auc, op: "<", threshold: 0.8}
    backlog: {title: "AUC of {model} ({alias}) at {value:.3f} since {started}"}
"""


def test_alert_rules_and_sinks_load() -> None:
    cfg = parse_config(RULES, source="t", env={})
    rule = cfg.alerts[1]
    assert rule.for_.total_seconds() == 3600 and rule.sinks == ["backlog", "jira"]
    assert cfg.sinks[0].name == "jira"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param("metric: auc, ", "", "alerts[1] (rule 'churn-auc-low').condition.metric: "
                     "field required", id="missing-condition-key"),
        pytest.param("for: 1h", "for: soon", "alerts[1] (rule 'churn-auc-low').for: Input should "
                     "be a valid timedelta", id="bad-duration"),
        pytest.param("product: churn\n    for", "product: chrn\n    for",
                     "alerts[1] (rule 'churn-auc-low').product: unknown product 'chrn' (known: "
                     "churn)", id="unknown-product"),
        pytest.param("[backlog, jira]", "[backlog, jra]", "alerts[1] (rule 'churn-auc-low')"
                     ".sinks[1]: unknown sink 'jra' (known: backlog, jira)", id="unknown-sink"),
        pytest.param("({alias})", "({pipeline})", "alerts[1] (rule 'churn-auc-low').backlog.title"
                     ": unknown field 'pipeline' (known: alias, labels, metric, model, op, "
                     "product, rule, severity, started, threshold, value, window)",
                     id="unknown-template-field"),
        pytest.param("{value:.3f}", "{value:.3q}", "alerts[1] (rule 'churn-auc-low')"
                     ".backlog.title: not a valid template", id="bad-format-spec"),
        pytest.param("name: drift-high", "name: churn-auc-low",
                     "alerts[1].name: duplicate 'churn-auc-low'", id="duplicate-rule"),
        pytest.param("kind: drift, ", "kind: drfit, ", "alerts[0] (rule 'drift-high')"
                     ".condition: Input tag 'drfit' found", id="unknown-condition-kind"),
        pytest.param("name: jira, kind", "name: backlog, kind", "sinks: the name 'backlog' is "
                     "dspo's own backlog", id="sink-named-backlog"),
        pytest.param("project: P", "projekt: P", "sinks[0] (sink 'jira').projekt: unknown key",
                     id="sink-typo"),
    ],
)
def test_rule_errors_name_the_rule_and_the_key(old: str, new: str, expected: str) -> None:
    assert old in RULES
    errors = _errors(RULES.replace(old, new, 1))
    assert any(e.startswith(expected) for e in errors), errors
