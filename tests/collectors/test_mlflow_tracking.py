"""The MLflow tracking collector against a real sqlite tracking store (and, marked slow, a
real `mlflow server`); the world is described in mlflow_fixtures.py."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import (
    AUC_NEW,
    AUC_OLD,
    DAY,
    HOUR,
    LATER,
    LOSS_OLD,
    MIN,
    SCORE,
    T0,
    TRAIN,
    World,
    assert_contract,
    build_world,
    by_type,
    free_port,
    mlflow_server,
    sqlite_world,
)

from collectors import mlflow_common, mlflow_tracking
from collectors.base import FatalSourceError, RetriableSourceError, SourceError
from collectors.mlflow_common import SHORT_HTTP_RETRIES, is_retriable, mask_uri, run_url
from collectors.mlflow_tracking import ALIAS_HISTORY_TAG, MlflowCollector, parse_alias_history
from collectors.registry import collector_for
from config.schema import MlflowSource
from store.records import AliasEvent, ModelVersion, Point, Run, SeriesKind


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, World]:
    return sqlite_world(tmp_path_factory.mktemp("mlflow"))


def source(uri: str, **overrides: Any) -> MlflowSource:
    settings: dict[str, Any] = {
        "name": "mlflow-main",
        "product": "churn",
        "kind": "mlflow",
        "tracking_uri": uri,
        "experiments": [TRAIN],
        **overrides,
    }
    return MlflowSource(**settings)


def collect(
    settings: MlflowSource, since: datetime | None = None, until: datetime = LATER
) -> list[Any]:
    return list(MlflowCollector(settings).collect(since, until))


def run_names(records: list[Any]) -> set[str]:
    return {r.name for r in records if isinstance(r, Run)}


def history(records: list[Any], run_id: str, name: str) -> list[tuple[int, datetime, float]]:
    return sorted(
        (p.step, p.ts, p.value)
        for p in records
        if isinstance(p, Point) and p.name == name and p.labels["run_id"] == run_id
    )


def versions(records: list[Any]) -> dict[tuple[str, str], ModelVersion]:
    return {(v.model, v.version): v for v in records if isinstance(v, ModelVersion)}


def test_registry_builds_the_collector(world: tuple[str, World]) -> None:
    assert isinstance(collector_for(source(world[0])), MlflowCollector)


def test_full_collect_yields_runs_with_params_tags_and_model(world: tuple[str, World]) -> None:
    uri, w = world
    records = collect(source(uri))
    assert_contract(records)
    runs = {r.name: r for r in records if isinstance(r, Run)}
    assert set(runs) == {"running", "old", "failed", "killed", "scheduled", "new"}
    old = runs["old"]
    assert old.product == "churn"
    assert old.run_id == w.runs["old"]
    assert old.experiment == TRAIN
    assert old.status == "FINISHED"
    assert (old.start, old.end) == (T0, T0 + 10 * MIN)
    assert old.start.tzinfo is UTC
    assert old.params == {"lr": "0.1", "depth": "6"}
    assert old.tags["team"] == "risk"
    assert (old.model, old.model_version) == ("churn", "1")
    assert old.url is None  # sqlite has no UI to link to
    assert (runs["new"].model, runs["new"].model_version) == ("churn", "2")
    assert (runs["running"].status, runs["running"].end) == ("RUNNING", None)
    assert runs["failed"].status == "FAILED"
    assert runs["failed"].model is None
    assert runs["scheduled"].status == "SCHEDULED"


def test_metric_history_is_complete_with_steps_and_timestamps(world: tuple[str, World]) -> None:
    uri, w = world
    records = collect(source(uri))
    assert history(records, w.runs["old"], "auc") == AUC_OLD
    assert history(records, w.runs["old"], "loss") == LOSS_OLD
    assert history(records, w.runs["new"], "auc") == AUC_NEW
    point = next(p for p in records if isinstance(p, Point))
    assert point.kind is SeriesKind.MODEL_METRIC
    points = [p for p in records if isinstance(p, Point)]
    assert len(points) == 3 + 2 + 1 + 1
    assert all(set(p.labels) == {"run_id", "experiment"} for p in points)
    assert {p.labels["experiment"] for p in points} == {TRAIN}


def test_registry_models_versions_and_aliases(world: tuple[str, World]) -> None:
    uri, w = world
    records = collect(source(uri))
    grouped = by_type(records)
    assert {(m.name, m.description) for m in grouped["Model"]} == {
        ("churn", "Churn classifier"),
        ("fraud", ""),
    }
    found = versions(records)
    assert set(found) == {("churn", "1"), ("churn", "2"), ("fraud", "1")}
    v1, v2 = found["churn", "1"], found["churn", "2"]
    assert (v1.aliases, v2.aliases, found["fraud", "1"].aliases) == (
        ("champion",),
        ("challenger",),
        (),
    )
    assert (v1.run_id, v2.run_id) == (w.runs["old"], w.runs["new"])
    assert v1.tags == {"validated": "true"}
    assert (v1.stage, v1.status) == (None, "READY")
    assert v1.created.tzinfo is UTC and v1.updated is not None


def test_alias_history_tag_gives_events_before_the_versions(world: tuple[str, World]) -> None:
    records = collect(source(world[0]))
    events = [x for x in records if isinstance(x, AliasEvent)]
    assert events == [
        AliasEvent("churn", "churn", "champion", "1", T0 + HOUR, "tag"),
        AliasEvent("churn", "churn", "challenger", "2", T0 + 2 * DAY + HOUR, "tag"),
    ]
    assert all(e.ts.tzinfo is UTC for e in events)
    positions = {type(x).__name__: i for i, x in reversed(list(enumerate(records)))}
    assert positions["AliasEvent"] < positions["ModelVersion"]  # first of each kind


@pytest.fixture
def registry_with_tag(tmp_path: Path) -> Any:
    """A sqlite registry holding one model whose history tag is set by the test."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("scorer")

    def with_tag(value: str) -> str:
        client.set_registered_model_tag("scorer", ALIAS_HISTORY_TAG, value)
        return uri

    return with_tag


