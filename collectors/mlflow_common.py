"""What the MLflow collectors share: one reader that owns the client, paging and errors.

Both MLflow collectors talk to the same kinds of servers and fail in the same ways, so the
choices live here once:

- The client is built per collector with explicit URIs; nothing calls
  `mlflow.set_tracking_uri`, so two sources pointing at two servers never see each other.
- MLflow's HTTP client retries for about four minutes by default (7 retries, backoff 2),
  which would hold a collect job hostage to one dead server. Each call made through the
  reader runs with the source's `read_timeout` and `retries` (MLflow's own backoff with
  jitter, which honours Retry-After) unless the operator has set the variables in the
  environment; they are restored after the call, so the rest of the process keeps
  MLflow's defaults. MLflow reads them from the process environment, so when several
  MLflow sources run at once the first one's values hold for the overlap. Each call also
  checks the run's deadline first; the runner's deadline bounds the whole run.
- A database-backed tracking URI (postgresql://...) gets one quick connection probe first:
  MLflow's own engine creation retries for about 100 s. A sqlite:/// file must exist:
  MLflow would otherwise create an empty database and the collector would happily report
  nothing.
- Every exception from the client becomes the collector's `fail(...)` error: unreachable
  servers, timeouts and 5xx are retriable; 4xx, unknown URI schemes and missing
  experiments or models are fatal. Messages carry the source and its URI with any
  password masked.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from collectors.base import Collector, SourceError
from config.sources import SourceBase

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Experiment
    from mlflow.entities import Run as MlflowRun
    from mlflow.entities.model_registry import ModelVersion as MlflowModelVersion
    from mlflow.entities.model_registry import RegisteredModel

log = logging.getLogger(__name__)
T = TypeVar("T")

SHORT_HTTP_RETRIES: dict[str, str] = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}
"""About 2 s for a refused connection; under a minute (3 x 15 s) for a black-holed host."""

QUIET_ENV: dict[str, str] = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
"""A dashboard reading a team's MLflow must not phone home on its behalf."""

RUNS_PAGE = 1000
REGISTRY_PAGE = 100
EXPERIMENT_IDS_PER_SEARCH = 50
UNSTARTED_STATUSES = ("RUNNING", "SCHEDULED")
DATABASE_SCHEMES = ("postgresql", "mysql", "mssql")

_env_lock = threading.Lock()
_env_users = 0
_env_set: list[str] = []


def mask_uri(uri: str) -> str:
    """The URI with any password replaced by ***: safe for logs, errors and `where`."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    netloc = f"{parts.username}:***@{host}" if parts.username else f":***@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def run_url(tracking_uri: str, experiment_id: str, run_id: str) -> str | None:
    """Link to the run in MLflow's UI; only an http(s) server has a UI to link to."""
    parts = urlsplit(tracking_uri)
    if parts.scheme not in ("http", "https"):
        return None
    netloc = parts.netloc.rsplit("@", 1)[-1]  # credentials never go into a link
    base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"


def to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def http_env(settings: SourceBase | None) -> dict[str, str]:
    """MLflow's HTTP settings for one source: its read timeout and retries."""
    if settings is None:
        return SHORT_HTTP_RETRIES
    return {
        **SHORT_HTTP_RETRIES,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(settings.retries),
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(max(1, int(settings.read_timeout.total_seconds()))),
    }


@contextmanager
def mlflow_env(settings: SourceBase | None = None) -> Iterator[None]:
    """The source's HTTP timeout and retries, and no telemetry, for one MLflow call.

    Reference-counted so overlapping calls from several threads restore the environment
    only when the last one leaves; variables the operator set are never touched.
    """
    global _env_users
    with _env_lock:
        if _env_users == 0:
            for key, value in {**QUIET_ENV, **http_env(settings)}.items():
                if key not in os.environ:
                    os.environ[key] = value
                    _env_set.append(key)
        _env_users += 1
    try:
        yield
    finally:
        with _env_lock:
            _env_users -= 1
            if _env_users == 0:
                for key in _env_set:
                    os.environ.pop(key, None)
                _env_set.clear()


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_retriable(exc: BaseException) -> bool:
    """Unreachable, timed out, overloaded or failing server: the next run may succeed."""
    import requests
    import sqlalchemy.exc
    from mlflow.exceptions import MlflowException

    for link in _chain(exc):
        if isinstance(link, requests.exceptions.InvalidURL):
            return False
        if isinstance(
            link,
            requests.ConnectionError
            | requests.Timeout
            | requests.exceptions.RetryError
            | ConnectionError
            | TimeoutError
            | sqlalchemy.exc.OperationalError,
        ):
            return True
    return isinstance(exc, MlflowException) and exc.get_http_status_code() >= 500


