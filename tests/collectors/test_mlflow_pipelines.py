"""The MLflow pipelines collector against a real sqlite tracking store (world: see
mlflow_fixtures.py)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
from mlflow_fixtures import (
    DAY,
    HOUR,
    LATER,
    MIN,
    SCORE,
    T0,
    TRAIN,
    World,
    assert_contract,
    free_port,
    sqlite_world,
)

from collectors.base import FatalSourceError, RetriableSourceError
from collectors.mlflow_pipelines import MlflowPipelinesCollector
from collectors.registry import collector_for
from config.schema import MlflowPipelinesSource
from store.records import PipelineRun, PipelineState, Point, SeriesKind


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, World]:
    return sqlite_world(tmp_path_factory.mktemp("mlflow"))


def source(uri: str, **overrides: Any) -> MlflowPipelinesSource:
    settings: dict[str, Any] = {
        "name": "mlflow-jobs",
        "product": "churn",
        "kind": "mlflow_pipelines",
        "tracking_uri": uri,
        "experiments": [TRAIN],
        **overrides,
    }
    return MlflowPipelinesSource(**settings)


def collect(
    settings: MlflowPipelinesSource, since: datetime | None = None, until: datetime = LATER
) -> list[Any]:
    return list(MlflowPipelinesCollector(settings).collect(since, until))


def pipeline_runs(records: list[Any], world: World) -> dict[str, PipelineRun]:
    """Story name -> record."""
    names = {run_id: name for name, run_id in world.runs.items()}
    return {names[r.run_id]: r for r in records if isinstance(r, PipelineRun)}


def test_registry_builds_the_collector(world: tuple[str, World]) -> None:
    assert isinstance(collector_for(source(world[0])), MlflowPipelinesCollector)


def test_runs_become_pipeline_runs_with_mapped_states(world: tuple[str, World]) -> None:
    uri, w = world
    records = collect(source(uri))
    assert_contract(records)
    runs = pipeline_runs(records, w)
    assert {name: r.state for name, r in runs.items()} == {
        "old": PipelineState.SUCCESS,
        "new": PipelineState.SUCCESS,
        "failed": PipelineState.FAILED,
        "running": PipelineState.RUNNING,
        "scheduled": PipelineState.QUEUED,
        "killed": PipelineState.CANCELLED,
    }
    old = runs["old"]
    assert (old.product, old.system, old.run_id) == ("churn", "mlflow", w.runs["old"])
    assert (old.pipeline, old.trigger) == ("train-churn", "schedule")
    assert (old.start, old.end, old.url) == (T0, T0 + 10 * MIN, None)
    # no pipeline tag: the experiment names the pipeline; trigger falls back to the source type
    assert (runs["failed"].pipeline, runs["failed"].trigger) == (TRAIN, "JOB")
    assert runs["killed"].trigger is None
    assert (runs["running"].start, runs["running"].end) == (T0 - HOUR, None)


def test_successful_runs_get_a_duration_point(world: tuple[str, World]) -> None:
    records = collect(source(world[0]))
    points = sorted((p for p in records if isinstance(p, Point)), key=lambda p: p.ts)
    assert [(p.ts, p.value, dict(p.labels)) for p in points] == [
        (T0 + 10 * MIN, 600.0, {"pipeline": "train-churn"}),
        (T0 + 2 * DAY + 5 * MIN, 300.0, {"pipeline": "train-churn"}),
    ]
    assert all(
        (p.kind, p.name, p.unit) == (SeriesKind.PIPELINE, "duration_seconds", "s") for p in points
    )


def test_pipeline_tag_is_configurable(world: tuple[str, World]) -> None:
    uri, w = world
    runs = pipeline_runs(collect(source(uri, pipeline_tag="team", experiments=[TRAIN, SCORE])), w)
    assert runs["old"].pipeline == "risk"  # the old run carries team=risk
    assert runs["new"].pipeline == TRAIN
    assert runs["score"].pipeline == SCORE


def test_incremental_keeps_unfinished_runs(world: tuple[str, World]) -> None:
    uri, w = world
    since = T0 + DAY + 30 * MIN
    runs = pipeline_runs(collect(source(uri, overlap_minutes=0), since=since), w)
    assert set(runs) == {"killed", "scheduled", "new", "running"}
    assert set(pipeline_runs(collect(source(uri), since=LATER), w)) == {"running", "scheduled"}


def test_second_collect_yields_the_same_records(world: tuple[str, World]) -> None:
    settings = source(world[0])
    assert collect(settings) == collect(settings)


def test_unknown_experiment_is_fatal_and_named(world: tuple[str, World]) -> None:
    with pytest.raises(FatalSourceError) as err:
        collect(source(world[0], experiments=["nightly-scoring"]))
    assert "mlflow-jobs" in str(err.value) and "'nightly-scoring'" in str(err.value)


def test_unreachable_server_fails_fast_and_retriable() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    started = time.monotonic()
    with pytest.raises(RetriableSourceError) as err:
        collect(source(url))
    assert time.monotonic() - started < 20
    assert "mlflow-jobs" in str(err.value) and url in str(err.value)