def test_malformed_alias_history_fails_the_run_naming_model_and_tag(registry_with_tag: Any) -> None:
    uri = registry_with_tag('[{"alias": "champion", "version": "1", "at": "yesterday"}]')
    with pytest.raises(FatalSourceError) as err:
        collect(source(uri, experiments=[], models=["scorer"]))
    message = str(err.value)
    assert "'scorer'" in message and ALIAS_HISTORY_TAG in message
    assert "entry 1" in message and "'yesterday'" in message


def test_removed_alias_and_naive_time_from_a_real_tag(registry_with_tag: Any) -> None:
    uri = registry_with_tag('[{"alias": "champion", "version": null, "at": "2025-03-02T08:00"}]')
    records = collect(source(uri, experiments=[], models=["scorer"]))
    assert [x for x in records if isinstance(x, AliasEvent)] == [
        AliasEvent("churn", "scorer", "champion", None, datetime(2025, 3, 2, 8, tzinfo=UTC))
    ]


# (id, tag value, words the error must contain)
BAD_HISTORIES = [
    ("not json", "champion=2", "not JSON"),
    ("not a list", '{"alias": "champion"}', "expected a JSON list, got dict"),
    ("entry not an object", '["champion"]', "entry 1 is not an object"),
    ("alias missing", '[{"version": "1", "at": "2025-03-01T00:00:00Z"}]', "entry 1: 'alias'"),
    ("alias blank", '[{"alias": " ", "version": "1", "at": "2025-03-01T00:00:00Z"}]',
     "entry 1: 'alias'"),
    ("version missing", '[{"alias": "a", "at": "2025-03-01T00:00:00Z"}]',
     "entry 1: 'version' is missing"),
    ("version boolean", '[{"alias": "a", "version": true, "at": "2025-03-01T00:00:00Z"}]',
     "entry 1: 'version'"),
    ("version empty", '[{"alias": "a", "version": "", "at": "2025-03-01T00:00:00Z"}]',
     "entry 1: 'version'"),
    ("at missing", '[{"alias": "a", "version": "1"}]', "entry 1: 'at'"),
    ("at not a time", '[{"alias": "a", "version": "1", "at": "2025-03-01T00:00:00Z"},'
     ' {"alias": "a", "version": "2", "at": "2025-13-01"}]', "entry 2: 'at' '2025-13-01'"),
]


