"""Alert rules and the sinks their backlog items go to, as pydantic models.

A rule turns a product problem into a backlog item: a condition over a series dspo holds,
how long it must hold (`for`), and the item to file. Validated at load, so a bad rule is a
config error naming the rule and the key, never a surprise at 3 a.m.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, HttpUrl, PrivateAttr, SecretStr

from config.base import KEY_PATTERN, Duration, Op, Strict
from config.signals import (
    SIGNAL_KINDS,
    DataQualitySignal,
    DriftSignal,
    FeatureDriftSignal,
    ModelMetricSignal,
    PipelineFailuresSignal,
    PipelineFreshnessSignal,
    PipelineSuccessSignal,
    UsageChangeSignal,
    UsageSignal,
    signal_label_names,
)

StateOnProblem = Literal["ok", "alerting", "keep_state"]


# ---------------------------------------------------------------- conditions


class ConditionBase(Strict):
    op: Op = Field(description="How the value is compared with threshold: >=, >, <= or <.")
    threshold: float = Field(description="The condition holds when `value op threshold`.")


class ModelMetricCondition(ModelMetricSignal, ConditionBase):
    pass


class DriftCondition(DriftSignal, ConditionBase):
    pass


class FeatureDriftCondition(FeatureDriftSignal, ConditionBase):
    pass


class DataQualityCondition(DataQualitySignal, ConditionBase):
    pass


class PipelineSuccessCondition(PipelineSuccessSignal, ConditionBase):
    pass


class PipelineFailuresCondition(PipelineFailuresSignal, ConditionBase):
    pass


class PipelineFreshnessCondition(PipelineFreshnessSignal, ConditionBase):
    pass


class UsageCondition(UsageSignal, ConditionBase):
    pass


class UsageChangeCondition(UsageChangeSignal, ConditionBase):
    pass


class ObjectiveCondition(Strict):
    """An objective's own verdict as the condition: the page and the alert agree by
    construction, since both judge the same signal against the same bands."""

    kind: Literal["objective"] = Field(
        description="The status of one of the product's objectives, e.g. failing."
    )
    objective: str = Field(description="The objective's name, as in products[].objectives.")
    when: Literal["failing", "not_healthy"] = Field(
        default="failing",
        description="failing: beyond its threshold (red); not_healthy: at risk or failing.",
    )
    _target: Any = PrivateAttr(default=None)  # the objective, resolved when the config loads

    def bind(self, objective: Any) -> None:
        """Attach the objective the name refers to (done by `DspoConfig` at load)."""
        self._target = objective

    @property
    def target(self) -> Any:
        """The objective this condition watches (its signal and bands)."""
        if self._target is None:
            raise RuntimeError(f"objective condition {self.objective!r} was never bound to "
                               "its objective (load configs through DspoConfig)")
        return self._target

    @property
    def op(self) -> Op:
        """The condition holds where the objective's own comparison fails."""
        return _NEGATED[self.target.op]

    @property
    def threshold(self) -> float:
        """failing: the red boundary; not_healthy: the amber one (or red without one)."""
        objective = self.target
        if self.when == "not_healthy" and objective.warning is not None:
            return float(objective.warning)
        return float(objective.threshold)


_NEGATED: dict[str, Op] = {">=": "<", ">": "<=", "<=": ">", "<": ">="}


SignalCondition = (
    ModelMetricCondition | DriftCondition | FeatureDriftCondition | DataQualityCondition
    | PipelineSuccessCondition | PipelineFailuresCondition | PipelineFreshnessCondition
    | UsageCondition | UsageChangeCondition
)
Condition = Annotated[SignalCondition | ObjectiveCondition, Field(discriminator="kind")]
CONDITION_KINDS = (*SIGNAL_KINDS, "objective")


# ---------------------------------------------------------------- rules


class BacklogTemplate(Strict):
    """The item a firing files. Text fields are Python format strings over: rule, product,
    severity, value, threshold, op, window, started, labels (dict) and each label by name."""

    title: str = Field(description="Item title, e.g. 'AUC of {model} below {threshold}'.")
    type: str = Field(default="Bug", description="Item type (Bug, Task, Story, ...).")
    points: float | None = Field(default=None, ge=0, description="Estimate in story points.")
    labels: list[str] = Field(default_factory=list, description="Labels added to the item.")
    description: str = Field(
        default="", description="Extra text; dspo always appends the evidence (values, "
        "window, links to the run, report or page)."
    )


