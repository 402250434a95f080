"""What the push API accepts: one pydantic model per record kind, strict.

These models are the contract: the published OpenAPI document (`collectors/push/openapi.py`)
is generated from them, and a request is validated by them, so the document and the
server cannot disagree. They are strict on purpose (a caller's typo must fail loudly, not
be stored half-right): unknown keys are refused, numbers are not accepted as strings nor
strings as numbers, and every time must carry a UTC offset or `Z`, since a naive time from
a build agent in another zone would silently shift a run by hours.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from annotated_types import Interval
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import WithJsonSchema

from collectors.files import STATUS_DEFAULTS

MAX_BODY_BYTES = 10 * 1024 * 1024
"""Largest request body (10 MiB: about 60,000 metric points); larger ones get 413."""
MAX_OBJECTS = 10_000
"""Most objects in one request's list."""

TIME_PATTERN = r"^(19|2[01])[0-9]{2}-.*(Z|z|[+-][0-9]{2}:?[0-9]{2})$"
"""A time of the years 1900-2199 with a UTC offset: dspo's reads (pandas) hold only those."""
TEXT_PATTERN = r"^[^\x00]*$"
"""No NUL character: PostgreSQL text cannot hold one."""


def _in_range(value: datetime) -> datetime:
    if not 1900 <= value.year <= 2199:
        raise ValueError("must lie in the years 1900 to 2199")
    return value


Time = Annotated[
    AwareDatetime,
    AfterValidator(_in_range),
    Field(json_schema_extra={"pattern": TIME_PATTERN,
                             "examples": ["2026-03-02T09:15:00Z", "2026-03-02T10:15:00+01:00"]}),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=TEXT_PATTERN)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=TEXT_PATTERN)]
Labels = Annotated[
    dict[Name, Annotated[str, StringConstraints(max_length=500, pattern=TEXT_PATTERN)]],
    Field(max_length=32),
]


def _whole(value: object) -> object:
    """2.0 is an integer to JSON Schema, so it is one here too."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _as_text(value: object) -> object:
    """A version or a points value sent as a number is kept as text: 7 -> '7', 2.5 -> '2.5'."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if not -(2**53) <= value <= 2**53:
        return value  # refused as not a string: beyond the numbers JSON keeps exact
    return str(int(value)) if float(value).is_integer() else repr(float(value))


Int32 = Annotated[int, Interval(ge=-(2**31), le=2**31 - 1), BeforeValidator(_whole)]
"""The store's integer columns are 32-bit."""
Count = Annotated[int, Interval(ge=0, le=2**31 - 1), BeforeValidator(_whole)]
NameOrNumber = Annotated[
    Name,
    BeforeValidator(_as_text),
    WithJsonSchema({"anyOf": [{"type": "string", "minLength": 1, "maxLength": 200,
                               "pattern": TEXT_PATTERN},
                              {"type": "number", "minimum": -(2**53), "maximum": 2**53}]}),
]


