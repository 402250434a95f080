"""Schemathesis against the push API, on both store backends: payloads generated from the
published OpenAPI document (valid and invalid ones, wrong and missing auth) never get a
5xx, and every answer matches the document.

Excluded: "a schema-valid request must be accepted". Three rules are not expressible in
JSON Schema and are refused with 422 by design: a run's end before its start, a drift
window ending before it starts, and a backlog status with no default category and none
given. This run found, and keeps out, ints beyond the store's 32-bit columns, times
outside the years pandas reads, NUL characters PostgreSQL refuses, and 2.0 as an integer.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from push_helpers import TOKEN, app_for
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from store.db import Store

pytestmark = pytest.mark.slow
EXAMPLES = 60  # per operation and generation mode


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_the_push_api_keeps_its_document(store: Store, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app_for(store))
    for found in schema.get_all_operations():
        operation = found.ok()
        if operation.method.upper() != "POST":
            continue
        strategy = operation.as_strategy(
            mode, path_parameters={"source": "jenkins"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )

        @given(strategy)
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
