"""Settings of the push source: systems with no collector write to dspo over HTTP.

Jenkins, GitLab CI, Kubeflow, SageMaker, Luigi or a team's own scripts POST their pipeline
runs, deployments, metric points, drift results and backlog items to dspo's push API
(docs/push-api.md) with this source's token. The runner never collects a push source
(`collector` is None); the API writes through the runner's path instead, so pushes are
recorded as runs of this source like any collection.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator

from config.sources import SourceBase

PushKind = Literal["pipeline_runs", "deployments", "metrics", "drift", "backlog_items"]
PUSH_KINDS: tuple[PushKind, ...] = (
    "pipeline_runs", "deployments", "metrics", "drift", "backlog_items",
)
MIN_TOKEN_LENGTH = 16


class PushSource(SourceBase):
    collector: ClassVar[str | None] = None

    kind: Literal["push"] = Field(
        description="Written to over HTTP by systems without a collector (docs/push-api.md)."
    )
    token: SecretStr = Field(
        description="Bearer token callers of this source send; from ${ENV}, at least 16 "
        "characters (e.g. `openssl rand -hex 32`). Each push source needs its own."
    )
    accepts: list[PushKind] = Field(
        default=list(PUSH_KINDS),
        min_length=1,
        description="Record kinds this source may push: pipeline_runs, deployments, "
        "metrics, drift, backlog_items; others are refused with 403.",
    )
    system: str | None = Field(
        default=None,
        min_length=1,
        description="System name stored with pushed pipeline runs (e.g. jenkins); "
        "default: the source name.",
    )

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"token must be at least {MIN_TOKEN_LENGTH} characters "
                "(generate one with: openssl rand -hex 32)"
            )
        return value

    @field_validator("accepts")
    @classmethod
    def _no_repeats(cls, value: list[PushKind]) -> list[PushKind]:
        return list(dict.fromkeys(value))

    @classmethod
    def check_together(cls, sources: list[tuple[int, SourceBase]]) -> None:
        """Each push source needs its own token, or one caller could write as another."""
        seen: dict[str, str] = {}
        for index, source in sources:
            if not isinstance(source, PushSource) or not source.enabled:
                continue
            token = source.token.get_secret_value()
            if token in seen:
                raise ValueError(f"sources[{index}].token: the same token as push source "
                                 f"{seen[token]!r}; give each push source its own")
            seen[token] = source.name

    @property
    def pipeline_system(self) -> str:
        """The `system` of pushed pipeline runs."""
        return self.system or self.name
