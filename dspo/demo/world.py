"""`dspo demo`: build a small, real world for dspo to collect.

Two products (a churn classifier and a demand forecaster) with 12 weeks of history: models
trained with scikit-learn and logged to a real MLflow store, feature data for Evidently to
compare, a product database of usage, and each team's backlog as tracker exports. dspo then
collects it with the same collectors and config shape production uses (`config/demo.yaml`);
nothing here writes to dspo's store.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import Progress

from dspo.demo.backlog import BacklogSim
from dspo.demo.data import churn_frame, demand_frame, with_timestamps
from dspo.demo.experiments import EXPERIMENT_SPRINT, GOAL_LABEL, LoggedItem, item_key
from dspo.demo.timeline import WEEKS, Timeline
from dspo.telemetry import disable_call_home

SEED = 42
MARKER = "WORLD_OK"
CHURN_WEEKS = (0, 4, 10)
DEMAND_WEEKS = (0, 6, 11)
# Each version goes live two days after its training run (which starts 2 days before its
# week). Demand's version 2 was a bad release: rolled back after two days, re-released
# with a fix a week later. Both end on champion=2, challenger=3.
CHURN_DEPLOYS = (("champion", "1", 0, 0), ("champion", "2", 4, 0), ("challenger", "3", 10, 0))
DEMAND_DEPLOYS = (("champion", "1", 0, 0), ("champion", "2", 6, 0), ("champion", "1", 6, 2),
                  ("champion", "2", 7, 0), ("challenger", "3", 11, 0))


def world_exists(folder: Path) -> bool:
    return (folder / MARKER).exists()


def build_world(folder: Path, *, force: bool = False, timeline: Timeline | None = None) -> None:
    disable_call_home()
    from dspo.demo.experiments import log_experiments
    from dspo.demo.mlflow_world import Deployment, MlflowWorld, ProductSpec
    from dspo.demo.usage import build_usage_db

    if folder.exists() and (force or not world_exists(folder)):
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    timeline = timeline or Timeline.ending()
    rng = np.random.default_rng(SEED)
    world = MlflowWorld(f"sqlite:///{folder / 'mlflow.db'}", folder / "mlartifacts", timeline)
    specs = [
        (ProductSpec("churn", "churn-clf", "churned",
                     ("tenure_months", "monthly_charges", "support_calls", "usage_minutes"),
                     ("contract", "region"), True, CHURN_WEEKS, (2.3,),
                     tuple(Deployment(*d) for d in CHURN_DEPLOYS)), churn_frame),
        (ProductSpec("demand", "demand-forecaster", "log_demand",
                     ("price", "promo", "temperature", "day_of_week"),
                     ("store_size", "region"), False, DEMAND_WEEKS, (0.6, 2.8, 5.1),
                     tuple(Deployment(*d) for d in DEMAND_DEPLOYS)),
         demand_frame),
    ]
    logged: list[LoggedItem] = []
    console = Console(stderr=True)
    with Progress(console=console) as bar:
        task = bar.add_task("building the demo world", total=len(specs) * 4 + 2)
        for spec, make in specs:
            reference = make(rng, 3000, None)
            weekly = [make(rng, 600, week) for week in range(WEEKS)]
            _write_drift_data(folder / spec.key, spec.features, reference, weekly, rng, timeline)
            bar.advance(task)

            def training(week: int, ref: pd.DataFrame = reference,
                         wk: list[pd.DataFrame] = weekly) -> pd.DataFrame:
                if week >= 8:  # retrained on post-drift data only
                    return pd.concat(wk[8:week])
                return pd.concat([ref, *wk[:week]])

            models = world.train_versions(spec, training, make(rng, 1500, None))
            bar.advance(task)
            world.weekly_evaluations(spec, models, weekly)
            if spec.key == "churn":
                logged = log_experiments(world, spec)
            bar.advance(task)
            world.scoring_pipeline(spec, rng)
            bar.advance(task)
        build_usage_db(folder / "product.db", timeline, rng)
        bar.advance(task)
        _backlogs(folder, timeline, logged)
        bar.advance(task)
    (folder / MARKER).write_text(timeline.now.isoformat(), encoding="utf-8")
    console.print(f"demo world built in {folder}")


def _write_drift_data(
    folder: Path, features: list[str], reference: pd.DataFrame, weekly: list[pd.DataFrame],
    rng: np.random.Generator, timeline: Timeline,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    reference[features].to_parquet(folder / "reference.parquet", index=False)
    current = pd.concat(
        [with_timestamps(frame[features], rng, timeline.week_start(w))
         for w, frame in enumerate(weekly)],
        ignore_index=True,
    )
    current.to_parquet(folder / "current.parquet", index=False)


def _backlogs(folder: Path, timeline: Timeline, experiments: list[LoggedItem]) -> None:
    teams: list[tuple[str, str, list[str], int, int]] = [
        ("churn", "CHURN", ["Retention scores in CRM", "Feature store migration",
                            "Model monitoring", "Explainability for agents",
                            "Label pipeline"], 170, 26),
        ("demand", "DEM", ["Promo effects", "Store clustering", "Forecast API",
                           "Weather features", "Backtesting"], 110, 21),
    ]
    for key, prefix, themes, total, capacity in teams:
        sim = BacklogSim(prefix, themes, timeline, seed=SEED + len(prefix), capacity=capacity)
        sim.build(total)
        if key == "churn":
            for index, logged in enumerate(experiments):
                item = logged.item
                sim.add_done_in_sprint(EXPERIMENT_SPRINT, item_key(index, prefix), item.title,
                                       item.type, item.points, item.started(timeline),
                                       item.closed(timeline), logged.description,
                                       (GOAL_LABEL,) if item.goal else ())
        sim.write(folder / "backlog" / key)
