"""Settings of the airflow source: DAG runs and task instances through Airflow's REST API."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from config.base import Duration
from config.sources import SourceBase


class AirflowSource(SourceBase):
    collector: ClassVar[str | None] = "collectors.airflow:AirflowCollector"

    kind: Literal["airflow"] = Field(
        description="DAG runs and task instances of Apache Airflow 3 (/api/v2) or 2 (/api/v1)."
    )
    url: str = Field(
        pattern=r"^https?://",
        description="Airflow's base URL (the web UI's address), e.g. https://airflow.example.com.",
    )
    version: Literal["auto", "2", "3"] = Field(
        default="auto",
        description="Airflow major version: 3 (REST /api/v2, JWT), 2 (REST /api/v1, basic "
        "auth), or auto to detect it from the version endpoints.",
    )
    username: str | None = Field(
        default=None,
        description="User to sign in as (Airflow 3: a JWT from POST /auth/token; Airflow 2: "
        "basic auth). Needs read access to DAGs, DAG runs and task instances.",
    )
    password: SecretStr | None = Field(
        default=None, description="The user's password; from ${ENV}, never inline."
    )
    token: SecretStr | None = Field(
        default=None,
        description="A ready bearer token instead of username and password; from ${ENV}.",
    )
    dags: list[str] = Field(
        default_factory=list,
        description="DAG ids to read. With dag_pattern, a DAG is read when it is listed or "
        "matches; with neither, every unpaused DAG is read.",
    )
    dag_pattern: str | None = Field(
        default=None,
        description="Regular expression (Python, searched) a DAG id must match, e.g. ^ml_.",
    )
    pipeline_name: str = Field(
        default="{dag_id}",
        description="The pipeline name runs get on the dashboard; must contain {dag_id}, "
        "e.g. prod/{dag_id} to tell two Airflows apart.",
    )
    overlap: Duration = Field(
        default=timedelta(minutes=10),
        description="Re-read runs updated this long before the watermark: Airflow filters "
        "on updated_at but does not return it, so clock skew and late commits are covered.",
    )
    history: Duration = Field(
        default=timedelta(0),
        description="On the first run, read only runs updated this long before it, e.g. 90d; "
        "0s reads the whole history.",
    )
    page_size: int = Field(
        default=100, ge=1, le=1000,
        description="Items per request (Airflow caps it at its maximum_page_limit, 100 by "
        "default).",
    )
    tasks: bool = Field(
        default=True,
        description="Also read the task instances of each new or changed run (failed task "
        "names, try numbers).",
    )
    reconcile_every: Duration = Field(
        default=timedelta(hours=1),
        description="How often at most to list every run id of each DAG read, so runs "
        "deleted in Airflow leave the store too; 0s does it on every run.",
    )

    @field_validator("dag_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as e:
                raise ValueError(f"not a regular expression: {e}") from e
        return value

    @field_validator("pipeline_name")
    @classmethod
    def _names_each_dag(cls, value: str) -> str:
        # Runs are reconciled per pipeline name: two DAGs under one name would delete
        # each other's runs, so every name must carry the DAG id.
        try:
            rendered = value.format(dag_id="\0")
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"only {{dag_id}} may be used: {e}") from e
        if "\0" not in rendered:
            raise ValueError("must contain {dag_id}")
        return value

    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> AirflowSource:
        if self.token is not None and (self.username or self.password):
            raise ValueError("give either token or username and password, not both")
        if bool(self.username) != (self.password is not None):
            raise ValueError("username and password go together")
        if min(self.reconcile_every, self.overlap, self.history) < timedelta(0):
            raise ValueError("reconcile_every, overlap and history must not be negative")
        return self

    def pipeline_of(self, dag_id: str) -> str:
        """The pipeline name of a DAG's runs."""
        return self.pipeline_name.format(dag_id=dag_id)