@pytest.mark.parametrize(("raw", "words"), [c[1:] for c in BAD_HISTORIES],
                         ids=[c[0] for c in BAD_HISTORIES])
def test_parse_alias_history_refuses_malformed_tags(raw: str, words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("'", ".").replace("(", ".")):
        parse_alias_history(raw)


def test_parse_alias_history_accepts_the_documented_shape() -> None:
    raw = ('[{"alias": "champion", "version": "2", "at": "2026-10-01T09:00:00Z"},'
           ' {"alias": "champion", "version": 3, "at": "2026-10-08T11:00:00+02:00"},'
           ' {"alias": "champion", "version": null, "at": "2026-10-09T09:00:00Z"}]')
    assert parse_alias_history(raw) == [
        ("champion", "2", datetime(2026, 10, 1, 9, tzinfo=UTC)),
        ("champion", "3", datetime(2026, 10, 8, 9, tzinfo=UTC)),
        ("champion", None, datetime(2026, 10, 9, 9, tzinfo=UTC)),
    ]
    assert parse_alias_history("[]") == []


def test_filters_models_and_reads_all_experiments_when_none_given(
    world: tuple[str, World],
) -> None:
    records = collect(source(world[0], experiments=[], models=["churn"]))
    assert {m.name for m in by_type(records)["Model"]} == {"churn"}
    assert {k[0] for k in versions(records)} == {"churn"}
    assert "score" in run_names(records)
    assert {r.experiment for r in records if isinstance(r, Run)} == {TRAIN, SCORE}


def test_incremental_reads_recent_and_unfinished_runs_only(world: tuple[str, World]) -> None:
    uri = world[0]
    since = T0 + DAY + 30 * MIN  # after `failed` ended, before `killed` started
    records = collect(source(uri, overlap_minutes=0), since=since)
    assert run_names(records) == {"killed", "scheduled", "new", "running"}
    assert versions(records), "the registry is read in full on every collect"
    # the overlap reaches back over `failed` (ended T0+1d+1m)
    assert "failed" in run_names(collect(source(uri, overlap_minutes=60), since=since))
    # nothing finished since: only the runs that can still change
    assert run_names(collect(source(uri), since=LATER)) == {"running", "scheduled"}


def test_until_excludes_runs_started_later(world: tuple[str, World]) -> None:
    records = collect(source(world[0]), until=T0 + DAY)
    assert run_names(records) == {"running", "old"}


def test_second_collect_yields_the_same_records(world: tuple[str, World]) -> None:
    settings = source(world[0])
    first, second = collect(settings), collect(settings)
    assert first == second
    assert_contract(second)


def test_unknown_experiment_is_fatal_and_named(world: tuple[str, World]) -> None:
    settings = source(world[0], experiments=[TRAIN, "churn-trainign"])
    with pytest.raises(FatalSourceError) as err:
        collect(settings)
    message = str(err.value)
    assert "mlflow-main" in message and "churn-trainign" in message
    assert world[0] in message


def test_unknown_model_is_fatal_and_named(world: tuple[str, World]) -> None:
    with pytest.raises(FatalSourceError, match="'frauds'"):
        collect(source(world[0], models=["frauds"]))


def test_missing_sqlite_file_is_fatal_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "typo" / "mlflow.db"
    with pytest.raises(FatalSourceError, match="does not exist"):
        collect(source(f"sqlite:///{path}"))
    assert not path.exists()


