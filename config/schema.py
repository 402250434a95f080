"""The YAML configuration of dspo, as pydantic models.

Every field carries its own description: `config/example.yaml` and `docs/configuration.md`
are checked against these models by a test, so a new option cannot go undocumented.
Settings of sources live in `config/sources/` (not in `collectors/`) so that `dspo config
check` validates a whole file without importing MLflow or Evidently; the kinds a file may
use are those registered in the `dspo.collectors` entry point group (`config.sources`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import (
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic_core import CoreSchema

from config.alerting import NATIVE_SINK, AlertRule, ObjectiveCondition, Sink, template_fields
from config.auth import OidcConfig
from config.base import KEY_PATTERN, Duration, Op, Strict
from config.experiments import BacklogSettings, ExperimentLink
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
)
from config.sources import SourceBase, source_models
from config.sources.evidently import DriftDataset, EvidentlySource, FileFrame
from config.sources.files import FilesSource
from config.sources.mlflow import MlflowPipelinesSource, MlflowSource
from config.sources.sql import SqlKpiQuery, SqlKpisSource
from config.stakeholders import StakeholderPage, check_pages

# Older modules import these from here: keep them importable.
__all__ = [
    "KEY_PATTERN", "DriftDataset", "EvidentlySource", "FileFrame", "FilesSource",
    "MlflowPipelinesSource", "MlflowSource", "Op", "SourceBase", "SqlKpiQuery",
    "SqlKpisSource", "Strict",
]


# ---------------------------------------------------------------- objectives


class ObjectiveBase(Strict):
    name: str = Field(description="Label shown on the health panel.")
    op: Op = Field(description="How the value is compared: >=, >, <= or <.")
    threshold: float = Field(description="Red boundary: the objective fails beyond it.")
    warning: float | None = Field(
        default=None,
        description="Amber boundary: between threshold and warning the objective is at risk. "
        "Omit for green/red only.",
    )

    @model_validator(mode="after")
    def _warning_on_safe_side(self) -> ObjectiveBase:
        if self.warning is None:
            return self
        safe_is_higher = self.op in (">=", ">")
        if (self.warning < self.threshold) if safe_is_higher else (self.warning > self.threshold):
            side = "at or above" if safe_is_higher else "at or below"
            raise ValueError(f"warning must lie {side} threshold for op {self.op!r}")
        return self


class ModelMetricObjective(ModelMetricSignal, ObjectiveBase):
    pass


class DriftObjective(DriftSignal, ObjectiveBase):
    pass


class FeatureDriftObjective(FeatureDriftSignal, ObjectiveBase):
    pass


class DataQualityObjective(DataQualitySignal, ObjectiveBase):
    pass


class PipelineSuccessObjective(PipelineSuccessSignal, ObjectiveBase):
    pass


class PipelineFailuresObjective(PipelineFailuresSignal, ObjectiveBase):
    pass


class PipelineFreshnessObjective(PipelineFreshnessSignal, ObjectiveBase):
    pass


class UsageObjective(UsageSignal, ObjectiveBase):
    pass


class UsageChangeObjective(UsageChangeSignal, ObjectiveBase):
    pass


AnyObjective = (
    ModelMetricObjective | DriftObjective | FeatureDriftObjective | DataQualityObjective
    | PipelineSuccessObjective | PipelineFailuresObjective | PipelineFreshnessObjective
    | UsageObjective | UsageChangeObjective
)
Objective = Annotated[AnyObjective, Field(discriminator="kind")]


class ProductConfig(Strict):
    key: str = Field(pattern=KEY_PATTERN, description="Short id used in URLs and sources.")
    name: str = Field(description="Display name.")
    owner: str = Field(default="", description="The product owner, shown on the overview.")
    description: str = Field(default="", description="One line on what the product does.")
    objectives: list[Objective] = Field(
        default_factory=list, description="Health objectives; the product takes the worst."
    )
    backlog: BacklogSettings = Field(
        default_factory=BacklogSettings, description="How the product's backlog is read."
    )
    experiments: list[ExperimentLink] = Field(
        default_factory=list,
        description="Experiment items declared here rather than (or beside) in the tracker: "
        "hypothesis, success criterion and linked MLflow runs (docs/experiments.md).",
    )

    @model_validator(mode="after")
    def _experiments_unique(self) -> ProductConfig:
        _unique([e.item for e in self.experiments], "experiments", "item")
        return self


# ---------------------------------------------------------------- sources


class RegisteredSource:
    """Validates a source as the registered kind its `kind` key names.

    The set of kinds is only known once the entry points are read, so the tagged union is
    built when pydantic first needs it (DspoConfig defers its schema), not at import time.
    """

    def __get_pydantic_core_schema__(
        self, _source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        models = tuple(source_models().values())
        if len(models) == 1:
            return handler.generate_schema(models[0])
        return handler.generate_schema(
            Annotated[_union(models), Field(discriminator="kind")]  # type: ignore[valid-type]
        )


def _union(models: tuple[type[SourceBase], ...]) -> Any:
    from typing import Union

    return Union[models]  # noqa: UP007 - a runtime-built union needs the subscript form


OBJECTIVE_KINDS = SIGNAL_KINDS


# ---------------------------------------------------------------- top level


class RetentionConfig(Strict):
    raw_points: Duration | None = Field(
        default=None,
        description="Raw points older than this (e.g. 400d) are deleted by `dspo db prune` "
        "and after `dspo collect`, once their day is rolled up; charts over older ranges "
        "then show each day's minimum and maximum. Omit to keep every point.",
    )

    @field_validator("raw_points")
    @classmethod
    def _at_least_a_day(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(days=1):
            raise ValueError("must be at least 1d (points are pruned by whole UTC days)")
        return value


class StoreConfig(Strict):
    url: str = Field(
        default="sqlite:///.dspo/dspo.db",
        description="SQLAlchemy URL: sqlite:///path (embedded) or postgresql+psycopg://...",
    )
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig,
        description="How long raw points are kept (rollups are kept for ever).",
    )


_HOST_NAME = re.compile(r"\.?[a-z0-9]([a-z0-9.-]*[a-z0-9])?", re.IGNORECASE)


class DashboardConfig(Strict):
    title: str = Field(default="dspo", description="Shown in the navigation bar.")
    timezone: str = Field(default="UTC", description="IANA zone used to display times.")
    base_url: str | None = Field(
        default=None,
        description="Public URL of the dashboard, e.g. https://dspo.example.com; alert "
        "tickets link to its pages. Omit and tickets carry no dspo links.",
    )
    oidc: OidcConfig | None = Field(
        default=None,
        description="Single sign-on through OpenID Connect (docs/sso.md), beside password "
        "sign-in. Omit for passwords only.",
    )
    trusted_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost"],
        description="Host names the dashboard answers to; a request with another Host "
        "header gets 400 (DNS rebinding). The host of base_url is always added. A leading "
        "dot admits every subdomain (.example.com). Names only: no scheme, port or path.",
    )
    https: bool = Field(
        default=False,
        description="The dashboard is reached over HTTPS (e.g. behind a TLS proxy): send "
        "HSTS and mark cookies Secure. Leave false on plain HTTP, or browsers drop the cookies.",
    )
    proxy_hops: int = Field(
        default=0, ge=0, le=10,
        description="How many reverse proxies in front of dspo set X-Forwarded-For, -Proto, "
        "-Host and -Port (trusted through werkzeug's ProxyFix); 0 trusts none. Set it only "
        "behind proxies that overwrite those headers, or a client can forge them.",
    )

    @model_validator(mode="after")
    def _host_names(self) -> DashboardConfig:
        """A scheme or port in a host entry would silently match nothing."""
        for i, host in enumerate(self.trusted_hosts):
            if not _HOST_NAME.fullmatch(host):
                raise ValueError(
                    f"trusted_hosts[{i}]: {host!r} is not a host name; write the name "
                    "alone, e.g. dspo.example.com or .example.com (no scheme, port or path)"
                )
        return self


class DspoConfig(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    store: StoreConfig = Field(default_factory=StoreConfig, description="Where dspo keeps data.")
    dashboard: DashboardConfig = Field(
        default_factory=DashboardConfig, description="Dashboard settings."
    )
    products: list[ProductConfig] = Field(min_length=1, description="The products shown.")
    sources: list[Annotated[SourceBase, RegisteredSource()]] = Field(
        default_factory=list, description="Where data is collected; see `config.sources`."
    )
    alerts: list[AlertRule] = Field(
        default_factory=list, description="Alert rules: problems that become backlog items."
    )
    sinks: list[Sink] = Field(
        default_factory=list, description="Trackers and channels alert rules file items to."
    )
    stakeholder_pages: list[StakeholderPage] = Field(
        default_factory=list,
        description="KPI pages published for stakeholders (and share links), at /kpi/<slug>.",
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> DspoConfig:
        product_keys = [p.key for p in self.products]
        _unique(product_keys, "products", "key")
        _unique([s.name for s in self.sources], "sources", "name")
        for i, source in enumerate(self.sources):
            if source.product not in product_keys:
                raise ValueError(
                    f"sources[{i}].product: unknown product {source.product!r} "
                    f"(known: {', '.join(product_keys)})"
                )
        by_kind: dict[type[SourceBase], list[tuple[int, SourceBase]]] = {}
        for i, source in enumerate(self.sources):
            by_kind.setdefault(type(source), []).append((i, source))
        for model, entries in by_kind.items():
            model.check_together(entries)
        _unique([s.name for s in self.sinks], "sinks", "name")
        if NATIVE_SINK in {s.name for s in self.sinks}:
            raise ValueError(f"sinks: the name {NATIVE_SINK!r} is dspo's own backlog; rename it")
        _unique([r.name for r in self.alerts], "alerts", "name")
        for product in self.products:
            _unique([o.name for o in product.objectives], f"products[{product.key}].objectives",
                    "name")
        for i, rule in enumerate(self.alerts):
            _check_rule(f"alerts[{i}] (rule {rule.name!r})", rule, self.products,
                        [NATIVE_SINK, *(s.name for s in self.sinks)])
        check_pages(self.stakeholder_pages, self.products)
        return self

    def stakeholder_page(self, slug: str) -> StakeholderPage | None:
        """The KPI page at /kpi/<slug>, None when the config publishes none there."""
        return next((p for p in self.stakeholder_pages if p.slug == slug), None)

    def product(self, key: str) -> ProductConfig:
        for product in self.products:
            if product.key == key:
                return product
        raise KeyError(key)


def _check_rule(path: str, rule: AlertRule, products: list[ProductConfig],
                sinks: list[str]) -> None:
    """What one rule cannot check alone: names it refers to, and its title template."""
    by_key = {p.key: p for p in products}
    if rule.product not in by_key:
        raise ValueError(
            f"{path}.product: unknown product {rule.product!r} (known: {', '.join(by_key)})"
        )
    objective = None
    if isinstance(rule.condition, ObjectiveCondition):
        objective = objective_named(by_key[rule.product], rule.condition.objective, path)
        rule.condition.bind(objective)
    for j, sink in enumerate(rule.sinks):
        if sink not in sinks:
            raise ValueError(
                f"{path}.sinks[{j}]: unknown sink {sink!r} (known: {', '.join(sinks)})"
            )
    dummies = {name: _Dummy() for name in template_fields(rule, objective)}
    for key in ("title", "description"):
        try:
            getattr(rule.backlog, key).format_map(dummies)
        except KeyError as e:
            known = ", ".join(sorted(dummies))
            raise ValueError(
                f"{path}.backlog.{key}: unknown field {e.args[0]!r} (known: {known})"
            ) from None
        except (ValueError, IndexError, AttributeError, TypeError) as e:
            raise ValueError(f"{path}.backlog.{key}: not a valid template: {e}") from None


def objective_named(product: ProductConfig, name: str, path: str = "condition") -> AnyObjective:
    """The product's objective called `name`; a config error naming the known ones if none."""
    for objective in product.objectives:
        if objective.name == name:
            return objective
    known = ", ".join(repr(o.name) for o in product.objectives) or "none"
    raise ValueError(f"{path}.condition.objective: product {product.key!r} has no objective "
                     f"{name!r} (known: {known})")


class _Dummy(float):
    """Stands for any template value: formats as a number, a string or a mapping."""

    def __new__(cls) -> _Dummy:
        return super().__new__(cls, 0.0)

    def __format__(self, spec: str) -> str:
        try:
            return float.__format__(self, spec)
        except ValueError:
            return format("x", spec)

    def __getitem__(self, key: object) -> _Dummy:
        return self


def _unique(values: list[str], section: str, key: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise ValueError(f"{section}[{i}].{key}: duplicate {value!r}")
        seen.add(value)
