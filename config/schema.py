"""The YAML configuration of dspo, as pydantic models.

Every field carries its own description: `config/example.yaml` and `docs/configuration.md`
are checked against these models by a test, so a new option cannot go undocumented.
Settings of sources live here (not in `collectors/`) so that `dspo config check` validates
a whole file without importing MLflow or Evidently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from config.alerting import NATIVE_SINK, AlertRule, Sink, template_fields
from config.base import KEY_PATTERN, Op, Strict

# KEY_PATTERN, Op and Strict are imported from here by older modules: keep them importable.


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


class ModelMetricObjective(ObjectiveBase):
    kind: Literal["model_metric"] = Field(description="A metric of a registered model version.")
    model: str = Field(description="Registered model name, as in the MLflow registry.")
    alias: str | None = Field(default="champion", description="Alias naming the version.")
    version: str | None = Field(default=None, description="A fixed version instead of an alias.")
    metric: str = Field(description="Metric key logged by the model's runs, e.g. auc.")


class DriftObjective(ObjectiveBase):
    kind: Literal["drift"] = Field(description="Drifted share of columns in the latest report.")
    dataset: str = Field(description="Dataset name as configured in an evidently source.")


class PipelineSuccessObjective(ObjectiveBase):
    kind: Literal["pipeline_success_rate"] = Field(
        description="Share of finished pipeline runs that succeeded in a trailing window."
    )
    pipeline: str | None = Field(default=None, description="One pipeline; omit for all.")
    window_days: int = Field(default=7, ge=1, description="Trailing window in days.")


class UsageObjective(ObjectiveBase):
    kind: Literal["usage"] = Field(description="Latest value of a usage KPI.")
    kpi: str = Field(description="Query name of a sql_kpis source.")


Objective = Annotated[
    ModelMetricObjective | DriftObjective | PipelineSuccessObjective | UsageObjective,
    Field(discriminator="kind"),
]


class ProductConfig(Strict):
    key: str = Field(pattern=KEY_PATTERN, description="Short id used in URLs and sources.")
    name: str = Field(description="Display name.")
    owner: str = Field(default="", description="The product owner, shown on the overview.")
    description: str = Field(default="", description="One line on what the product does.")
    objectives: list[Objective] = Field(
        default_factory=list, description="Health objectives; the product takes the worst."
    )


# ---------------------------------------------------------------- sources


class SourceBase(Strict):
    name: str = Field(pattern=KEY_PATTERN, description="Unique source name; keys its state.")
    product: str = Field(description="Key of the product this source's records belong to.")
    enabled: bool = Field(default=True, description="Set false to skip without deleting.")


class MlflowSource(SourceBase):
    kind: Literal["mlflow"] = Field(description="Runs, metrics and registry of MLflow.")
    tracking_uri: str = Field(description="MLflow tracking URI: http(s)://, sqlite:///, ...")
    registry_uri: str | None = Field(default=None, description="Defaults to tracking_uri.")
    experiments: list[str] = Field(
        default_factory=list, description="Experiment names to read; empty reads all."
    )
    models: list[str] = Field(
        default_factory=list, description="Registered model names; empty reads all."
    )
    overlap_minutes: int = Field(
        default=60, ge=0, description="Re-read runs this far before the watermark (clock skew)."
    )


class MlflowPipelinesSource(SourceBase):
    kind: Literal["mlflow_pipelines"] = Field(
        description="Pipeline runs taken from the states of MLflow runs."
    )
    tracking_uri: str = Field(description="MLflow tracking URI.")
    experiments: list[str] = Field(
        min_length=1, description="Experiments whose runs are pipeline runs."
    )
    pipeline_tag: str = Field(
        default="dspo.pipeline",
        description="Run tag naming the pipeline; without it the experiment name is used.",
    )
    overlap_minutes: int = Field(default=60, ge=0, description="Re-read window before watermark.")


class FileFrame(Strict):
    """Where a table comes from: a file, or a SQL query against any SQLAlchemy URL."""

    path: Path | None = Field(default=None, description="CSV or Parquet file.")
    url: str | None = Field(default=None, description="SQLAlchemy URL of the database.")
    query: str | None = Field(default=None, description="SELECT returning the rows.")

    @model_validator(mode="after")
    def _one_origin(self) -> FileFrame:
        if (self.path is None) == (self.url is None):
            raise ValueError("give either path, or url with query")
        if self.url is not None and not self.query:
            raise ValueError("url needs a query")
        return self


class DriftDataset(Strict):
    name: str = Field(pattern=KEY_PATTERN, description="Dataset name shown and selected by.")
    model: str | None = Field(default=None, description="Model the dataset feeds, if any.")
    reference: FileFrame = Field(description="Reference data (e.g. the training set).")
    current: FileFrame = Field(description="Production data, split into windows.")
    timestamp_column: str = Field(default="ts", description="Column of the current data's time.")
    window_days: int = Field(default=7, ge=1, description="Length of one report's window.")
    columns: list[str] = Field(
        default_factory=list, description="Columns to compare; empty compares all shared ones."
    )


class EvidentlySource(SourceBase):
    kind: Literal["evidently"] = Field(description="Data drift and quality via Evidently.")
    reports_dir: Path = Field(description="Where full reports are kept (linked from the store).")
    datasets: list[DriftDataset] = Field(default_factory=list, description="Pairs to compare.")
    import_dirs: list[Path] = Field(
        default_factory=list,
        description="Folders of Evidently snapshot JSON saved by the team's own pipelines.",
    )
    save_html: bool = Field(default=False, description="Also keep a self-contained HTML report.")


class SqlKpiQuery(Strict):
    name: str = Field(pattern=KEY_PATTERN, description="KPI name, used by usage objectives.")
    sql: str = Field(description="SELECT returning columns ts and value.")
    unit: str = Field(default="", description="Unit shown next to the value.")


class SqlKpisSource(SourceBase):
    kind: Literal["sql_kpis"] = Field(description="Usage KPIs from SQL against product data.")
    url: str = Field(description="SQLAlchemy URL of the product database.")
    queries: list[SqlKpiQuery] = Field(min_length=1, description="One query per KPI.")


class FilesSource(SourceBase):
    kind: Literal["files"] = Field(description="Backlog, sprints and history from exports.")
    items: Path = Field(description="Backlog items: CSV (dspo or Jira export columns) or JSON.")
    sprints: Path | None = Field(default=None, description="Sprints: CSV or JSON.")
    history: Path | None = Field(default=None, description="Item field changes: CSV or JSON.")
    base_url: str | None = Field(default=None, description="Prefix of item links, e.g. Jira.")


Source = Annotated[
    MlflowSource | MlflowPipelinesSource | EvidentlySource | SqlKpisSource | FilesSource,
    Field(discriminator="kind"),
]
SOURCE_KINDS = ("mlflow", "mlflow_pipelines", "evidently", "sql_kpis", "files")
OBJECTIVE_KINDS = ("model_metric", "drift", "pipeline_success_rate", "usage")


# ---------------------------------------------------------------- top level


class StoreConfig(Strict):
    url: str = Field(
        default="sqlite:///.dspo/dspo.db",
        description="SQLAlchemy URL: sqlite:///path (embedded) or postgresql+psycopg://...",
    )


class DashboardConfig(Strict):
    title: str = Field(default="dspo", description="Shown in the navigation bar.")
    timezone: str = Field(default="UTC", description="IANA zone used to display times.")
    base_url: str | None = Field(
        default=None,
        description="Public URL of the dashboard, e.g. https://dspo.example.com; alert "
        "tickets link to its pages. Omit and tickets carry no dspo links.",
    )


class DspoConfig(Strict):
    store: StoreConfig = Field(default_factory=StoreConfig, description="Where dspo keeps data.")
    dashboard: DashboardConfig = Field(
        default_factory=DashboardConfig, description="Dashboard settings."
    )
    products: list[ProductConfig] = Field(min_length=1, description="The products shown.")
    sources: list[Source] = Field(default_factory=list, description="Where data is collected.")
    alerts: list[AlertRule] = Field(
        default_factory=list, description="Alert rules: problems that become backlog items."
    )
    sinks: list[Sink] = Field(
        default_factory=list, description="Trackers and channels alert rules file items to."
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
        _unique([s.name for s in self.sinks], "sinks", "name")
        if NATIVE_SINK in {s.name for s in self.sinks}:
            raise ValueError(f"sinks: the name {NATIVE_SINK!r} is dspo's own backlog; rename it")
        _unique([r.name for r in self.alerts], "alerts", "name")
        for i, rule in enumerate(self.alerts):
            _check_rule(f"alerts[{i}] (rule {rule.name!r})", rule, product_keys,
                        [NATIVE_SINK, *(s.name for s in self.sinks)])
        return self

    def product(self, key: str) -> ProductConfig:
        for product in self.products:
            if product.key == key:
                return product
        raise KeyError(key)


def _check_rule(path: str, rule: AlertRule, products: list[str], sinks: list[str]) -> None:
    """What one rule cannot check alone: names it refers to, and its title template."""
    if rule.product not in products:
        raise ValueError(
            f"{path}.product: unknown product {rule.product!r} (known: {', '.join(products)})"
        )
    for j, sink in enumerate(rule.sinks):
        if sink not in sinks:
            raise ValueError(
                f"{path}.sinks[{j}]: unknown sink {sink!r} (known: {', '.join(sinks)})"
            )
    dummies = {name: _Dummy() for name in template_fields(rule)}
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
