"""Pipeline runs read from MLflow: teams without an orchestrator API often log each
training or scoring job as an MLflow run, and its status is then the pipeline's state.

Same incremental rule as the tracking collector (shared `MlflowReader.runs`). Only
successful runs get a duration point: a failed run's duration says when it broke, not how
long the pipeline takes, and would skew the duration trend and its objectives.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from collectors.base import Collector
from collectors.mlflow_common import MlflowReader, mask_uri, run_url
from config.schema import MlflowPipelinesSource
from store.records import PipelineRun, PipelineState, Point, Record, SeriesKind, utc_from_ms

if TYPE_CHECKING:
    from mlflow.entities import Run as MlflowRun

log = logging.getLogger(__name__)

SYSTEM = "mlflow"
TRIGGER_TAGS = ("dspo.trigger", "mlflow.source.type")
STATES: dict[str, PipelineState] = {
    "FINISHED": PipelineState.SUCCESS,
    "FAILED": PipelineState.FAILED,
    "RUNNING": PipelineState.RUNNING,
    "SCHEDULED": PipelineState.QUEUED,
    "KILLED": PipelineState.CANCELLED,
}


class MlflowPipelinesCollector(Collector[MlflowPipelinesSource]):
    kind = "mlflow_pipelines"

    @property
    def where(self) -> str:
        return mask_uri(self.settings.tracking_uri)

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        reader = MlflowReader(self, self.settings.tracking_uri)
        experiments = reader.experiments(self.settings.experiments)
        for run in reader.runs(experiments, since, until, self.settings.overlap_minutes):
            record = self._pipeline_run(run, experiments[run.info.experiment_id], until)
            if record is None:
                continue
            yield record
            if record.state is PipelineState.SUCCESS and record.end is not None:
                yield Point(
                    product=self.product,
                    kind=SeriesKind.PIPELINE,
                    name="duration_seconds",
                    ts=record.end,
                    value=(record.end - record.start).total_seconds(),
                    labels={"pipeline": record.pipeline},
                    unit="s",
                )

    def _pipeline_run(self, run: MlflowRun, experiment: str, until: datetime) -> PipelineRun | None:
        info, tags = run.info, run.data.tags
        state = STATES.get(info.status)
        if state is None:  # a status newer than this code: skip it rather than guess
            log.warning("%s: run %s has unknown status %r", self.name, info.run_id, info.status)
            return None
        trigger = next((tags[t] for t in TRIGGER_TAGS if tags.get(t)), None)
        return PipelineRun(
            product=self.product,
            system=SYSTEM,
            pipeline=tags.get(self.settings.pipeline_tag) or experiment,
            run_id=info.run_id,
            state=state,
            start=utc_from_ms(info.start_time) if info.start_time else until,
            end=utc_from_ms(info.end_time) if info.end_time else None,
            trigger=trigger,
            url=run_url(self.settings.tracking_uri, info.experiment_id, info.run_id),
        )
