"""The churn team's experiments of its last closed sprint, as a team would run them.

Two experiment items, each with a hypothesis and a success criterion in its description,
and the MLflow runs that answer them, tagged `dspo.item=<key>` in the `churn-experiments`
experiment. The runs' AUCs are set against the champion's AUC at the moment the item
closes, read back from MLflow by the same rule dspo uses (the newest `auc` point of the
champion version's runs at or before that instant), so the outcomes are known:

- the tenure experiment is **supported**: its best run beats the champion by 0.021 (a
  second run by 0.008; a third, logged two days after the item closed, is late and not
  counted);
- the support-calls spike is **refuted**: its best run ties the champion exactly (a tie is
  no improvement on `auc > champion`), the other loses by 0.012.

Plus an intermediate delivery done in the same sprint: a churn-drivers report for the
retention team. The sprint's goal rests on the tenure experiment and the report (labelled
`sprint-goal`), both done by the close, so its review pack says the goal was met.
Nothing here draws from the backlog simulation's random generator, so the rest of the
demo's backlog stays as it was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dspo.demo.timeline import SPRINTS, Timeline

if TYPE_CHECKING:  # mlflow_world imports MLflow and scikit-learn: only when building
    from dspo.demo.mlflow_world import MlflowWorld, ProductSpec

EXPERIMENT_SPRINT = SPRINTS - 1  # the last closed sprint
EXPERIMENT_NAME = "churn-experiments"
ITEM_TAG = "dspo.item"
GOAL_LABEL = "sprint-goal"  # the default of products[].backlog.goal_label


@dataclass(frozen=True)
class DemoRun:
    name: str
    start_days: float  # after the sprint's start
    delta: float  # its AUC minus the champion's at the item's close


@dataclass(frozen=True)
class DemoItem:
    """An item the demo adds to the sprint; `runs` only for experiments."""

    title: str
    type: str
    points: float
    started_days: float  # in progress, days after the sprint's start
    done_days: float
    hypothesis: str = ""
    criterion: str = ""  # '{floor}' becomes the champion's AUC rounded down to 2 decimals
    runs: tuple[DemoRun, ...] = ()
    goal: bool = False  # labelled GOAL_LABEL: the sprint's goal rests on it (review pack)

    def started(self, timeline: Timeline) -> datetime:
        return timeline.sprint_start(EXPERIMENT_SPRINT) + timedelta(days=self.started_days)

    def closed(self, timeline: Timeline) -> datetime:
        return timeline.sprint_start(EXPERIMENT_SPRINT) + timedelta(days=self.done_days)


ITEMS = (
    DemoItem(
        "Tenure bands as a feature", "Experiment", 3, 1, 6,
        hypothesis="Bucketing tenure into contract-length bands lifts AUC on recent weeks.",
        criterion="auc >= {floor} and auc > champion",
        runs=(DemoRun("tenure-bands", 2, 0.021), DemoRun("tenure-bands-l1", 3, 0.008),
              DemoRun("tenure-bands-rerun", 8, 0.05)),
        goal=True,
    ),
    DemoItem(
        "Support calls x tenure interaction", "Spike", 2, 2, 9,
        hypothesis="An interaction of support calls and tenure beats the champion.",
        criterion="auc > champion",
        runs=(DemoRun("support-interaction", 4, 0.0),
              DemoRun("support-interaction-l2", 5, -0.012)),
    ),
    DemoItem("Churn drivers report for the retention team", "Report", 2, 3, 8, goal=True),
)


@dataclass(frozen=True)
class LoggedItem:
    """A demo item with its description written out (criterion filled in)."""

    item: DemoItem
    description: str


def champion_auc(world: MlflowWorld, spec: ProductSpec, at: datetime) -> float:
    """The champion's `auc` at `at` as dspo reads it: the newest point, at or before `at`,
    of the champion version's training run and the runs tagged with the version."""
    from dspo.demo.mlflow_world import alias_at, ms

    version = alias_at(spec.deployments, "champion", at, world.timeline) or "1"
    client = world.client
    own = client.get_model_version(spec.model, version).run_id
    experiments = [world.experiment(f"{spec.key}-training"),
                   world.experiment(f"{spec.key}-monitoring")]
    tagged = client.search_runs(
        experiments, f"tags.`dspo.model` = '{spec.model}' and "
                     f"tags.`dspo.model_version` = '{version}'", max_results=1000)
    run_ids = {own, *(r.info.run_id for r in tagged)}
    points = [(m.timestamp, m.step, m.value) for run_id in run_ids
              for m in client.get_metric_history(run_id, "auc") if m.timestamp <= ms(at)]
    if not points:
        raise RuntimeError(f"no auc of {spec.model} v{version} at {at}")
    return float(max(points)[2])


def log_experiments(world: MlflowWorld, spec: ProductSpec) -> list[LoggedItem]:
    """Log each experiment's runs against the champion at its close; the items' texts."""
    experiment_id = world.experiment(EXPERIMENT_NAME)
    sprint_start = world.timeline.sprint_start(EXPERIMENT_SPRINT)
    logged = []
    for index, item in enumerate(ITEMS):
        key = item_key(index)
        description = f"Intermediate delivery of sprint {EXPERIMENT_SPRINT}."
        if item.runs:
            champion = champion_auc(world, spec, item.closed(world.timeline))
            for run in item.runs:
                start = sprint_start + timedelta(days=run.start_days)
                world.log_run(experiment_id, run.name, start, start + timedelta(minutes=25),
                              {"auc": champion + run.delta}, {ITEM_TAG: key})
            criterion = item.criterion.format(floor=f"{math.floor(champion * 100) / 100:.2f}")
            description = f"Hypothesis: {item.hypothesis}\nSuccess criterion: {criterion}"
        logged.append(LoggedItem(item, description))
    return logged


KEY_BASE = 900


def item_key(index: int, prefix: str = "CHURN") -> str:
    """Keys far above the simulation's (which stop below 200), so none ever collides."""
    return f"{prefix}-{KEY_BASE + index + 1}"