class AlertRule(Strict):
    name: str = Field(pattern=KEY_PATTERN, description="Unique rule name.")
    product: str = Field(description="Key of the product the rule watches.")
    condition: Condition = Field(description="What is measured and when it is a problem.")
    for_: Duration = Field(
        default=timedelta(0), alias="for",
        description="How long the condition must hold before the alert fires (pending "
        "until then), e.g. 1h.",
    )
    keep_firing_for: Duration = Field(
        default=timedelta(0),
        description="How long the alert keeps firing after the condition clears "
        "(recovering until then).",
    )
    severity: Literal["critical", "warning", "info"] = Field(
        default="warning", description="critical, warning or info."
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Added to each alert.")
    no_data: StateOnProblem = Field(
        default="ok", description="What no data means: ok, alerting or keep_state."
    )
    on_error: StateOnProblem = Field(
        default="keep_state", description="What an evaluation error means: ok, alerting or "
        "keep_state."
    )
    reopen_window: Duration = Field(
        default=timedelta(days=7),
        description="A re-fire within this time of resolution reopens the same item; later "
        "ones open a new item.",
    )
    backlog: BacklogTemplate = Field(description="The backlog item a firing files.")
    sinks: list[str] = Field(
        default_factory=lambda: ["backlog"],
        description="Where items go: 'backlog' (dspo's own) and names from `sinks`.",
    )

    @property
    def signal(self) -> Any:
        """The signal the rule watches: its condition's, or that of the objective it names."""
        c = self.condition
        return c.target if isinstance(c, ObjectiveCondition) else c


# ---------------------------------------------------------------- sinks


class SinkBase(Strict):
    """Every sink's delivery settings: how often and how long the outbox tries a tracker
    that fails. A retriable failure (no answer, 408, 429, 5xx) waits a random time between
    0 and min(backoff_cap, backoff_base x 2^(attempts - 1)), or what the tracker's
    Retry-After asks; a fatal answer (any other 4xx) or the last of `max_attempts` makes
    the action a dead letter on the Alerts page, for a PO to retry or discard."""

    name: str = Field(pattern=KEY_PATTERN, description="Name rules use in their sinks list.")
    max_attempts: int = Field(
        default=30, ge=1, le=1000,
        description="Attempts per action before it becomes a dead letter (retriable "
        "failures only: a fatal answer stops at once).",
    )
    backoff_base: Duration = Field(
        default=timedelta(minutes=1), gt=timedelta(0),
        description="Longest wait after the first failure; it doubles with each further one.",
    )
    backoff_cap: Duration = Field(
        default=timedelta(hours=1), gt=timedelta(0),
        description="Longest wait between two attempts, however many failed.",
    )


class JiraSink(SinkBase):
    kind: Literal["jira"] = Field(description="Jira issues, through the `jira` client library.")
    url: HttpUrl = Field(description="Jira base URL, e.g. https://acme.atlassian.net.")
    user: str = Field(description="Account e-mail or user name.")
    token: SecretStr = Field(description="API token or password; from ${ENV}, never inline.")
    project: str = Field(description="Project key, e.g. CHURN.")
    issue_type: str = Field(default="Bug", description="Issue type created for alerts.")
    points_field: str | None = Field(
        default=None, description="Custom field id of story points, e.g. customfield_10016."
    )
    labels: list[str] = Field(default_factory=lambda: ["dspo"], description="Labels added.")
    resolve_transition: str | None = Field(
        default="Done", description="Transition applied on resolution; none to only comment."
    )
    reopen_transition: str = Field(default="To Do", description="Transition that reopens.")
    ignored_resolutions: list[str] = Field(
        default_factory=lambda: ["Won't Fix", "Won't Do", "Duplicate", "Declined"],
        description="An issue closed with one of these is never reopened.",
    )


class GithubSink(SinkBase):
    kind: Literal["github_issues"] = Field(description="GitHub issues, through PyGithub.")
    repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="owner/name.")
    token: SecretStr = Field(description="Token with issues:write; from ${ENV}.")
    api_url: HttpUrl = Field(
        default=HttpUrl("https://api.github.com"), description="API root (GitHub Enterprise)."
    )
    labels: list[str] = Field(default_factory=lambda: ["dspo"], description="Labels added.")
    ignored_reasons: list[str] = Field(
        default_factory=lambda: ["not_planned"],
        description="Close reasons (state_reason) that mean never reopen.",
    )


class WebhookSink(SinkBase):
    kind: Literal["webhook"] = Field(description="POSTs Slack-compatible JSON messages.")
    url: SecretStr = Field(description="Webhook URL (it is a secret); from ${ENV}.")
    timeout_seconds: float = Field(default=10, gt=0, description="Request timeout.")


Sink = Annotated[JiraSink | GithubSink | WebhookSink, Field(discriminator="kind")]
SINK_KINDS = ("jira", "github_issues", "webhook")
NATIVE_SINK = "backlog"


# ---------------------------------------------------------------- template fields

TEMPLATE_FIELDS = ("rule", "product", "severity", "value", "threshold", "op", "window",
                   "started", "labels")


def condition_label_names(condition: Any, objective: Any = None) -> tuple[str, ...]:
    """The labels an alert instance of this condition carries besides the rule's own.

    They identify the instance (and so its fingerprint): one alert per column of a
    feature-drift rule, one per pipeline of a pipeline rule. An objective condition's are
    those of the objective's signal (pass the objective), plus `objective`.
    """
    if isinstance(condition, ObjectiveCondition):
        inner = signal_label_names(objective) if objective is not None else ()
        return ("objective", *inner)
    return signal_label_names(condition)


def template_fields(rule: AlertRule, objective: Any = None) -> tuple[str, ...]:
    """Every name a rule's backlog template may use: the fixed fields and each label
    (`objective`: the objective an objective condition names)."""
    names = [*TEMPLATE_FIELDS, *rule.labels, *condition_label_names(rule.condition, objective)]
    return tuple(dict.fromkeys(names))
