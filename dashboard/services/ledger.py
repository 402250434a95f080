"""The experiment ledger: every experiment item of a product with its hypothesis, success
criterion, linked runs, champion at the time and outcome.

Store reads (`store.queries`, `store.experiments`) -> `kpis.experiments` (the outcome
rules) and `kpis.flow` (cycle time). The Ledger page, the product map and the sprint
review pack all read `experiment_ledger`, so they show the same outcomes.

Which items: those whose type is an experiment kind (`kpis.item_kinds`) and those the
product's config declares (`products[].experiments`), created by `as_of`. The config's
hypothesis and criterion win over the description's. `champion` means the version holding
the `champion` alias of the item's model (config `model:`, else the model of the
product's first model_metric objective) when the item closed, or at `as_of` while open;
its value is that version's newest value of the metric at that instant (the Models page's
reading).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from config.experiments import ExperimentLink
from config.schema import ModelMetricObjective, ProductConfig
from dashboard.cache import cached_view
from kpis._time import utc_timestamp
from kpis.experiments import (
    Champion,
    RunRef,
    RunResult,
    Spec,
    Verdict,
    judge,
    link_runs,
    read_description,
    spec_of,
)
from kpis.flow import flow_times
from kpis.history import STATUS_CATEGORY, as_text, state_at
from kpis.item_kinds import is_experiment, kinds_of
from kpis.models import alias_intervals, version_stats
from store import experiments as reads
from store import queries
from store.db import Store

LEDGER_COLUMNS = [
    "key", "title", "type", "sprint", "status_category", "created", "resolved", "hypothesis",
    "criterion", "outcome", "reason", "runs", "late_runs", "best_run", "best_run_url",
    "metric", "best_value", "champion_version", "champion_value", "cycle_days",
]  # fmt: skip
RUN_COLUMNS = ["key", "run_id", "name", "experiment", "start", "url", "late", "model",
               "model_version"]
CHAMPION_ALIAS = "champion"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)


def default_model(product: ProductConfig) -> str | None:
    """The model of the product's first model_metric objective: what its champion means."""
    return next((o.model for o in product.objectives
                 if isinstance(o, ModelMetricObjective)), None)


