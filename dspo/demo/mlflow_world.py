"""Train the demo models with scikit-learn and log their lives to a real MLflow store.

Per product: three registered versions trained at different weeks, promoted through the
`champion`/`challenger` aliases by a deployment job that records each move in the
`dspo.alias_history` tag (docs/sources.md); a weekly evaluation run of the version that was
champion that week on that week's labelled data (so its metric falls when the data
drifts); and a scoring pipeline every six hours whose run states are the pipeline history.
All timestamps are the world's past ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (
    mean_absolute_percentage_error,
    precision_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from collectors.mlflow_tracking import ALIAS_HISTORY_TAG
from dspo.demo.timeline import WEEKS, Timeline

PIP_REQUIREMENTS = ["scikit-learn", "pandas", "numpy"]  # skips MLflow's slow inference
DEPLOY_HOUR = 10  # the deployment job runs at 10:00 UTC


@dataclass(frozen=True)
class Deployment:
    """The deployment job points `alias` at `version` on day `days` of week `week`."""

    alias: str
    version: str
    week: int
    days: int = 0

    def at(self, timeline: Timeline) -> datetime:
        return timeline.week_start(self.week) + timedelta(days=self.days, hours=DEPLOY_HOUR)


def alias_at(deployments: tuple[Deployment, ...], alias: str, ts: datetime,
             timeline: Timeline) -> str | None:
    """The version `alias` pointed at at `ts` (None before its first move)."""
    moves = sorted((d.at(timeline), d.version) for d in deployments if d.alias == alias)
    current = None
    for at, version in moves:
        if at <= ts:
            current = version
    return current


@dataclass(frozen=True)
class ProductSpec:
    key: str
    model: str
    target: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    classifier: bool
    train_weeks: tuple[int, int, int]  # when versions 1, 2, 3 were trained
    forced_failures_days_ago: tuple[float, ...]  # recent pipeline failures, for the story
    deployments: tuple[Deployment, ...] = ()  # alias moves, in any order

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    @property
    def pipeline(self) -> str:
        return f"{self.key}-scoring"


def ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def _estimator(spec: ProductSpec) -> Pipeline:
    prep = ColumnTransformer([
        ("num", StandardScaler(), list(spec.numeric)),
        ("cat", OneHotEncoder(handle_unknown="ignore"), list(spec.categorical)),
    ])
    # Linear models: quick to fit, and their saved form loads without trusting pickled trees.
    model = LogisticRegression(max_iter=500) if spec.classifier else Ridge(alpha=1.0)
    return Pipeline([("prep", prep), ("model", model)])


def evaluate(spec: ProductSpec, model: Pipeline, frame: pd.DataFrame) -> dict[str, float]:
    x, y = frame[spec.features], frame[spec.target]
    if spec.classifier:
        proba = model.predict_proba(x)[:, 1]
        pred = (proba >= 0.5).astype(int)
        return {
            "auc": float(roc_auc_score(y, proba)),
            "precision": float(precision_score(y, pred, zero_division=0)),
            "recall": float(recall_score(y, pred, zero_division=0)),
        }
    # Regressors learn log demand (demand is multiplicative); errors are scored in units.
    y, pred = np.exp(y), np.exp(model.predict(x))
    return {
        "mape": float(mean_absolute_percentage_error(y, pred)),
        "rmse": float(root_mean_squared_error(y, pred)),
    }


class MlflowWorld:
    """Writes one product's history through the MLflow client API, as a team's jobs would."""

    def __init__(self, tracking_uri: str, artifacts: Path, timeline: Timeline) -> None:
        self.client = MlflowClient(tracking_uri=tracking_uri)
        self.tracking_uri = tracking_uri
        self.artifacts = artifacts
        self.timeline = timeline

    def experiment(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found:
            return str(found.experiment_id)
        return str(self.client.create_experiment(
            name, artifact_location=(self.artifacts / name).as_uri()
        ))

    def _run(self, experiment_id: str, name: str, start: datetime, end: datetime | None,
             metrics: dict[str, float], tags: dict[str, str], status: str = "FINISHED",
             params: dict[str, str] | None = None) -> str:
        run = self.client.create_run(experiment_id, start_time=ms(start), tags=tags, run_name=name)
        run_id = str(run.info.run_id)
        stamp = ms(end or start)
        self.client.log_batch(
            run_id,
            metrics=[Metric(k, v, stamp, 0) for k, v in metrics.items()],
            params=[_param(k, v) for k, v in (params or {}).items()],
        )
        if status != "RUNNING":
            self.client.set_terminated(run_id, status=status, end_time=ms(end or start))
        return run_id

    def log_run(self, experiment_id: str, name: str, start: datetime, end: datetime,
                metrics: dict[str, float], tags: dict[str, str]) -> str:
        """A finished run with one value of each metric, logged at its end."""
        return self._run(experiment_id, name, start, end, metrics, tags)

    def train_versions(
        self, spec: ProductSpec, training_data: Callable[[int], pd.DataFrame],
        holdout: pd.DataFrame,
    ) -> dict[str, Pipeline]:
        """Train and register versions 1..3, then deploy them as `spec.deployments` says."""
        import mlflow
        import mlflow.sklearn

        mlflow.set_tracking_uri(self.tracking_uri)
        experiment_id = self.experiment(f"{spec.key}-training")
        models: dict[str, Pipeline] = {}
        for version, week in enumerate(spec.train_weeks, start=1):
            frame = training_data(week)
            model = _estimator(spec).fit(frame[spec.features], frame[spec.target])
            start = self.timeline.week_start(week) - timedelta(days=2)
            metrics = evaluate(spec, model, holdout if week < WEEKS - 4 else frame.tail(400))
            run_id = self._run(
                experiment_id, f"train-v{version}", start, start + timedelta(minutes=14),
                metrics, {"dspo.model": spec.model, "dspo.model_version": str(version)},
                status="RUNNING", params={"rows": str(len(frame)), "trained_week": str(week)},
            )
            with mlflow.start_run(run_id=run_id):
                mlflow.sklearn.log_model(
                    model, name="model", registered_model_name=spec.model,
                    pip_requirements=PIP_REQUIREMENTS,
                )
            finished = start + timedelta(minutes=15)
            self.client.set_terminated(run_id, "FINISHED", end_time=ms(finished))
            self.client.set_model_version_tag(spec.model, str(version), "trained_at",
                                              start.isoformat())
            models[str(version)] = model
        self.deploy(spec)
        return models

    def deploy(self, spec: ProductSpec) -> None:
        """The deployment job: move each alias, oldest move first, and append the move to
        the registered model's `dspo.alias_history` tag as the convention asks."""
        history: list[dict[str, str | None]] = []
        for move in sorted(spec.deployments, key=lambda d: d.at(self.timeline)):
            self.client.set_registered_model_alias(spec.model, move.alias, move.version)
            at = move.at(self.timeline).isoformat().replace("+00:00", "Z")
            history.append({"alias": move.alias, "version": move.version, "at": at})
            self.client.set_registered_model_tag(spec.model, ALIAS_HISTORY_TAG,
                                                 json.dumps(history))

    def weekly_evaluations(
        self, spec: ProductSpec, models: dict[str, Pipeline],
        weekly: list[pd.DataFrame],
    ) -> list[dict[str, float]]:
        """Score each week's labelled data with the version that was champion at the end of
        that week, and shadow-score the challenger once there is one."""
        experiment_id = self.experiment(f"{spec.key}-monitoring")
        results = []
        for week, frame in enumerate(weekly):
            end = self.timeline.week_end(week) - timedelta(hours=1)
            champion = alias_at(spec.deployments, "champion", end, self.timeline) or "1"
            challenger = alias_at(spec.deployments, "challenger", end, self.timeline)
            versions = [champion]
            if challenger is not None and challenger != champion:
                versions.append(challenger)
            for version in versions:
                metrics = evaluate(spec, models[version], frame)
                self._run(
                    experiment_id, f"eval-week{week:02d}-v{version}",
                    end - timedelta(minutes=20), end, metrics,
                    {"dspo.model": spec.model, "dspo.model_version": version},
                )
                if version == versions[0]:
                    results.append(metrics)
        return results

    def scoring_pipeline(self, spec: ProductSpec, rng: np.random.Generator) -> int:
        """A batch scoring job every six hours; returns how many runs it logged."""
        experiment_id = self.experiment(spec.pipeline)
        forced = {round(days * 4) for days in spec.forced_failures_days_ago}
        t = self.timeline.start + timedelta(hours=1)
        count = 0
        while t < self.timeline.now:
            slots_ago = int((self.timeline.now - t) / timedelta(hours=6))
            duration = timedelta(minutes=float(rng.uniform(6, 11)))
            last = t + timedelta(hours=6) >= self.timeline.now
            if last and t + duration > self.timeline.now:
                status, end = "RUNNING", None
            elif slots_ago in forced or rng.random() < 0.01:
                status, end = "FAILED", t + duration / 3
            else:
                status, end = "FINISHED", t + duration
            metrics = {"rows_scored": float(rng.integers(9000, 12000))} if end else {}
            self._run(
                experiment_id, f"{spec.pipeline}-{t:%Y%m%dT%H%M}", t, end, metrics,
                {"dspo.pipeline": spec.pipeline, "dspo.trigger": "schedule"}, status=status,
            )
            t += timedelta(hours=6)
            count += 1
        return count


def _param(key: str, value: str):  # type: ignore[no-untyped-def]
    from mlflow.entities import Param

    return Param(key, value)
