"""A real Apache Airflow 3 on 127.0.0.1 for the test suite, so collectors are tested against the
REST API they will meet in production instead of a mock that only echoes our assumptions.

Airflow lives in its own virtual environment (its pins clash with dspo's: SQLAlchemy, FastAPI,
pydantic), built once from `requirements-airflow.txt` and cached outside the clone, so only the
first run on a machine pays for the install. Each test session gets a fresh AIRFLOW_HOME with a
SQLite metadata DB, and the three components (api-server, scheduler, dag-processor) run as
separate processes, each in its own process group: Airflow forks workers and task supervisors,
and signalling only a parent leaves those running.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

AIRFLOW_VERSION = "3.3.2"
HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-airflow.txt"
DAGS_SOURCE = HERE / "dags"
VENV_ENV = "DSPO_AIRFLOW_VENV"
DEFAULT_VENV = Path.home() / ".cache" / "dspo-tests" / f"airflow-{AIRFLOW_VERSION}" / "venv"
MARKER_NAME = ".dspo-install-complete"
COMPONENTS = ("api-server", "scheduler", "dag-processor")
TERMINAL_RUN_STATES = frozenset({"success", "failed"})

# Variables of the caller's environment that would leak into Airflow and change what it runs:
# another Airflow's settings, another venv, or dspo's own import path.
_SCRUBBED_PREFIXES = ("AIRFLOW_", "AIRFLOW__")
_SCRUBBED_NAMES = frozenset({"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"})


# Each component starts through this shim, which asks the kernel to SIGTERM it when the process
# that started it dies without running the fixture's teardown (kill -9, an interpreter crash):
# the components run in their own sessions, so nothing else would stop an orphaned Airflow that
# keeps ~750 MB and a port. PR_SET_PDEATHSIG (1) survives the exec into `airflow`.
_PDEATHSIG_SHIM = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit('dspo test Airflow: parent already gone')\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


class AirflowUnavailable(RuntimeError):
    """Airflow's venv could not be built (typically: no network to PyPI). Tests skip on it."""


class AirflowStartError(RuntimeError):
    """Airflow was installed but did not come up: a real failure, never a skip."""


def venv_dir() -> Path:
    """Where the Airflow venv is cached: $DSPO_AIRFLOW_VENV, else under ~/.cache/dspo-tests."""
    override = os.environ.get(VENV_ENV)
    return Path(override).expanduser().resolve() if override else DEFAULT_VENV


def base_python() -> str:
    """The interpreter .venv was made from, so Airflow's venv gets the same Python (3.11).

    `sys.executable` is .venv's own python; a venv made from it would still work, but would break
    whenever .venv is rebuilt, so the cached venv is made from the base installation instead.
    """
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidate = Path(sys.base_prefix) / "bin" / version
    return str(candidate) if candidate.exists() else sys.executable


def _requirements_digest(requirements: Path) -> str:
    return hashlib.sha256(requirements.read_bytes()).hexdigest()


