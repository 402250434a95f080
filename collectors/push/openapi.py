"""The published OpenAPI 3.1 document of the push API, generated from its models.

Served at `GET /api/v1/openapi.json` and kept in the repository as
docs/push-api.openapi.json (`python -m collectors.push.openapi >
docs/push-api.openapi.json`; a test fails when that file is stale). Request schemas come
from the same pydantic models that validate requests, so the document cannot promise
what the server refuses.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from collectors.push.kinds import KINDS, Kind
from collectors.push.models import MAX_BODY_BYTES, MAX_OBJECTS
from config.base import KEY_PATTERN

API_VERSION = "1.0.0"
PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"

DESCRIPTION = f"""\
Systems without a dspo collector (Jenkins, GitLab CI, Kubeflow, SageMaker, Luigi, your own
scripts) push pipeline runs, deployments, metric points, drift results and backlog items
to a *push source* of dspo's config (`kind: push`).

- **Auth**: `Authorization: Bearer <token>` with the token of the source named in the
  URL. A source's token writes only to that source.
- **Body**: one JSON object or a list of up to {MAX_OBJECTS:,} objects, at most
  {MAX_BODY_BYTES:,} bytes. Times need a UTC offset or `Z`.
- **Idempotent**: objects are keyed by the caller's ids (see each operation); sending
  the same payload again writes nothing (`rows_written: 0`), changed fields are updated.
- Every push, accepted or refused after authentication, is recorded as a run of its
  source (the Sources page).

Guide with curl examples: docs/push-api.md.
"""


class PushResult(BaseModel):
    """What a push did."""

    rows_written: int = Field(description="Rows inserted, changed or deleted in the store; "
                              "0 when everything sent was already stored.")
    records: int = Field(description="Objects received in the request.")


class ErrorBody(BaseModel):
    """Why a request was refused; never contains the token."""

    error: str = Field(description="One line: what is wrong and what to check.")
    errors: list[str] | None = Field(default=None, description="With 422: one entry per "
                                     "problem, prefixed by its JSON path, e.g. "
                                     "`$[2].state: Input should be ...`.")


ERRORS: dict[str, str] = {
    "400": "The body is empty or not JSON.",
    "401": "The bearer token is missing or is not this source's.",
    "403": "This source does not accept this record kind (its `accepts` setting).",
    "404": "No enabled push source has this name.",
    "413": f"The body is larger than {MAX_BODY_BYTES:,} bytes.",
    "422": "The body does not match the schema; `errors` lists each problem with its path.",
    "503": "The store is not available or could not write; retry later.",
}


def _operation(kind: Kind) -> dict[str, Any]:
    ref = {"$ref": REF.format(model=kind.model.__name__)}
    body = {"oneOf": [ref, {"type": "array", "items": ref, "maxItems": MAX_OBJECTS}]}
    responses: dict[str, Any] = {
        "200": {"description": "Written (or already stored).",
                "content": {"application/json": {"schema": {"$ref": REF.format(
                    model="PushResult")}}}},
    }
    responses |= {code: {"$ref": f"#/components/responses/E{code}"} for code in ERRORS}
    return {
        "operationId": f"push_{kind.name}",
        "summary": kind.summary,
        "description": f"Idempotent on {kind.key}: re-sending an object updates it. Needs "
                       f"`{kind.name}` in the source's `accepts`.",
        "tags": ["push"],
        "security": [{"bearer": []}],
        "parameters": [{"name": "source", "in": "path", "required": True,
                        "description": "Name of a push source in dspo's config.",
                        "schema": {"type": "string", "pattern": KEY_PATTERN}}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": body, "examples": {"example": {"value": kind.example}}}}},
        "responses": responses,
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh dict is not needed: treat it as read-only)."""
    models: list[type[BaseModel]] = [k.model for k in KINDS] + [PushResult, ErrorBody]
    _, schemas = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    paths: dict[str, Any] = {
        f"{PREFIX}/sources/{{source}}/{k.path}": {"post": _operation(k)} for k in KINDS
    }
    paths[f"{PREFIX}/openapi.json"] = {"get": {
        "operationId": "openapi", "summary": "This document", "tags": ["meta"],
        "responses": {"200": {"description": "The OpenAPI document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }}
    error = {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "dspo push API", "version": API_VERSION, "description": DESCRIPTION,
                 "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
        "paths": paths,
        "components": {
            "schemas": schemas["$defs"],
            "responses": {f"E{code}": {"description": text, "content": error}
                          for code, text in ERRORS.items()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "The push source's token."}},
        },
    }


def render() -> str:
    """The document as committed in docs/push-api.openapi.json."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


@cache
def document_bytes() -> bytes:
    return render().encode()


if __name__ == "__main__":
    print(render(), end="")
