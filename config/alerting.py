"""Alert rules and the sinks their backlog items go to, as pydantic models.

A rule turns a product problem into a backlog item: a condition over a series dspo holds,
how long it must hold (`for`), and the item to file. Validated at load, so a bad rule is a
config error naming the rule and the key, never a surprise at 3 a.m.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, HttpUrl, SecretStr

from config.base import KEY_PATTERN, Duration, Op, Strict

StateOnProblem = Literal["ok", "alerting", "keep_state"]


# ---------------------------------------------------------------- conditions


class ConditionBase(Strict):
    op: Op = Field(description="How the value is compared with threshold: >=, >, <= or <.")
    threshold: float = Field(description="The condition holds when `value op threshold`.")


class ModelMetricCondition(ConditionBase):
    kind: Literal["model_metric"] = Field(description="Latest metric of a model version.")
    model: str = Field(description="Registered model name.")
    alias: str | None = Field(default="champion", description="Alias naming the version.")
    version: str | None = Field(default=None, description="A fixed version instead.")
    metric: str = Field(description="Metric key, e.g. auc.")


class DriftCondition(ConditionBase):
    kind: Literal["drift"] = Field(description="Drifted share of the latest drift report.")
    dataset: str = Field(description="Dataset name of an evidently source.")


class FeatureDriftCondition(ConditionBase):
    kind: Literal["feature_drift"] = Field(
        description="Drift score of each column in the latest report: one alert per column."
    )
    dataset: str = Field(description="Dataset name of an evidently source.")
    columns: list[str] = Field(default_factory=list, description="Columns; empty means all.")


class DataQualityCondition(ConditionBase):
    kind: Literal["data_quality"] = Field(description="Latest data quality of a dataset.")
    dataset: str = Field(description="Dataset name of an evidently source.")
    metric: Literal["rows", "missing_share"] = Field(description="rows or missing_share.")


class PipelineFailuresCondition(ConditionBase):
    kind: Literal["pipeline_failures"] = Field(
        description="Failed runs in a trailing window: one alert per pipeline."
    )
    pipeline: str | None = Field(default=None, description="One pipeline; omit for each.")
    window: Duration = Field(default=timedelta(days=1), description="Trailing window, e.g. 1d.")


class PipelineFreshnessCondition(ConditionBase):
    kind: Literal["pipeline_freshness"] = Field(
        description="Hours since the last successful run: one alert per pipeline."
    )
    pipeline: str | None = Field(default=None, description="One pipeline; omit for each.")


class UsageCondition(ConditionBase):
    kind: Literal["usage"] = Field(description="Latest value of a usage KPI.")
    kpi: str = Field(description="Query name of a sql_kpis source.")


class UsageChangeCondition(ConditionBase):
    kind: Literal["usage_change"] = Field(
        description="Relative change of a usage KPI's mean: last window against the one "
        "before (-0.2 = down 20%)."
    )
    kpi: str = Field(description="Query name of a sql_kpis source.")
    window: Duration = Field(default=timedelta(days=7), description="Window length, e.g. 7d.")


Condition = Annotated[
    ModelMetricCondition | DriftCondition | FeatureDriftCondition | DataQualityCondition
    | PipelineFailuresCondition | PipelineFreshnessCondition | UsageCondition
    | UsageChangeCondition,
    Field(discriminator="kind"),
]
CONDITION_KINDS = ("model_metric", "drift", "feature_drift", "data_quality",
                   "pipeline_failures", "pipeline_freshness", "usage", "usage_change")


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


# ---------------------------------------------------------------- sinks


class SinkBase(Strict):
    name: str = Field(pattern=KEY_PATTERN, description="Name rules use in their sinks list.")


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


def condition_label_names(condition: Any) -> tuple[str, ...]:
    """The labels an alert instance of this condition carries besides the rule's own.

    They identify the instance (and so its fingerprint): one alert per column of a
    feature-drift rule, one per pipeline of a pipeline rule.
    """
    match condition:
        case ModelMetricCondition():
            return ("model", "alias" if condition.version is None else "version", "metric")
        case DriftCondition():
            return ("dataset",)
        case FeatureDriftCondition():
            return ("dataset", "column")
        case DataQualityCondition():
            return ("dataset", "metric")
        case PipelineFailuresCondition() | PipelineFreshnessCondition():
            return ("pipeline",)
        case UsageCondition() | UsageChangeCondition():
            return ("kpi",)
    raise TypeError(f"unknown condition {type(condition).__name__}")


def template_fields(rule: AlertRule) -> tuple[str, ...]:
    """Every name a rule's backlog template may use: the fixed fields and each label."""
    names = [*TEMPLATE_FIELDS, *rule.labels, *condition_label_names(rule.condition)]
    return tuple(dict.fromkeys(names))