@dataclass(frozen=True)
class _Item:
    key: str
    spec: Spec
    model: str | None
    closed: pd.Timestamp | None


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in LEDGER_COLUMNS})
    for column in ("created", "resolved"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.astype({"runs": "int64", "late_runs": "int64", "best_value": "float64",
                         "champion_value": "float64", "cycle_days": "float64"})


def experiment_items(items: pd.DataFrame, product: ProductConfig) -> pd.DataFrame:
    """The backlog frame's experiment items: by type or declared in config."""
    declared = {e.item for e in product.experiments}
    kinds = kinds_of(product)
    mask = [is_experiment(t, kinds) or k in declared
            for t, k in zip(items["type"], items["key"], strict=True)]
    return items.loc[mask].reset_index(drop=True)


def _specs(store: Store, product: ProductConfig, keys: list[str]) -> dict[str, Spec]:
    texts = reads.item_descriptions(store, product.key, keys)
    config = {e.item: e for e in product.experiments}
    out: dict[str, Spec] = {}
    for key in keys:
        hypothesis, criterion = read_description(texts.get(key))
        entry = config.get(key)
        if entry is not None:
            hypothesis = entry.hypothesis or hypothesis
            criterion = entry.criterion or criterion
        out[key] = spec_of(hypothesis, criterion)
    return out


def linked_runs(store: Store, product: ProductConfig, items: list[_Item], *,
                as_of: datetime) -> pd.DataFrame:
    """The runs linked to the items, one row per (item, run): RUN_COLUMNS; `late` says
    the run started after its item closed. Runs started after `as_of` are left out."""
    config: Mapping[str, ExperimentLink] = {e.item: e for e in product.experiments}
    keys = [i.key for i in items]
    run_ids = [r for e in config.values() for r in e.runs]
    names = [x for e in config.values() for x in e.mlflow_experiments]
    runs = reads.candidate_runs(store, product.key, keys, run_ids, names)
    runs = runs.loc[runs["start"] <= utc_timestamp(as_of)]
    refs = [RunRef(str(r.run_id), str(r.experiment), str(r.name or ""), as_text(r.item_tag))
            for r in runs.itertuples(index=False)]
    links = link_runs(refs, keys, {k: e.runs for k, e in config.items()},
                      {k: e.mlflow_experiments for k, e in config.items()})
    by_id = runs.set_index("run_id")
    rows = []
    for item in items:
        for run_id in links[item.key]:
            run = by_id.loc[run_id]
            late = item.closed is not None and run["start"] > item.closed
            rows.append((item.key, run_id, run["name"], run["experiment"], run["start"],
                         as_text(run["url"]), late, as_text(run["model"]),
                         as_text(run["model_version"])))
    return _no_runs(rows)


def _no_runs(rows: Sequence[tuple[object, ...]] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(rows or [], columns=RUN_COLUMNS)
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    return frame.astype({"late": bool})


class _Registry:
    """A model's alias events and versions, read once per ledger whatever its items."""

    def __init__(self, store: Store, product: str) -> None:
        self.store, self.product = store, product
        self._frames: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
        self._held: dict[tuple[str, pd.Timestamp], str | None] = {}  # open items share as_of

    def champion_at(self, model: str, at: pd.Timestamp) -> str | None:
        if (model, at) in self._held:
            return self._held[(model, at)]
        if model not in self._frames:
            self._frames[model] = (queries.alias_events(self.store, self.product, model),
                                   queries.model_versions(self.store, self.product, model))
        intervals = alias_intervals(*self._frames[model], as_of=at)
        held = intervals.loc[(intervals["alias"] == CHAMPION_ALIAS) & intervals["current"]]
        self._held[(model, at)] = str(held["version"].iloc[-1]) if len(held) else None
        return self._held[(model, at)]


def _champion(store: Store, product: str, model: str | None, metrics: tuple[str, ...],
              at: pd.Timestamp, registry: _Registry) -> Champion:
    """The version holding the champion alias at `at` and its newest value of each metric."""
    version = registry.champion_at(model, at) if model is not None else None
    if model is None or version is None:
        return Champion(None)
    values: dict[str, float] = {}
    for metric in metrics:
        points = queries.model_metric_latest(store, product, model, version, metric, [at])
        stats = version_stats(version, points, as_of=at)
        if stats is not None:
            values[metric] = stats.latest
    return Champion(version, values)


def experiment_ledger(store: Store, product: ProductConfig, *, as_of: datetime) -> pd.DataFrame:
    """One row per experiment item (LEDGER_COLUMNS), oldest item first."""
    return ledger_with_runs(store, product, as_of=as_of)[0]


def ledger_with_runs(store: Store, product: ProductConfig, *, as_of: datetime
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ledger and the runs linked to its items (RUN_COLUMNS; one row per item and
    run, late runs included), for pages that draw the links (the product map)."""
    at = utc_timestamp(as_of)
    backlog = queries.backlog_items(store, product.key)
    backlog = backlog.loc[backlog["created"] <= at] if len(backlog) else backlog
    items = experiment_items(backlog, product)
    if items.empty:
        return _empty(), _no_runs()
    events = queries.item_events(store, product.key)
    events = events.loc[events["ts"] <= at] if len(events) else events
    times = flow_times(items, events, start=_EPOCH, end=at + _TICK).set_index("key")
    state = state_at(items, events, at).set_index("key")
    keys = [str(k) for k in items["key"]]
    specs = _specs(store, product, keys)
    config = {e.item: e for e in product.experiments}
    fallback = default_model(product)
    entries = [
        _Item(key, specs[key], (config[key].model if key in config else None) or fallback,
              times.loc[key, "finished"] if key in times.index else None)
        for key in keys
    ]
    runs = linked_runs(store, product, entries, as_of=at)
    metrics = {m for i in entries if i.spec.criterion for m in i.spec.criterion.metrics}
    finals = reads.final_values(store, product.key, set(runs["run_id"]), metrics, as_of=at)
    values: dict[str, dict[str, float]] = {}
    for row in finals.itertuples(index=False):
        values.setdefault(str(row.run_id), {})[str(row.metric)] = float(row.value)
    urls = dict(zip(runs["run_id"], runs["url"], strict=True))
    registry = _Registry(store, product.key)
    rows = []
    for item, source in zip(entries, items.to_dict("records"), strict=True):
        mine = runs.loc[runs["key"] == item.key]
        results = [RunResult(str(r.run_id), r.start, values.get(str(r.run_id), {}))
                   for r in mine.itertuples(index=False)]
        criterion_metrics = item.spec.criterion.metrics if item.spec.criterion else ()
        champion = _champion(store, product.key, item.model, criterion_metrics,
                             item.closed if item.closed is not None else at, registry)
        verdict = judge(item.spec, results, champion,
                        closed=None if item.closed is None else item.closed.to_pydatetime())
        rows.append(_row(item, source, state.loc[item.key, STATUS_CATEGORY], verdict,
                         urls, times))
    frame = pd.DataFrame(rows, columns=LEDGER_COLUMNS)
    for column in ("created", "resolved"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.astype({"runs": "int64", "late_runs": "int64", "best_value": "float64",
                         "champion_value": "float64", "cycle_days": "float64"}), runs


def _row(item: _Item, source: Mapping[str, object], category: object, verdict: Verdict,
         urls: Mapping[str, object], times: pd.DataFrame) -> list[object]:
    cycle = float(times.loc[item.key, "cycle_days"]) if item.key in times.index else math.nan
    best_url = as_text(urls.get(verdict.best_run)) if verdict.best_run else None
    return [
        item.key, source["title"], source["type"], as_text(source["sprint"]), as_text(category),
        source["created"], item.closed, item.spec.hypothesis, item.spec.criterion_text,
        verdict.outcome, verdict.reason, verdict.runs, verdict.late_runs, verdict.best_run,
        best_url, verdict.metric, verdict.best_value, verdict.champion_version,
        verdict.champion_value, cycle,
    ]


# ---------------------------------------------------------------- the Ledger page

OUTCOMES = ("supported", "refuted", "inconclusive", "open")
NO_SPRINT = "Not in a sprint"


@dataclass(frozen=True)
class SprintGroup:
    sprint: str | None  # external id; None for items in no sprint
    name: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    rows: pd.DataFrame  # the ledger's rows of the sprint's items, oldest item first


@dataclass(frozen=True)
class LedgerView:
    product: ProductConfig
    as_of: datetime
    ledger: pd.DataFrame  # experiment_ledger
    counts: dict[str, int]  # outcome -> items, every outcome listed
    groups: list[SprintGroup]  # newest sprint first, items in no sprint last
    run_names: dict[str, str]  # run id -> its name in MLflow, for the linked runs


@cached_view("ledger")
def build_ledger(store: Store, product: ProductConfig, *, as_of: datetime) -> LedgerView:
    """The ledger grouped by the sprint each item is in, as the Ledger page shows it."""
    ledger, runs = ledger_with_runs(store, product, as_of=as_of)
    names = {str(r): str(n) for r, n in zip(runs["run_id"], runs["name"], strict=True) if n}
    counts = {o: int((ledger["outcome"] == o).sum()) for o in OUTCOMES}
    sprints = queries.sprints(store, product.key).drop_duplicates("external_id", keep="last")
    known = sprints.set_index("external_id")
    groups: list[SprintGroup] = []
    for sprint, rows in ledger.groupby(ledger["sprint"].fillna(""), sort=False):
        sid = str(sprint) or None
        if sid is not None and sid in known.index:
            row = known.loc[sid]
            groups.append(SprintGroup(sid, str(row["name"]), _ts(row["start"]),
                                      _ts(row["end"]), rows.reset_index(drop=True)))
        else:
            groups.append(SprintGroup(sid, sid or NO_SPRINT, None, None,
                                      rows.reset_index(drop=True)))
    epoch = pd.Timestamp(_EPOCH)
    groups.sort(key=lambda g: (g.sprint is None, -(g.start or epoch).value, g.name))
    return LedgerView(product, as_of, ledger, counts, groups, names)


def _ts(value: object) -> pd.Timestamp | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value)  # type: ignore[arg-type]