class MlflowReader:
    """The only code in dspo that calls MlflowClient: paging, filters and error translation."""

    def __init__(
        self, collector: Collector[Any], tracking_uri: str, registry_uri: str | None = None
    ) -> None:
        self.collector = collector
        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri or tracking_uri
        self._client: MlflowClient | None = None

    # ------------------------------------------------------------ errors and calls

    def error(self, exc: BaseException, action: str) -> SourceError:
        """The collector's error for `exc`; the cause never shows a password."""
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        for uri in {self.tracking_uri, self.registry_uri}:
            password = urlsplit(uri).password
            if password:
                text = text.replace(password, "***")
        if len(text) > 400:
            text = text[:400] + "..."
        retriable = is_retriable(exc)
        hint = " (will retry on the next run)" if retriable else ""
        return self.collector.fail(f"{action} failed: {text}{hint}", retriable=retriable)

    def call(self, action: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one client call with short retries, translating what it raises."""
        import requests
        import sqlalchemy.exc
        from mlflow.exceptions import MlflowException

        self.collector.deadline.check(action)
        try:
            with mlflow_env(self.collector.settings):
                return fn(*args, **kwargs)
        except (
            MlflowException,
            requests.RequestException,
            sqlalchemy.exc.SQLAlchemyError,
            OSError,
        ) as e:
            raise self.error(e, action) from e

    @property
    def client(self) -> MlflowClient:
        if self._client is None:
            for uri in {self.tracking_uri, self.registry_uri}:
                self._check_backend(uri)
            from mlflow import MlflowClient

            self._client = self.call(
                "connecting to MLflow",
                MlflowClient,
                tracking_uri=self.tracking_uri,
                registry_uri=self.registry_uri,
            )
        return self._client

    def _check_backend(self, uri: str) -> None:
        """Fail in seconds where MLflow would create an empty store or retry for minutes."""
        scheme = urlsplit(uri).scheme.split("+")[0]
        if scheme == "sqlite":
            from sqlalchemy.engine import make_url

            database = make_url(uri).database
            if database and database != ":memory:" and not Path(database).is_file():
                raise self.collector.fail(
                    f"sqlite database {database} does not exist "
                    "(MLflow would create an empty one; check the path)"
                )
        elif scheme in DATABASE_SCHEMES:
            import sqlalchemy

            def probe() -> None:
                engine = sqlalchemy.create_engine(uri, pool_pre_ping=False)
                try:
                    with engine.connect():
                        pass
                finally:
                    engine.dispose()

            self.call("connecting to the MLflow database", probe)

    def paged(self, action: str, fetch: Callable[[str | None], Any]) -> Iterator[Any]:
        """Every item of a paged search, following page tokens until the last page."""
        token: str | None = None
        while True:
            page = self.call(action, fetch, token)
            yield from page
            token = page.token
            if not token:
                return

    # ------------------------------------------------------------ experiments and runs

    def experiments(self, names: Iterable[str]) -> dict[str, str]:
        """Experiment id -> name for the configured names, or every active experiment.

        A configured experiment that does not exist is a configuration error, not an empty
        result: a renamed experiment must not silently empty a chart.
        """
        names = list(names)
        if not names:
            found: list[Experiment] = list(
                self.paged(
                    "listing experiments",
                    lambda token: self.client.search_experiments(
                        max_results=RUNS_PAGE, page_token=token
                    ),
                )
            )
            return {e.experiment_id: e.name for e in found}
        result: dict[str, str] = {}
        missing: list[str] = []
        for name in names:
            exp = self.call(
                f"looking up experiment {name!r}", self.client.get_experiment_by_name, name
            )
            if exp is None:
                missing.append(name)
            else:
                result[exp.experiment_id] = exp.name
        if missing:
            raise self.collector.fail(
                "experiment(s) not found: " + ", ".join(repr(n) for n in missing)
            )
        return result

    def runs(
        self,
        experiment_ids: Iterable[str],
        since: datetime | None,
        until: datetime,
        overlap_minutes: int,
    ) -> Iterator[MlflowRun]:
        """Runs that may have changed since `since - overlap`, each once.

        MLflow's filter language has AND but no OR, so "started after, or ended after, or
        not finished yet" is several searches whose results are merged by run id. Runs that
        started at or after `until` belong to the next collect.
        """
        upper = f"attributes.start_time < {to_ms(until)}"
        if since is None:
            filters = [upper]
        else:
            cutoff = to_ms(since - timedelta(minutes=overlap_minutes))
            filters = [
                f"attributes.start_time >= {cutoff} AND {upper}",
                f"attributes.end_time >= {cutoff} AND {upper}",
                *(f"attributes.status = '{s}' AND {upper}" for s in UNSTARTED_STATUSES),
            ]
        ids = list(experiment_ids)
        seen: set[str] = set()
        for start in range(0, len(ids), EXPERIMENT_IDS_PER_SEARCH):
            chunk = ids[start : start + EXPERIMENT_IDS_PER_SEARCH]
            for filter_string in filters:
                for run in self._search_runs(chunk, filter_string):
                    if run.info.run_id not in seen:
                        seen.add(run.info.run_id)
                        yield run

    def _search_runs(self, experiment_ids: list[str], filter_string: str) -> Iterator[MlflowRun]:
        def fetch(token: str | None) -> Any:
            return self.client.search_runs(
                experiment_ids,
                filter_string=filter_string,
                max_results=RUNS_PAGE,
                order_by=["attributes.start_time ASC", "attributes.run_id ASC"],
                page_token=token,
            )

        return self.paged("searching runs", fetch)

    def metric_history(self, run_id: str, key: str) -> list[Any]:
        """Every logged value of one metric (MlflowClient follows the pages itself)."""
        return list(
            self.call(
                f"reading metric history {key!r} of run {run_id}",
                self.client.get_metric_history,
                run_id,
                key,
            )
        )

    # ------------------------------------------------------------ registry

    def registered_models(self, names: Iterable[str]) -> list[RegisteredModel]:
        """The configured registered models (all if none), with their aliases.

        `search_registered_models` carries the aliases; `search_model_versions` returns
        them empty on MLflow 3.x, so aliases are joined from here.
        """
        names = list(names)
        if not names:
            return list(
                self.paged(
                    "listing registered models",
                    lambda token: self.client.search_registered_models(
                        max_results=REGISTRY_PAGE, order_by=["name ASC"], page_token=token
                    ),
                )
            )
        from mlflow.exceptions import MlflowException

        models: list[RegisteredModel] = []
        missing: list[str] = []
        for name in names:
            try:
                with mlflow_env(self.collector.settings):
                    models.append(self.client.get_registered_model(name))
            except MlflowException as e:
                if e.get_http_status_code() != 404:
                    raise self.error(e, f"reading registered model {name!r}") from e
                missing.append(name)
        if missing:
            raise self.collector.fail(
                "registered model(s) not found: " + ", ".join(repr(n) for n in missing)
            )
        return models

    def model_versions(self, model: str) -> Iterator[MlflowModelVersion]:
        literal = quote(model)
        if literal is None:
            raise self.collector.fail(f"model name {model!r} cannot be searched for")
        filter_string = f"name = {literal}"
        return self.paged(
            f"listing versions of model {model!r}",
            lambda token: self.client.search_model_versions(
                filter_string=filter_string, max_results=REGISTRY_PAGE, page_token=token
            ),
        )


def quote(value: str) -> str | None:
    """A string literal for MLflow's filter language, which has no escapes (None if both
    quote characters occur, which no literal can then hold)."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return None