def _run_logged(cmd: list[str], log: Path, env: dict[str, str], timeout: float) -> None:
    """Run an install step with its output in `log`; raise AirflowUnavailable with the tail."""
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        try:
            result = subprocess.run(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise AirflowUnavailable(f"{cmd[0]} failed: {e}") from e
    if result.returncode != 0:
        raise AirflowUnavailable(
            f"`{' '.join(cmd[:4])} ...` exited {result.returncode}; "
            f"last lines of {log}:\n{_tail(log, 15)}"
        )


def ensure_venv(
    venv: Path | None = None, requirements: Path = REQUIREMENTS, timeout: float = 900.0
) -> Path:
    """Build (once) the cached Airflow venv and return the path of its `airflow` command.

    The marker file is written last and holds the requirements' hash, so a half-finished
    install, or one from older pins, is thrown away and redone. An exclusive file lock beside
    the venv makes a second pytest process wait for the first one's install instead of racing
    it in the same directory.
    """
    venv = venv or venv_dir()
    airflow_bin = venv / "bin" / "airflow"
    marker = venv / MARKER_NAME
    digest = _requirements_digest(requirements)
    venv.parent.mkdir(parents=True, exist_ok=True)
    lock_path = venv.parent / f"{venv.name}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if marker.is_file() and marker.read_text().strip() == digest and airflow_bin.exists():
                return airflow_bin
            if venv.exists():
                shutil.rmtree(venv)
            log = venv.parent / f"{venv.name}-install.log"
            log.write_bytes(b"")
            env = _clean_env()
            env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
            _run_logged([base_python(), "-m", "venv", str(venv)], log, env, timeout=120)
            _run_logged(
                # Short network timeouts so that, without PyPI, the tests skip within minutes
                # instead of running into pytest's 600 s timeout as an error.
                [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                 "--timeout", "60", "--retries", "2", "-r", str(requirements)],
                log, env, timeout=timeout,
            )  # fmt: skip
            if not airflow_bin.exists():
                raise AirflowUnavailable(f"pip finished but {airflow_bin} is missing; see {log}")
            marker.write_text(digest + "\n")
            return airflow_bin
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def free_port() -> int:
    """A port the kernel says is free on 127.0.0.1 (kept for the session, also across restarts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_SCRUBBED_PREFIXES) and k not in _SCRUBBED_NAMES
    }


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"({path} unreadable)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class AirflowServer:
    """One running Airflow (api-server, scheduler, dag-processor) and a small REST client for it.

    Frozen so a test cannot repoint the fixture at another port or home; the process handles
    are the only mutable part, which `stop()` and `start()` manage so a test can take Airflow
    down mid-session (to check a collector fails clearly) and bring it back on the same port,
    home and metadata DB.
    """

    home: Path
    port: int
    airflow_bin: Path
    username: str = "admin"
    password: str = "admin"
    # Shared by all components (they sign and check each other's JWTs) and kept across
    # stop()/start(), so tokens issued before a restart stay valid.
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    _procs: dict[str, subprocess.Popen[bytes]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def url(self) -> str:
        """Base URL of the api-server, e.g. http://127.0.0.1:41234."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def dags_folder(self) -> Path:
        """The copy of tests/airflow_it/dags Airflow parses (a copy, so tests may add DAG files)."""
        return self.home / "dags"

    @property
    def log_dir(self) -> Path:
        """Where each component's stdout/stderr goes (appended across restarts)."""
        return self.home / "component-logs"

    @property
    def running(self) -> bool:
        """Whether all three components are alive (not whether they are healthy)."""
        return bool(self._procs) and all(p.poll() is None for p in self._procs.values())

    # --- lifecycle -------------------------------------------------------------------------

    @classmethod
    def launch(
        cls,
        home: Path,
        airflow_bin: Path,
        *,
        port: int | None = None,
        dags_source: Path = DAGS_SOURCE,
        timeout: float = 120.0,
    ) -> AirflowServer:
        """Prepare a fresh AIRFLOW_HOME (DAGs, password file, migrated DB) and start Airflow."""
        server = cls(home=home.resolve(), port=port or free_port(), airflow_bin=airflow_bin)
        server.home.mkdir(parents=True, exist_ok=True)
        server.log_dir.mkdir(exist_ok=True)
        shutil.copytree(dags_source, server.dags_folder, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        # The simple auth manager reads passwords from this file and only generates random
        # ones for users missing from it: writing it first gives the tests a known login.
        (server.home / "simple_auth_manager_passwords.json.generated").write_text(
            json.dumps({server.username: server.password})
        )
        server._migrate()
        server.start(timeout=timeout)
        return server

    def env(self) -> dict[str, str]:
        """The environment every Airflow command runs with (see STACK-NOTES, Apache Airflow 3)."""
        env = _clean_env()
        env.update(
            {
                "PATH": f"{self.airflow_bin.parent}{os.pathsep}{env.get('PATH', '')}",
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{self.username}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                # Task supervisors report to the Execution API; its default URL is :8080.
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                # Scheduler and api-server must sign and check task JWTs with the same key.
                "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
                "AIRFLOW__API__SECRET_KEY": self.jwt_secret,
                "AIRFLOW__API__WORKERS": "1",
                # No calls home: Airflow 3.3 has no usage-data section any more; metrics, traces
                # and Sentry are off by default and stay off; MLflow/Evidently-style opt-outs
                # in case a provider honours them.
                "AIRFLOW__METRICS__STATSD_ON": "False",
                "AIRFLOW__METRICS__OTEL_ON": "False",
                "AIRFLOW__TRACES__OTEL_ON": "False",
                "AIRFLOW__SENTRY__SENTRY_ON": "False",
                "MLFLOW_DISABLE_TELEMETRY": "true",
                "DO_NOT_TRACK": "1",
                "SCARF_ANALYTICS": "false",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def _migrate(self) -> None:
        log = self.log_dir / "db-migrate.log"
        with log.open("ab") as out:
            result = subprocess.run(
                [str(self.airflow_bin), "db", "migrate"],
                stdout=out, stderr=subprocess.STDOUT, env=self.env(), cwd=self.home,
                timeout=300, check=False,
            )  # fmt: skip
        if result.returncode != 0:
            raise AirflowStartError(
                f"`airflow db migrate` exited {result.returncode}:\n{_tail(log, 30)}"
            )

    def start(self, timeout: float = 120.0) -> None:
        """Start the three components and wait until the health endpoint answers.

        On timeout, or when a component dies first, everything is stopped again and the error
        carries the tail of each component's log.
        """
        if self._procs:
            raise AirflowStartError("Airflow is already started; stop() it first")
        commands = {
            "api-server": ["api-server", "--port", str(self.port), "--host", "127.0.0.1"],
            "scheduler": ["scheduler"],
            "dag-processor": ["dag-processor"],
        }
        env = self.env()
        for name in COMPONENTS:
            with (self.log_dir / f"{name}.log").open("ab") as out:
                self._procs[name] = subprocess.Popen(
                    [str(self.airflow_bin.parent / "python"), "-c", _PDEATHSIG_SHIM,
                     str(os.getpid()), str(self.airflow_bin), *commands[name]],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    env=env, cwd=self.home, start_new_session=True,
                )  # fmt: skip
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            dead = {n: p.returncode for n, p in self._procs.items() if p.poll() is not None}
            if dead:
                raise AirflowStartError(f"Airflow component(s) exited early {dead}:\n{self.logs()}")
            try:
                response = httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as e:
                last = repr(e)
            time.sleep(0.5)
        raise AirflowStartError(
            f"Airflow health at {self.url} did not answer within {timeout:.0f} s "
            f"(last: {last}):\n{self.logs()}"
        )

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM every component's process group, then SIGKILL what is left after `grace`."""
        procs = dict(self._procs)
        self._procs.clear()
        for proc in procs.values():
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in procs.values():
            while time.monotonic() < deadline and _group_alive(proc):
                time.sleep(0.2)
        for proc in procs.values():
            _signal_group(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)

    @contextlib.contextmanager
    def stopped(self) -> Iterator[AirflowServer]:
        """Airflow down for the block and back up after it, so later tests still have it."""
        self.stop()
        try:
            yield self
        finally:
            self.start()

    def logs(self, lines: int = 25) -> str:
        """The last lines of each component's log, for error messages."""
        parts = [
            f"--- {log.name} ---\n{_tail(log, lines)}" for log in sorted(self.log_dir.glob("*.log"))
        ]
        return "\n".join(parts)

    # --- REST API --------------------------------------------------------------------------

    def token(self) -> str:
        """A JWT for the known user (POST /auth/token answers 201 Created, not 200)."""
        response = httpx.post(
            f"{self.url}/auth/token",
            json={"username": self.username, "password": self.password},
            timeout=10,
        )
        if response.status_code not in (200, 201):
            raise RuntimeError(f"POST /auth/token: HTTP {response.status_code}: {response.text}")
        return str(response.json()["access_token"])

    def client(self) -> httpx.Client:
        """An httpx client on the API with a fresh bearer token (close it, or use `with`)."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token()}"}, timeout=10
        )

    def get(self, path: str, **params: Any) -> Any:
        """GET a JSON document from the API, raising on any non-2xx status."""
        with self.client() as c:
            response = c.get(path, params=params)
            response.raise_for_status()
            return response.json()

    def trigger(self, dag_id: str) -> str:
        """Start a manual run now (`logical_date: null`, as Airflow 3 allows) and return its id."""
        with self.client() as c:
            response = c.post(f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns",
                              json={"logical_date": None})  # fmt: skip
            if response.status_code not in (200, 201):
                raise RuntimeError(
                    f"trigger {dag_id}: HTTP {response.status_code}: {response.text}"
                )
            return str(response.json()["dag_run_id"])

    def wait(self, dag_id: str, run_id: str, timeout: float = 120.0) -> str:
        """Poll a run until it is `success` or `failed` and return that state.

        Run ids look like `manual__2026-01-01T00:00:00.123456+00:00`. Airflow 3.3.2 happens to
        accept that raw in a path, but run ids are free text (a custom one may hold `/`, `?`,
        `#` or `%`), so they are always percent-encoded, as a collector must do too.
        """
        path = f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}"
        deadline = time.monotonic() + timeout
        state = "unknown"
        with self.client() as c:
            while time.monotonic() < deadline:
                try:
                    response = c.get(path)
                except httpx.TimeoutException:  # a loaded machine: poll again, within `timeout`
                    continue
                response.raise_for_status()
                state = str(response.json()["state"])
                if state in TERMINAL_RUN_STATES:
                    return state
                time.sleep(0.5)
        raise TimeoutError(
            f"{dag_id} run {run_id} still {state!r} after {timeout:.0f} s:\n{self.logs()}"
        )

    def wait_for_dags(self, *dag_ids: str, timeout: float = 120.0) -> None:
        """Wait until the dag-processor has parsed these DAGs (until then the API answers 404)."""
        deadline = time.monotonic() + timeout
        missing = list(dag_ids)
        with self.client() as c:
            while time.monotonic() < deadline:
                try:
                    missing = [
                        d for d in missing
                        if c.get(f"/api/v2/dags/{quote(d, safe='')}").status_code != 200
                    ]  # fmt: skip
                except httpx.TimeoutException:  # a loaded machine: ask again, within `timeout`
                    continue
                if not missing:
                    return
                time.sleep(0.5)
        errors = self.get("/api/v2/importErrors")
        raise TimeoutError(
            f"DAGs {missing} not parsed after {timeout:.0f} s; import errors: {errors}\n"
            f"{self.logs()}"
        )


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(proc: subprocess.Popen[bytes]) -> bool:
    """Whether anything is left in the process group led by `proc` (reaping the leader)."""
    proc.poll()
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
