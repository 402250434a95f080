"""The published OpenAPI document: valid OpenAPI 3.1, current, served, and in agreement
with the server and the guide's curl examples."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import FormatChecker
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec
from push_helpers import ROOT, app_for, auth, curl_body, curl_path, guide_curls

from collectors.push.kinds import BY_PATH, KINDS
from collectors.push.openapi import openapi_document, render
from store.db import Store

PUBLISHED = ROOT / "docs" / "push-api.openapi.json"


def _validator(schema: dict[str, Any]) -> OAS31Validator:
    """A validator of `schema` whose `#/components/...` references resolve in the document."""
    document = openapi_document()
    return OAS31Validator({**schema, "components": document["components"]},
                          format_checker=FormatChecker())


def _request_schema(path: str) -> dict[str, Any]:
    operation = openapi_document()["paths"][f"/api/v1/sources/{{source}}/{path}"]["post"]
    return operation["requestBody"]["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def _problems(path: str, body: Any) -> list[str]:
    return [e.message for e in _validator(_request_schema(path)).iter_errors(body)]


def test_the_document_is_valid_openapi_3_1() -> None:
    validate_spec(json.loads(render()))


def test_the_committed_document_is_current() -> None:
    assert PUBLISHED.read_text() == render(), (
        "run: python -m collectors.push.openapi > docs/push-api.openapi.json")


def test_the_served_document_is_the_published_one(store: Store) -> None:
    answer = app_for(store).test_client().get("/api/v1/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.json == json.loads(PUBLISHED.read_text())


def test_the_guide_has_one_curl_example_per_kind_with_the_documented_example() -> None:
    curls = guide_curls()
    assert [curl_path(c) for c in curls] == [k.path for k in KINDS]
    for command in curls:
        kind = BY_PATH[curl_path(command)]
        assert curl_body(command) == kind.example, kind.path
        assert "Authorization: Bearer $JENKINS_PUSH_TOKEN" in command


@pytest.mark.parametrize("kind", KINDS, ids=[k.path for k in KINDS])
def test_the_document_validates_each_example(kind: Any) -> None:
    assert _problems(kind.path, kind.example) == []
    batch = kind.example if isinstance(kind.example, list) else [kind.example]
    assert _problems(kind.path, batch) == []


NAIVE = copy.deepcopy(KINDS[0].example) | {"start": "2026-03-02T06:00:00"}
UNKNOWN_KEY = copy.deepcopy(KINDS[1].example) | {"environment": "prod"}
MISSING = {k: v for k, v in KINDS[4].example.items() if k != "title"}
STRING_NUMBER = {"name": "auc", "value": "0.8", "ts": "2026-03-02T07:00:00Z"}
BAD_STATE = copy.deepcopy(KINDS[0].example) | {"state": "exploded"}


@pytest.mark.parametrize(
    ("path", "body"),
    [("pipeline-runs", NAIVE), ("deployments", UNKNOWN_KEY), ("backlog-items", MISSING),
     ("metrics", STRING_NUMBER), ("pipeline-runs", [BAD_STATE])],
    ids=["naive-time", "unknown-key", "missing-field", "string-for-number", "bad-enum"],
)
def test_the_document_and_the_server_refuse_the_same_payloads(
    store: Store, path: str, body: Any
) -> None:
    assert _problems(path, body), "the document accepts what the server refuses"
    answer = app_for(store).test_client().post(
        f"/api/v1/sources/jenkins/{path}", json=body, headers=auth())
    assert answer.status_code == 422
    assert _validator({"$ref": "#/components/schemas/ErrorBody"}).is_valid(answer.json)


def test_answers_match_the_documented_responses(store: Store) -> None:
    client = app_for(store).test_client()
    ok = client.post("/api/v1/sources/jenkins/metrics", json=KINDS[2].example, headers=auth())
    assert _validator({"$ref": "#/components/schemas/PushResult"}).is_valid(ok.json)
    refused = client.post("/api/v1/sources/jenkins/metrics", json=[], headers=auth("x" * 20))
    assert _validator({"$ref": "#/components/schemas/ErrorBody"}).is_valid(refused.json)
    documented = openapi_document()["paths"]["/api/v1/sources/{source}/metrics"]["post"]
    assert {"200", str(ok.status_code), str(refused.status_code)} <= set(documented["responses"])