def test_unreachable_server_fails_fast_and_retriable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(RetriableSourceError) as err:
        collect(source(url))
    assert time.monotonic() - started < 20
    assert "mlflow-main" in str(err.value) and url in str(err.value)
    assert not set(SHORT_HTTP_RETRIES) & set(os.environ), "retry settings leaked"


def test_unreachable_database_fails_fast_without_leaking_password() -> None:
    uri = f"postgresql+psycopg://dspo:s3cret@127.0.0.1:{free_port()}/mlflow"
    started = time.monotonic()
    with pytest.raises(RetriableSourceError) as err:
        collect(source(uri))
    assert time.monotonic() - started < 20
    assert "s3cret" not in str(err.value)
    assert "dspo:***@127.0.0.1" in str(err.value)


def test_where_masks_password_and_links_point_to_the_ui() -> None:
    collector = MlflowCollector(source("https://bot:tok3n@mlflow.example.com/"))
    assert collector.where == "https://bot:***@mlflow.example.com/"
    assert mask_uri("sqlite:///x.db") == "sqlite:///x.db"
    assert run_url("https://bot:tok3n@mlflow.example.com/", "3", "abc") == (
        "https://mlflow.example.com/#/experiments/3/runs/abc"
    )


def test_small_pages_give_the_same_records(
    world: tuple[str, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Page tokens are followed to the end (real tokens from the real store)."""
    settings = source(world[0], experiments=[])
    expected = collect(settings)
    monkeypatch.setattr(mlflow_common, "RUNS_PAGE", 2)
    monkeypatch.setattr(mlflow_common, "REGISTRY_PAGE", 1)
    monkeypatch.setattr(mlflow_common, "EXPERIMENT_IDS_PER_SEARCH", 1)
    assert sorted(map(repr, collect(settings))) == sorted(map(repr, expected))


def test_parallel_reads_give_the_records_of_one_at_a_time_in_the_same_order(
    world: tuple[str, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Histories are requested several at once but yielded in run order, each run before
    its points; chunks of one run each still cover every run."""
    serial = collect(source(world[0], experiments=[], parallel_reads=1))
    monkeypatch.setattr(mlflow_tracking, "RUNS_AHEAD", 1)
    parallel = collect(source(world[0], experiments=[], parallel_reads=3))
    assert list(map(repr, parallel)) == list(map(repr, serial))
    assert sum(isinstance(r, Point) for r in serial) > 0


def test_a_history_that_fails_in_a_reading_thread_fails_the_run_naming_it(
    world: tuple[str, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Any, run_id: str, key: str) -> list[Any]:
        raise mlflow_common.MlflowReader.error(self, OSError("connection reset"),
                                               f"reading metric history {key!r} of run {run_id}")

    monkeypatch.setattr(mlflow_common.MlflowReader, "metric_history", broken)
    with pytest.raises(SourceError, match=r"reading metric history '.+' of run \w+ failed: "
                                          r"connection reset"):
        collect(source(world[0], experiments=[], parallel_reads=4))


def _wrapped(cause: BaseException) -> BaseException:
    """How MLflow's REST client reports transport errors: a generic MlflowException raised
    inside the `except` (so the cause is only the implicit context)."""
    from mlflow.exceptions import MlflowException

    outer = MlflowException(f"API request failed with exception {cause}")
    outer.__context__ = cause
    return outer


def _mlflow_error(code: str) -> BaseException:
    from mlflow.exceptions import MlflowException
    from mlflow.protos import databricks_pb2

    return MlflowException("boom", error_code=getattr(databricks_pb2, code))


@pytest.mark.parametrize(
    ("make", "retriable"),
    [
        pytest.param(lambda: _mlflow_error("RESOURCE_DOES_NOT_EXIST"), False, id="404"),
        pytest.param(lambda: _mlflow_error("INVALID_PARAMETER_VALUE"), False, id="400"),
        pytest.param(lambda: _mlflow_error("UNAUTHENTICATED"), False, id="401"),
        pytest.param(lambda: _mlflow_error("PERMISSION_DENIED"), False, id="403"),
        pytest.param(lambda: _mlflow_error("TEMPORARILY_UNAVAILABLE"), True, id="503"),
        pytest.param(lambda: _mlflow_error("INTERNAL_ERROR"), True, id="500"),
        pytest.param(lambda: _wrapped(_requests().ConnectionError("refused")), True, id="refused"),
        pytest.param(lambda: _wrapped(_requests().Timeout("slow")), True, id="timeout"),
        pytest.param(
            lambda: _wrapped(_requests().exceptions.RetryError("5xx x3")), True, id="retries-spent"
        ),
        pytest.param(
            lambda: _wrapped(_requests().exceptions.InvalidURL("bad")), False, id="invalid-url"
        ),
    ],
)
def test_error_classification(make: Any, retriable: bool) -> None:
    assert is_retriable(make()) is retriable


def _requests() -> Any:
    import requests

    return requests


@pytest.mark.slow
def test_real_mlflow_server(tmp_path: Path) -> None:
    from mlflow import MlflowClient

    from collectors.mlflow_pipelines import MlflowPipelinesCollector
    from config.schema import MlflowPipelinesSource
    from store.records import PipelineRun

    with mlflow_server(tmp_path) as url:
        w = build_world(MlflowClient(tracking_uri=url, registry_uri=url), tmp_path)
        records = collect(source(url))
        assert_contract(records)
        runs = {r.name: r for r in records if isinstance(r, Run)}
        assert set(runs) == {"running", "old", "failed", "killed", "scheduled", "new"}
        old = runs["old"]
        assert (old.start, old.end, old.model_version) == (T0, T0 + 10 * MIN, "1")
        exp_id = w.experiments[TRAIN]
        assert old.url == f"{url}/#/experiments/{exp_id}/runs/{w.runs['old']}"
        assert history(records, w.runs["old"], "auc") == AUC_OLD
        found = versions(records)
        assert (found["churn", "1"].aliases, found["churn", "2"].aliases) == (
            ("champion",),
            ("challenger",),
        )
        assert run_names(collect(source(url), since=LATER)) == {"running", "scheduled"}

        pipelines = MlflowPipelinesCollector(
            MlflowPipelinesSource(
                name="mlflow-jobs",
                product="churn",
                kind="mlflow_pipelines",
                tracking_uri=url,
                experiments=[TRAIN],
            )
        )
        pipeline_runs = [r for r in pipelines.collect(None, LATER) if isinstance(r, PipelineRun)]
        assert len(pipeline_runs) == 6
        assert all(r.url and r.url.startswith(url) for r in pipeline_runs)


def test_store_keeps_tag_history_and_observes_untagged_moves(store: Any, tmp_path: Path) -> None:
    """Through the writer: re-collecting adds nothing; a move the tag does not tell becomes
    one 'observed' event; once the job tags it, the history holds both (the KPIs collapse a
    repeated move)."""
    from mlflow import MlflowClient

    from store import queries
    from store.writer import write_records

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("scorer", tags={
        ALIAS_HISTORY_TAG: '[{"alias": "champion", "version": "1", "at": "2025-03-01T12:00:00Z"}]'
    })
    for _ in range(2):
        client.create_model_version("scorer", source=str(tmp_path / "model"))
    client.set_registered_model_alias("scorer", "champion", "1")
    settings = source(uri, experiments=[], models=["scorer"])

    def collect_into_store() -> list[tuple[Any, ...]]:
        with store.session() as session:
            write_records(session, settings.name, collect(settings))
        df = queries.alias_events(store, "churn", "scorer")
        return list(df[["alias", "version", "origin"]].itertuples(index=False, name=None))

    assert collect_into_store() == [("champion", "1", "tag")]
    assert collect_into_store() == [("champion", "1", "tag")]
    client.set_registered_model_alias("scorer", "champion", "2")  # no tag written
    assert collect_into_store() == [("champion", "1", "tag"), ("champion", "2", "observed")]
    assert collect_into_store() == [("champion", "1", "tag"), ("champion", "2", "observed")]
