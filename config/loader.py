"""Load a dspo YAML file: interpolate `${ENV}`, validate, and report errors by YAML path.

Secrets stay in the environment: `${JIRA_TOKEN}` is replaced at load time and the file can be
committed. `${VAR:-default}` gives a default; a missing variable without one is an error that
names the key it was needed for, never a silent empty string.

Relative file paths (every `ConfigPath` field: exports, report folders, data files) are
resolved against the folder of the YAML file, so a config works from any working directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.alerting import CONDITION_KINDS, SINK_KINDS
from config.base import BASE_DIR
from config.schema import OBJECTIVE_KINDS, DspoConfig
from config.sources import PluginError, source_models

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_NAMED = {"alerts": "rule", "sinks": "sink"}  # list items an error also names by their `name`


@dataclass(frozen=True)
class ConfigIssue:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(Exception):
    """Every problem of one file, each with its YAML path, so all can be fixed in one pass."""

    def __init__(self, source: str, issues: list[ConfigIssue]) -> None:
        self.source = source
        self.issues = issues
        lines = "\n".join(f"  {issue}" for issue in issues)
        super().__init__(f"{source}: {len(issues)} error(s)\n{lines}")


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> DspoConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(str(path), [ConfigIssue("", f"cannot read: {e.strerror}")]) from e
    return parse_config(
        text,
        source=str(path),
        env=os.environ if env is None else env,
        base_dir=path.resolve().parent,
    )


def parse_config(
    text: str, *, source: str, env: Mapping[str, str], base_dir: Path | None = None
) -> DspoConfig:
    """Validate YAML text; relative paths resolve against `base_dir` (the file's folder)
    when given, else stay relative to the working directory."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(source, [ConfigIssue("", f"not valid YAML: {e}")]) from e
    if not isinstance(raw, dict):
        raise ConfigError(source, [ConfigIssue("", "the top level must be a mapping")])
    issues: list[ConfigIssue] = []
    data = _interpolate(raw, env, "", issues)
    if issues:
        raise ConfigError(source, issues)
    try:
        context = {BASE_DIR: base_dir} if base_dir is not None else None
        return DspoConfig.model_validate(data, context=context)
    except PluginError as e:
        raise ConfigError(source, [ConfigIssue("sources", str(e))]) from e
    except ValidationError as e:
        raise ConfigError(source, [_issue(err, data) for err in e.errors()]) from e


def _union_tags() -> frozenset[str]:
    """Discriminator values pydantic puts in error paths; the YAML has no such key."""
    return frozenset(source_models()) | frozenset(OBJECTIVE_KINDS) | frozenset(SINK_KINDS)


def _interpolate(node: Any, env: Mapping[str, str], path: str, issues: list[ConfigIssue]) -> Any:
    if isinstance(node, dict):
        return {k: _interpolate(v, env, _join(path, str(k)), issues) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, env, f"{path}[{i}]", issues) for i, v in enumerate(node)]
    if not isinstance(node, str):
        return node

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        issues.append(ConfigIssue(path, f"environment variable {name} is not set"))
        return ""

    return _ENV.sub(replace, node)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _named(data: Any, section: str, index: int) -> str:
    """' (rule 'churn-auc-low')' for alerts[i] with a name, so a long list's error is found."""
    try:
        name = data[section][index]["name"]
    except (KeyError, IndexError, TypeError):
        return ""
    return f" ({_NAMED[section]} {name!r})" if isinstance(name, str) and name else ""


def _issue(err: Mapping[str, Any], data: Any = None) -> ConfigIssue:
    path = ""
    loc = list(err.get("loc", ()))
    for i, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
            if i == 1 and loc[0] in _NAMED:
                path += _named(data, str(loc[0]), part)
        elif part in _union_tags() and i > 0 and isinstance(loc[i - 1], int):
            continue  # pydantic puts the discriminator's value in the path; YAML has no such key
        elif part in CONDITION_KINDS and i > 0 and loc[i - 1] == "condition":
            continue
        else:
            path = _join(path, str(part))
    message = str(err.get("msg", "invalid"))
    if err.get("type") == "missing":
        message = "field required"
    elif err.get("type") == "extra_forbidden":
        message = "unknown key (check its spelling)"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return ConfigIssue(path, message)