class Payload(BaseModel):
    """Strict JSON: unknown keys, wrong types and non-finite numbers are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class PipelineTaskIn(Payload):
    """One task or job of a run (a Jenkins stage, a GitLab job, a Kubeflow step)."""

    task_id: Name = Field(description="The task's name within its pipeline.")
    state: Name = Field(description="The system's own word: success, failed, skipped, ...")
    start: Time | None = None
    end: Time | None = None
    duration: float | None = Field(default=None, ge=0, description="Seconds, as the system "
                                   "reports them; default end - start.")
    try_number: Count | None = None
    map_index: Int32 = Field(default=-1, description="For mapped/matrix tasks; -1 when not.")
    operator: Name | None = Field(default=None, description="Kind of task, e.g. sh, docker.")


class PipelineRunIn(Payload):
    """A run of a pipeline; keyed by `run_id` within the source."""

    run_id: Name = Field(description="The caller's id of the run; re-sending it updates it.")
    pipeline: Name = Field(description="Pipeline, job or DAG name.")
    state: Literal["queued", "running", "success", "failed", "cancelled", "skipped"]
    start: Time
    end: Time | None = None
    trigger: Name | None = Field(default=None, description="Who or what started it.")
    url: Url | None = Field(default=None, description="Link to the run in its system.")
    run_type: Name | None = Field(default=None, description="scheduled, manual, push, ...")
    attempt: Annotated[int, Interval(ge=1, le=2**31 - 1), BeforeValidator(_whole)] | None = None
    duration: float | None = Field(default=None, ge=0, description="Seconds, as the system "
                                   "reports them; default end - start.")
    branch: Name | None = None
    detail: Labels = Field(default_factory=dict, description="The system's own words "
                           "(raw status, commit), shown with the run.")
    tasks: list[PipelineTaskIn] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _ends_after_start(self) -> PipelineRunIn:
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self


class DeploymentIn(Payload):
    """A model version deployed or promoted: `alias` now serves `version` since `at`."""

    model: Name = Field(description="Model name (as in objectives and alert rules).")
    alias: Name = Field(description="Alias or environment now serving the version: "
                        "champion, production, staging.")
    version: NameOrNumber | None = Field(description="The version now behind the alias; null "
                                       "when the alias was removed (undeployed).")
    at: Time = Field(description="When the alias moved; with model and alias, the key.")
    run_id: Name | None = Field(default=None, description="Training run of the version; "
                                "metric points labelled with this run_id count as its metrics.")


class MetricPointIn(Payload):
    """One value of a numeric series; keyed by (name, labels, ts, step)."""

    name: Name = Field(description="Metric or KPI name, e.g. auc or dau.")
    value: float
    ts: Time
    kind: Literal["model_metric", "usage"] = Field(
        default="model_metric", description="model_metric (quality of a model) or usage "
        "(a product KPI read by usage objectives by name)."
    )
    labels: Labels = Field(default_factory=dict, description="Series labels; a model "
                           "metric with label run_id counts towards the model version "
                           "deployed with that run_id.")
    unit: Annotated[str, StringConstraints(max_length=50, pattern=TEXT_PATTERN)] = ""
    step: Int32 = Field(default=0, description="Training step or epoch, where there is one.")


class DriftFeatureIn(Payload):
    column: Name
    method: Name = Field(description="Statistical test or distance, e.g. ks, psi.")
    score: float
    threshold: float
    drifted: bool


class DriftReportIn(Payload):
    """A data drift result over one window of one dataset; keyed by (dataset, window)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["features"], "properties": {"features": {"minItems": 1}}},
        {"required": ["drifted_share", "drifted_count", "column_count"],
         "properties": {"drifted_share": {"type": "number"},
                        "drifted_count": {"type": "integer"},
                        "column_count": {"type": "integer"}}},
    ]})

    dataset: Name = Field(description="Dataset name, as drift objectives and rules name it.")
    window_start: Time
    window_end: Time
    dataset_drift: bool = Field(description="The tool's verdict for the dataset as a whole.")
    drifted_share: float | None = Field(default=None, ge=0, le=1, description="Share of "
                                        "drifted columns; default from features.")
    drifted_count: Count | None = Field(default=None, description="Default from features.")
    column_count: Count | None = Field(default=None, description="Default from features.")
    features: list[DriftFeatureIn] = Field(default_factory=list, max_length=5000)
    model: Name | None = Field(default=None, description="Model the dataset feeds.")
    computed_at: Time | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DriftReportIn:
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        if not self.features:
            missing = [k for k in ("drifted_share", "drifted_count", "column_count")
                       if getattr(self, k) is None]
            if missing:
                raise ValueError(f"{', '.join(missing)} required when features are not given")
        return self

    def columns(self) -> list[DriftFeatureIn]:
        """The features, one per column (a column sent twice: the last one counts)."""
        return list({f.column: f for f in self.features}.values())

    def summary(self) -> tuple[float, int, int]:
        """(drifted share, drifted count, column count), given or counted from features."""
        features = self.columns()
        drifted = sum(f.drifted for f in features)
        columns = self.column_count if self.column_count is not None else len(features)
        count = self.drifted_count if self.drifted_count is not None else drifted
        share = self.drifted_share
        if share is None:
            share = count / columns if columns else 0.0
        return share, count, columns


Category = Literal["todo", "in_progress", "done"]


class ItemEventIn(Payload):
    """A change of one field of a backlog item (the base of burndown and cycle time)."""

    ts: Time
    field: Literal["status", "status_category", "points", "sprint"]
    from_value: NameOrNumber | None = Field(default=None, alias="from")
    to_value: NameOrNumber | None = Field(default=None, alias="to", description="null: "
                                          "cleared (e.g. removed from the sprint).")


class BacklogItemIn(Payload):
    """A backlog item of a tracker with no collector; keyed by `key` within the source."""

    key: Name = Field(description="The item's key, e.g. ML-142.")
    title: Annotated[str, StringConstraints(min_length=1, max_length=1000,
                                            pattern=TEXT_PATTERN)]
    type: Name = "Story"
    status: Name
    status_category: Category | None = Field(
        default=None, validate_default=True,
        description="todo, in_progress or done; default from common status names "
        "(To Do, In Progress, Done, ...), required for any other status.",
    )
    created: Time
    points: float | None = Field(default=None, ge=0)
    epic: Name | None = None
    sprint: Name | None = None
    resolved: Time | None = None
    labels: list[Name] = Field(default_factory=list, max_length=100)
    url: Url | None = None
    history: list[ItemEventIn] = Field(default_factory=list, max_length=5000)

    @field_validator("status_category")
    @classmethod
    def _category(cls, value: Category | None, info: ValidationInfo) -> Category | None:
        status = info.data.get("status")
        if value is not None or status is None:
            return value
        default = STATUS_DEFAULTS.get(" ".join(status.lower().split()))
        if default is None:
            raise ValueError(
                f"required: status {status!r} has no default category (todo, in_progress "
                "or done)"
            )
        return default.value  # type: ignore[return-value]

