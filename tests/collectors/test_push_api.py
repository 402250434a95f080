"""The push API through Flask's real test client, on both store backends.

Each record kind is pushed with the documented example and read back through
store/queries.py; re-sending writes nothing; tokens, kinds, sizes and schemas are
enforced with answers that say what to fix and never echo a token.
"""

from __future__ import annotations

import copy
import io
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from push_helpers import JENKINS, NOW, OTHER_TOKEN, TOKEN, app_for, auth
from sqlalchemy import func, select

from collectors.push import api, examples
from store import queries
from store import schema as s
from store.db import Store

EXAMPLES: dict[str, Any] = {
    "pipeline-runs": examples.PIPELINE_RUN,
    "deployments": examples.DEPLOYMENT,
    "metrics": examples.METRIC_POINTS,
    "drift-reports": examples.DRIFT_REPORT,
    "backlog-items": examples.BACKLOG_ITEM,
}


def _post(client: Any, path: str, body: Any, token: str = TOKEN, source: str = "jenkins"
          ) -> Any:
    return client.post(f"/api/v1/sources/{source}/{path}", json=body, headers=auth(token))


def _tasks(store: Store) -> list[tuple[str, str]]:
    with store.session() as session:
        rows = session.execute(select(s.PipelineTask.task_id, s.PipelineTask.state)
                               .order_by(s.PipelineTask.task_id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _count(store: Store, table: type[s.Base]) -> int:
    with store.session() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


# ------------------------------------------------------------ each kind, stored and read


def test_each_kind_is_stored_and_readable(store: Store) -> None:
    client = app_for(store).test_client()
    for path, body in EXAMPLES.items():
        answer = _post(client, path, body)
        assert answer.status_code == 200, answer.json
        n = len(body) if isinstance(body, list) else 1
        assert answer.json["records"] == n and answer.json["rows_written"] > 0

    runs = queries.pipeline_runs(store, "churn")
    assert runs[["system", "pipeline", "run_id", "state"]].values.tolist() == [
        ["jenkins", "churn-scoring", "churn-scoring#4711", "failed"]]
    assert _tasks(store) == [("extract", "success"), ("score", "failed")]

    versions = queries.model_versions(store, "churn", "churn-clf")
    assert versions[["version", "run_id"]].values.tolist() == [["7", "sagemaker-train-2026-03-01"]]
    assert versions["aliases"].tolist() == [["production"]]
    events = queries.alias_events(store, "churn")
    assert events[["alias", "version", "origin"]].values.tolist() == [["production", "7", "push"]]
    assert events["ts"].iloc[0].isoformat() == "2026-03-02T13:30:00+00:00"  # +01:00 kept right
    assert queries.resolve_version(store, "churn", "churn-clf", alias="production") == "7"

    auc = queries.model_metric_points(store, "churn", "churn-clf", "7", "auc")
    assert auc["value"].tolist() == [0.861, 0.853]  # labelled with the version's run_id
    dau = queries.latest_point(store, "churn", "usage", "dau")
    assert dau is not None and dau[1] == 1312.0

    drift = queries.drift_reports(store, "churn", "churn-features")
    assert drift[["dataset_drift", "drifted_share", "drifted_count", "column_count"]].values.tolist(
    ) == [[True, 0.5, 1, 2]]  # counted from the features
    assert len(queries.drift_features(store, "churn", "churn-features")) == 2

    items = queries.backlog_items(store, "churn")
    assert items[["source", "key", "status", "status_category", "points"]].values.tolist() == [
        ["jenkins", "ML-142", "In Progress", "in_progress", 5.0]]
    history = queries.item_events(store, "churn")
    assert history[["field", "to_value"]].values.tolist() == [
        ["status", "To Do"], ["status_category", "todo"],
        ["status", "In Progress"], ["status_category", "in_progress"]]


@pytest.mark.parametrize("path", list(EXAMPLES))
def test_sending_the_same_payload_again_writes_nothing(store: Store, path: str) -> None:
    client = app_for(store).test_client()
    first = _post(client, path, EXAMPLES[path])
    tables = (s.PipelineRun, s.PipelineTask, s.ModelVersion, s.ModelAliasEvent, s.SeriesPoint,
              s.DriftReport, s.DriftFeature, s.BacklogItem, s.ItemEvent)
    counts = {t: _count(store, t) for t in tables}
    again = _post(client, path, EXAMPLES[path])
    assert first.json["rows_written"] > 0
    assert again.status_code == 200
    assert again.json == {"rows_written": 0, "records": first.json["records"]}
    assert {t: _count(store, t) for t in tables} == counts  # no duplicates


def test_changed_fields_update_the_same_record(store: Store) -> None:
    client = app_for(store).test_client()
    running = {**examples.PIPELINE_RUN, "state": "running", "end": None, "tasks": []}
    assert _post(client, "pipeline-runs", running).json["rows_written"] == 2  # run, product
    done = {**running, "state": "success", "end": "2026-03-02T06:20:00Z"}
    assert _post(client, "pipeline-runs", done).json["rows_written"] == 1
    runs = queries.pipeline_runs(store, "churn")
    assert runs["state"].tolist() == ["success"] and len(runs) == 1

    item = {**examples.BACKLOG_ITEM, "history": []}
    _post(client, "backlog-items", item)
    closed = {**item, "status": "Done", "resolved": "2026-03-03T16:00:00Z"}
    assert _post(client, "backlog-items", closed).json["rows_written"] == 1
    assert queries.backlog_items(store, "churn")["status_category"].tolist() == ["done"]


# ------------------------------------------------------------ deployments


def _deploy(client: Any, version: str | int | None, at: str, alias: str = "production") -> Any:
    body = {"model": "churn-clf", "alias": alias, "version": version, "at": at}
    answer = _post(client, "deployments", body)
    assert answer.status_code == 200, answer.json
    return answer


def test_promotions_rollbacks_and_late_deployments(store: Store) -> None:
    client = app_for(store).test_client()
    _deploy(client, "1", "2026-03-01T09:00:00Z")
    _deploy(client, "2", "2026-03-02T09:00:00Z")  # promotion: the alias moves to 2
    aliases = queries.model_versions(store, "churn", "churn-clf").set_index("version")["aliases"]
    assert aliases.to_dict() == {"1": [], "2": ["production"]}
    _deploy(client, "1", "2026-03-03T09:00:00Z")  # rollback
    assert queries.resolve_version(store, "churn", "churn-clf", alias="production") == "1"
    # pushed late (a retried call of an older move): history, but the alias stays on 1
    _deploy(client, "3", "2026-02-28T09:00:00Z")
    assert queries.resolve_version(store, "churn", "churn-clf", alias="production") == "1"
    _deploy(client, None, "2026-03-04T09:00:00Z")  # undeployed
    assert queries.resolve_version(store, "churn", "churn-clf", alias="production") is None
    events = queries.alias_events(store, "churn", "churn-clf")
    assert events["version"].tolist() == ["3", "1", "2", "1", None]
    assert set(events["origin"]) == {"push"}  # no invented 'observed' moves


def test_a_batch_of_deployments_ends_on_the_latest_move(store: Store) -> None:
    client = app_for(store).test_client()
    moves = [{"model": "m", "alias": "production", "version": v, "at": at} for v, at in
             (("2", "2026-03-02T00:00:00Z"), ("1", "2026-03-01T00:00:00Z"))]
    moves.append({"model": "m", "alias": "staging", "version": 3, "at": "2026-03-02T00:00:00Z"})
    assert _post(client, "deployments", moves).json["records"] == 3
    aliases = queries.model_versions(store, "churn", "m").set_index("version")["aliases"]
    assert aliases.to_dict() == {"1": [], "2": ["production"], "3": ["staging"]}


# ------------------------------------------------------------ auth


def test_a_token_writes_only_to_its_own_source(store: Store, caplog: pytest.LogCaptureFixture
                                               ) -> None:
    caplog.set_level(logging.DEBUG)
    client = app_for(store).test_client()
    answer = _post(client, "metrics", examples.METRIC_POINTS, token=TOKEN, source="scripts")
    assert answer.status_code == 401
    assert answer.json == {"error": "wrong token for push source 'scripts': check the token "
                           "the caller sends against the source's token in dspo's config"}
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="dspo"'
    assert _post(client, "metrics", examples.METRIC_POINTS, token=OTHER_TOKEN).status_code == 401
    assert _count(store, s.SeriesPoint) == 0
    assert queries.collector_status(store).empty  # unauthenticated calls leave no trace
    ok = _post(client, "metrics", examples.METRIC_POINTS, token=OTHER_TOKEN, source="scripts")
    assert ok.status_code == 200
    everything = caplog.text + json.dumps(answer.json)
    assert TOKEN not in everything and OTHER_TOKEN not in everything


@pytest.mark.parametrize(
    "header",
    [None, "Basic amVua2luczpzZWNyZXQ=", "Bearer ", "Bearer " + TOKEN[:-1], TOKEN],
    ids=["missing", "basic", "empty", "prefix-of-the-token", "no-scheme"],
)
def test_missing_or_wrong_tokens_are_refused(store: Store, header: str | None) -> None:
    client = app_for(store).test_client()
    headers = {"Authorization": header} if header is not None else {}
    answer = client.post("/api/v1/sources/jenkins/metrics", json=examples.METRIC_POINTS,
                         headers=headers)
    assert answer.status_code == 401
    assert answer.json["error"].startswith(("missing bearer token", "wrong token"))
    assert TOKEN not in answer.get_data(as_text=True)


def test_unknown_source_kind_not_accepted_and_wrong_method(store: Store) -> None:
    client = app_for(store).test_client()
    unknown = _post(client, "metrics", [], source="gitlab")
    assert unknown.status_code == 404 and "no enabled push source named 'gitlab'" in \
        unknown.json["error"]
    refused = _post(client, "deployments", examples.DEPLOYMENT, token=OTHER_TOKEN,
                    source="scripts")
    assert refused.status_code == 403
    assert refused.json["error"] == ("push source 'scripts' does not accept deployments (it "
                                     "accepts: metrics); add it to the source's accepts in "
                                     "dspo's config")
    status = queries.collector_status(store).set_index("source")
    assert status.loc["scripts", "status"] == "failed"  # the PO sees the refused push
    assert "403: push source 'scripts' does not accept" in status.loc["scripts", "error"]
    wrong_method = client.get("/api/v1/sources/jenkins/metrics", headers=auth())
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST"
    nowhere = client.post("/api/v1/sources/jenkins/runs", headers=auth())
    assert nowhere.status_code == 404 and "openapi.json" in nowhere.json["error"]


def test_push_sources_need_their_own_tokens() -> None:
    """A config error with its YAML path, at load, not a traceback when the server starts."""
    from config.loader import ConfigError, parse_config

    text = f"""
products: [{{key: churn, name: Churn}}]
sources:
  - {{name: jenkins, kind: push, product: churn, token: "{TOKEN}"}}
  - {{name: twin, kind: push, product: churn, token: "{TOKEN}"}}
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="dspo.yaml", env={})
    assert "sources[1].token: the same token as push source 'jenkins'" in str(caught.value)
    assert TOKEN not in str(caught.value)


# ------------------------------------------------------------ bodies


def test_bodies_over_the_limit_get_413(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "MAX_BODY_BYTES", 1000)
    client = app_for(store).test_client()
    body = json.dumps(examples.METRIC_POINTS * 10).encode()
    declared = client.post("/api/v1/sources/jenkins/metrics", data=body, headers=auth())
    assert declared.status_code == 413
    assert declared.json["error"].startswith(f"request body too large ({len(body):,} bytes)")
    # a chunked body declares no length: the limit is enforced while reading
    chunked = client.post("/api/v1/sources/jenkins/metrics", input_stream=io.BytesIO(body),
                          headers={**auth(), "Transfer-Encoding": "chunked"},
                          environ_overrides={"wsgi.input_terminated": True})
    assert chunked.status_code == 413
    assert chunked.json["error"].startswith("request body too large: at most 1,000 bytes")
    assert _count(store, s.SeriesPoint) == 0


def test_too_many_objects_in_one_request(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "MAX_OBJECTS", 2)
    api._adapters.cache_clear()
    try:
        answer = _post(app_for(store).test_client(), "metrics", examples.METRIC_POINTS)
    finally:
        api._adapters.cache_clear()
    assert answer.status_code == 422
    assert answer.json["errors"] == ["$: List should have at most 2 items after validation, "
                                     "not 3"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", "empty body: send a JSON object or a list of objects"),
     (b'{"name": "auc",', "invalid JSON: EOF while parsing a value at line 1 column 15"),
     (b"<xml/>", "invalid JSON: expected value at line 1 column 1")],
    ids=["empty", "truncated", "not-json"],
)
def test_invalid_json_gets_400(store: Store, data: bytes, expected: str) -> None:
    answer = app_for(store).test_client().post(
        "/api/v1/sources/jenkins/metrics", data=data, headers=auth())
    assert answer.status_code == 400 and answer.json == {"error": expected}


def test_schema_violations_get_422_with_json_paths(store: Store) -> None:
    client = app_for(store).test_client()
    runs = [copy.deepcopy(examples.PIPELINE_RUN) for _ in range(3)]
    runs[2]["state"] = "exploded"
    runs[1]["start"] = "2026-03-02T06:00:00"  # naive
    runs[0]["tasks"][1]["end"] = 1767225600  # epoch seconds are not a time string
    runs[0]["surprise"] = True
    answer = _post(client, "pipeline-runs", runs)
    assert answer.status_code == 422
    assert answer.json["error"] == ("the payload does not match the schema (4 problems; see GET "
                                    "/api/v1/openapi.json)")
    assert answer.json["errors"] == [
        "$[0].tasks[1].end: must be an ISO 8601 time string with an offset, e.g. "
        "2026-03-02T09:15:00Z",
        "$[0].surprise: Extra inputs are not permitted",
        "$[1].start: must carry a UTC offset or Z, e.g. 2026-03-02T09:15:00Z",
        "$[2].state: Input should be 'queued', 'running', 'success', 'failed', 'cancelled' "
        "or 'skipped'",
    ]
    assert _count(store, s.PipelineRun) == 0  # nothing of a refused batch is written
    single = _post(client, "backlog-items", {**examples.BACKLOG_ITEM, "status": "Blocked"})
    assert single.json["errors"] == [
        "$.status_category: required: status 'Blocked' has no default category (todo, "
        "in_progress or done)"]
    drift = {k: v for k, v in examples.DRIFT_REPORT.items() if k != "features"}
    assert _post(client, "drift-reports", drift).json["errors"] == [
        "$: drifted_share, drifted_count, column_count required when features are not given"]
    labels = {"name": "auc", "value": 1, "ts": "2026-03-02T00:00:00Z", "labels": {"a b": 1}}
    assert _post(client, "metrics", labels).json["errors"] == [
        '$.labels["a b"]: Input should be a valid string']
    status = queries.collector_status(store).set_index("source")
    assert status.loc["jenkins", "status"] == "failed"
    assert status.loc["jenkins", "error"].startswith("source 'jenkins' (push API): 422: ")


def test_a_store_that_cannot_write_answers_503(empty_store: Store) -> None:
    """A store never migrated: the push cannot be written, nor its failure recorded."""
    answer = _post(app_for(empty_store).test_client(), "metrics", examples.METRIC_POINTS)
    assert answer.status_code == 503
    assert answer.json == {"error": "the store is not available; retry later"}


# ------------------------------------------------------------ the Sources status


def test_pushes_show_on_the_sources_status(store: Store) -> None:
    client = app_for(store).test_client()
    _post(client, "metrics", examples.METRIC_POINTS)
    _post(client, "pipeline-runs", examples.PIPELINE_RUN)
    status = queries.collector_status(store).set_index("source")
    row = status.loc["jenkins"]
    assert (row["kind"], row["status"], row["rows_written"], row["records_read"]) == (
        "push", "ok", 3, 3)  # the latest push: a run and its two tasks
    assert row["error"] is None
    assert row["last_success"] == row["finished"]


def test_the_sources_page_judges_a_push_source_on_its_interval(store: Store) -> None:
    from config.schema import ProductConfig
    from dashboard.services.sources import build_sources
    from kpis.health import Status

    _post(app_for(store).test_client(), "metrics", examples.METRIC_POINTS)
    product = ProductConfig(key="churn", name="Churn")
    fresh, = build_sources(store, product, [JENKINS], as_of=NOW + timedelta(minutes=20))
    assert (fresh.kind, fresh.health.status, fresh.summary.rows_written) == (
        "push", Status.GREEN, 6)  # 3 points, their 2 series, the product
    stale, = build_sources(store, product, [JENKINS], as_of=NOW + timedelta(minutes=31))
    assert stale.health.status == Status.RED  # no push for two intervals (15m each)


@pytest.mark.parametrize(
    ("body", "expected"),
    [({"ts": "0248-06-16T10:36:01Z"}, "$.ts: must lie in the years 1900 to 2199"),
     ({"step": 2**31}, "$.step: Input should be less than or equal to 2147483647"),
     ({"name": "auc\u0000"}, "$.name: must not contain a NUL character (\\u0000)"),
     ({"value": 1e400}, None)],
    ids=["year", "int32", "nul", "overflowing-float"],
)
def test_what_the_store_cannot_hold_is_refused(store: Store, body: dict[str, Any],
                                               expected: str | None) -> None:
    point = {"name": "auc", "value": 0.9, "ts": "2026-03-02T07:00:00Z"} | body
    answer = _post(app_for(store).test_client(), "metrics", point)
    assert answer.status_code == 422
    if expected is not None:
        assert answer.json["errors"] == [expected]


def test_numbers_where_json_schema_allows_them(store: Store) -> None:
    client = app_for(store).test_client()
    point = {"name": "auc", "value": 1, "ts": "2026-03-02T07:00:00Z", "step": 3.0}
    assert _post(client, "metrics", point).status_code == 200  # 3.0 is an integer
    assert queries.series_points(store, "churn", "model_metric", "auc")["step"].tolist() == [3]
    _deploy(client, 7, "2026-03-01T09:00:00Z")
    assert queries.model_versions(store, "churn", "churn-clf")["version"].tolist() == ["7"]
    item = {**examples.BACKLOG_ITEM, "history": [
        {"ts": "2026-02-21T10:00:00Z", "field": "points", "from": None, "to": 2.5}]}
    assert _post(client, "backlog-items", item).status_code == 200
    assert queries.item_events(store, "churn")["to_value"].tolist() == ["2.5"]
