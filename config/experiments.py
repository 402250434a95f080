"""Settings of the experiment ledger: which item types are experiments and intermediate
deliveries, and experiments declared in config (hypothesis, success criterion, links).

The success-criterion grammar lives here, beside the settings, because a criterion is
settings (habit 9): config validates it at load with its YAML path, and the ledger parses
a criterion written in an item's description with the same function, where a bad one makes
the outcome inconclusive instead of failing the load.

Grammar: conditions joined by `and` (any case); each condition is
`<metric> <op> <number>` or `<metric> <op> champion`, op among `>=`, `>`, `<=`, `<` (also
`≥`, `≤`). A metric name is what MLflow logs: letters, digits and `_ - . / :`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from pydantic import Field, field_validator

from config.base import Op, Strict

DEFAULT_EXPERIMENT_TYPES = ("experiment", "spike")
DEFAULT_DELIVERY_TYPES = ("report", "prototype", "analysis")
CHAMPION = "champion"
MAX_CRITERION = 500  # characters: a criterion is one line, not an essay

_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_CONDITION = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][\w.\-/:]*)\s*(?P<op>>=|<=|>|<|≥|≤)\s*"
    r"(?P<target>champion|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$",
    re.IGNORECASE,
)
_UNICODE_OPS = {"≥": ">=", "≤": "<="}


@dataclass(frozen=True)
class Condition:
    """One comparison of a run's metric; `target` None means the champion's value."""

    metric: str
    op: Op
    target: float | None

    @property
    def against_champion(self) -> bool:
        return self.target is None


@dataclass(frozen=True)
class Criterion:
    """A parsed success criterion: its text as written and its conditions, in order."""

    text: str
    conditions: tuple[Condition, ...]

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics a run must have logged to be judged, in order of first mention."""
        return tuple(dict.fromkeys(c.metric for c in self.conditions))


def parse_criterion(text: str) -> Criterion:
    """Parse a success criterion; ValueError says which part is wrong and why. A sentence's
    final period is not part of it."""
    text = text.strip().removesuffix(".").rstrip()
    if not text:
        raise ValueError("the criterion is empty")
    if len(text) > MAX_CRITERION:
        raise ValueError(f"the criterion is longer than {MAX_CRITERION} characters")
    conditions: list[Condition] = []
    for part in _AND.split(text):
        match = _CONDITION.match(part)
        if match is None:
            raise ValueError(
                f"cannot read {part.strip()!r}: write '<metric> <op> <number>' or "
                "'<metric> <op> champion' (op: >=, >, <=, <), joined by 'and'"
            )
        raw = match.group("target")
        target = None if raw.lower() == CHAMPION else float(raw)
        if target is not None and not math.isfinite(target):
            raise ValueError(f"cannot read {part.strip()!r}: the number is not finite")
        op = _UNICODE_OPS.get(match.group("op"), match.group("op"))
        conditions.append(Condition(match.group("metric"), op, target))  # type: ignore[arg-type]
    return Criterion(text, tuple(conditions))


def _types(values: list[str]) -> list[str]:
    cleaned = [v.strip() for v in values]
    if any(not v for v in cleaned):
        raise ValueError("an item type may not be empty")
    return cleaned


class ItemKinds(Strict):
    experiment: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXPERIMENT_TYPES),
        description="Backlog item types that are experiments (matched ignoring case; default: "
        "experiment, spike); they are listed on the Ledger page with their outcome.",
    )
    delivery: list[str] = Field(
        default_factory=lambda: list(DEFAULT_DELIVERY_TYPES),
        description="Backlog item types that are intermediate deliveries: a report, a "
        "prototype, an analysis that is not a deployed feature (default: report, prototype, "
        "analysis); the sprint review counts them.",
    )

    _clean = field_validator("experiment", "delivery")(_types)


DEFAULT_GOAL_LABEL = "sprint-goal"


class BacklogSettings(Strict):
    item_kinds: ItemKinds = Field(
        default_factory=ItemKinds,
        description="Which item types are experiments and which are intermediate deliveries.",
    )
    goal_label: str = Field(
        default=DEFAULT_GOAL_LABEL, min_length=1,
        description="Label of the items a sprint's goal rests on: the sprint review counts "
        "the goal met when every item of the sprint carrying it is done by the sprint's "
        "close, and 'not assessed' when none carries it.",
    )


class ExperimentLink(Strict):
    item: str = Field(min_length=1, description="Key of the backlog item, e.g. CHURN-42.")
    hypothesis: str = Field(
        default="", description="What the experiment tests; wins over the item's description."
    )
    criterion: str = Field(
        default="",
        description="Success criterion, e.g. 'auc >= 0.85 and auc > champion and p_value < "
        "0.05' (see docs/experiments.md); wins over the item's description.",
    )
    model: str | None = Field(
        default=None,
        description="Registered model whose champion `champion` means; default: the model "
        "of the product's first model_metric objective.",
    )
    runs: list[str] = Field(default_factory=list, description="MLflow run ids linked to it.")
    mlflow_experiments: list[str] = Field(
        default_factory=list,
        description="MLflow experiment names whose runs are all linked to it.",
    )

    @field_validator("criterion")
    @classmethod
    def _criterion_parses(cls, value: str) -> str:
        if value.strip():
            parse_criterion(value)
        return value
