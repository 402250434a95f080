"""A tiny MLflow world, built through MlflowClient so it works on sqlite and over HTTP.

The story (T0 = 2025-03-01 12:00 UTC), experiment `churn-training`:

- `running`   started T0-1h and never ended (a stuck or long job): RUNNING, auc step 0.
- `old`       T0 .. T0+10m FINISHED, params lr/depth, tags name model churn v1 and
              pipeline train-churn triggered by schedule; auc steps 0-2, loss steps 0-1.
- `failed`    T0+1d .. T0+1d+1m FAILED, no pipeline tag, mlflow.source.type JOB.
- `killed`    T0+1d+2h .. +3m KILLED.
- `scheduled` T0+1d+3h SCHEDULED (queued, no end).
- `new`       T0+2d .. T0+2d+5m FINISHED, model churn v2, pipeline train-churn; auc step 0.

Experiment `churn-scoring`: `score` T0+1h .. +1m FINISHED.
Registry: `churn` (v1 from old, tag validated=true; v2 from new; champion -> 1,
challenger -> 2) and `fraud` (v1 from score, no alias). The deployment job left churn's
alias history in the `dspo.alias_history` tag (ALIAS_HISTORY): champion -> 1 at T0+1h,
challenger -> 2 at T0+2d+1h (`at` with a +02:00 offset, to prove it is converted to UTC).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow import MlflowClient

T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)
LATER = T0 + timedelta(days=30)
TRAIN, SCORE = "churn-training", "churn-scoring"
MIN, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

AUC_OLD = [(0, T0 + 1 * MIN, 0.70), (1, T0 + 2 * MIN, 0.75), (2, T0 + 3 * MIN, 0.80)]
LOSS_OLD = [(0, T0 + 1 * MIN, 0.5), (1, T0 + 2 * MIN, 0.4)]
AUC_NEW = [(0, T0 + 2 * DAY + MIN, 0.82)]
AUC_RUNNING = [(0, T0 - 30 * MIN, 0.6)]
ALIAS_HISTORY = [
    {"alias": "champion", "version": "1", "at": "2025-03-01T13:00:00Z"},
    {"alias": "challenger", "version": 2, "at": "2025-03-03T15:00:00+02:00", "by": "ci"},
]


def ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


@dataclass(frozen=True)
class World:
    experiments: dict[str, str]  # name -> id
    runs: dict[str, str]  # story name -> run id


def build_world(client: MlflowClient, root: Path) -> World:
    exps = {
        name: client.create_experiment(name, artifact_location=str(root / "artifacts" / name))
        for name in (TRAIN, SCORE)
    }
    runs: dict[str, str] = {}

    def run(
        key: str,
        exp: str,
        start: datetime,
        end: datetime | None,
        status: str,
        tags: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        metrics: dict[str, list[tuple[int, datetime, float]]] | None = None,
    ) -> None:
        created = client.create_run(exps[exp], start_time=ms(start), tags=tags, run_name=key)
        run_id = created.info.run_id
        for name, text in (params or {}).items():
            client.log_param(run_id, name, text)
        for name, history in (metrics or {}).items():
            for step, ts, value in history:
                client.log_metric(run_id, name, value, timestamp=ms(ts), step=step)
        if status == "SCHEDULED":
            client.update_run(run_id, status=status)
        elif status != "RUNNING":
            assert end is not None
            client.set_terminated(run_id, status=status, end_time=ms(end))
        runs[key] = run_id

    run("running", TRAIN, T0 - HOUR, None, "RUNNING", metrics={"auc": AUC_RUNNING})
    run(
        "old",
        TRAIN,
        T0,
        T0 + 10 * MIN,
        "FINISHED",
        tags={
            "dspo.model": "churn",
            "dspo.model_version": "1",
            "dspo.pipeline": "train-churn",
            "dspo.trigger": "schedule",
            "team": "risk",
        },
        params={"lr": "0.1", "depth": "6"},
        metrics={"auc": AUC_OLD, "loss": LOSS_OLD},
    )
    run("failed", TRAIN, T0 + DAY, T0 + DAY + MIN, "FAILED", tags={"mlflow.source.type": "JOB"})
    run("killed", TRAIN, T0 + DAY + 2 * HOUR, T0 + DAY + 2 * HOUR + 3 * MIN, "KILLED")
    run("scheduled", TRAIN, T0 + DAY + 3 * HOUR, None, "SCHEDULED")
    run(
        "new",
        TRAIN,
        T0 + 2 * DAY,
        T0 + 2 * DAY + 5 * MIN,
        "FINISHED",
        tags={"dspo.model": "churn", "dspo.model_version": "2", "dspo.pipeline": "train-churn"},
        metrics={"auc": AUC_NEW},
    )
    run("score", SCORE, T0 + HOUR, T0 + HOUR + MIN, "FINISHED")

    client.create_registered_model(
        "churn", description="Churn classifier",
        tags={"dspo.alias_history": json.dumps(ALIAS_HISTORY)},
    )
    for key, tags in (("old", {"validated": "true"}), ("new", None)):
        artifact_uri = client.get_run(runs[key]).info.artifact_uri
        client.create_model_version(
            "churn", source=f"{artifact_uri}/model", run_id=runs[key], tags=tags
        )
    client.set_registered_model_alias("churn", "champion", "1")
    client.set_registered_model_alias("churn", "challenger", "2")
    client.create_registered_model("fraud")
    score_uri = client.get_run(runs["score"]).info.artifact_uri
    client.create_model_version("fraud", source=f"{score_uri}/model", run_id=runs["score"])
    return World(experiments=exps, runs=runs)


def sqlite_world(root: Path) -> tuple[str, World]:
    """A fresh sqlite tracking store holding the world; returns its URI."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{root / 'mlflow.db'}"
    return uri, build_world(MlflowClient(tracking_uri=uri, registry_uri=uri), root)


def by_type(records: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for record in records:
        grouped.setdefault(type(record).__name__, []).append(record)
    return grouped


NATURAL_KEYS = {
    "Run": ("product", "run_id", "experiment", "status"),
    "Point": ("product", "kind", "name"),
    "Model": ("product", "name"),
    "ModelVersion": ("product", "model", "version"),
    "AliasEvent": ("product", "model", "alias", "ts", "origin"),
    "PipelineRun": ("product", "system", "pipeline", "run_id", "state"),
}


def assert_contract(records: list[Any]) -> None:
    """Keys present and every datetime aware UTC: what the store's upserts rely on."""
    assert records
    for record in records:
        for key in NATURAL_KEYS[type(record).__name__]:
            assert getattr(record, key), (key, record)
        for f in fields(record):
            value = getattr(record, f.name)
            if isinstance(value, datetime):
                assert value.utcoffset() == timedelta(0), (f.name, record)


def free_port() -> int:
    """A port nobody listens on right now (closed again before it is returned)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def mlflow_server(root: Path, timeout: float = 90.0, workers: int = 1) -> Iterator[str]:
    """A real `mlflow server` on sqlite in its own process group; killed on exit."""
    port = free_port()
    log_path = root / "server.log"
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
    }
    command = [
        str(Path(sys.executable).parent / "mlflow"),
        "server",
        "--backend-store-uri", f"sqlite:///{root / 'server.db'}",
        "--default-artifact-root", str(root / "server-artifacts"),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", str(workers),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"mlflow server not healthy: {log_path.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        _kill_group(proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the group, then SIGKILL whatever of it is left (workers may outlive the leader)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=5)
