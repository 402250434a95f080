"""The session-scoped `airflow_server` fixture: one real Airflow 3 for the whole test session.

Starting Airflow costs ~20 s and ~750 MB, so every test shares one server; tests must therefore
only add runs (never delete DAGs or runs others rely on), and a test that stops Airflow uses
`airflow_server.stopped()` so it comes back for the next test. Tests using the fixture are
marked `slow` and `airflow`, so `-m "not airflow"` leaves Airflow out entirely.

When Airflow's venv cannot be built (no network to PyPI on a fresh machine) the tests skip with
the reason; under CI=true that is a failure instead, so CI never goes green without them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .server import AirflowServer, AirflowUnavailable, ensure_venv


@pytest.fixture(scope="session")
def airflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowServer]:
    """A running Airflow on 127.0.0.1 with the DAGs of tests/airflow_it/dags, user admin/admin."""
    try:
        airflow_bin = ensure_venv()
    except AirflowUnavailable as e:
        reason = f"Apache Airflow venv unavailable: {e}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    server = AirflowServer.launch(tmp_path_factory.mktemp("airflow-home"), airflow_bin)
    try:
        yield server
    finally:
        server.stop()
