"""The sprint review pack of one closed sprint: everything the Review page (and its PDF)
shows, computed once per view.

Store reads (`store.queries`, `store.signals`) -> `kpis.review` for the pack's own figures;
the sprint's committed and completed points are `kpis.velocity`'s, the Sprint page's; each
objective is judged at the sprint's start and close by `kpis.health.evaluate_objective` on
its signal, as on the Overview; the experiments and their outcomes are the experiment
ledger's (`dashboard.services.ledger`), as on the Ledger page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from config.schema import ProductConfig
from dashboard.cache import cached_view
from dashboard.services.ledger import experiment_ledger
from kpis.health import ObjectiveResult, evaluate_objective
from kpis.history import as_text
from kpis.item_kinds import kinds_of
from kpis.review import (
    GoalCheck,
    SprintWindow,
    delivered_by_type,
    delivered_items,
    goal_check,
    health_change,
    points_by_kind,
    promotions,
    sprint_alerts,
    sprint_window,
    usage_change,
    usage_changes,
)
from kpis.sprint_report import sprint_items
from kpis.usage import usage_objectives
from kpis.velocity import CLOSED, sprint_velocity
from store import queries
from store.db import Store
from store.records import SeriesKind
from store.signals import signal_frame
from store.sprint_figures import valid_sprint_figures

USAGE_LOOKBACKS = (timedelta(days=2), timedelta(days=15))
"""How far before the start and the close a usage KPI's latest value is looked for: two
days first (a daily or hourly KPI has its value there, in a short read), then 15 days."""


@dataclass(frozen=True)
class SprintReview:
    product: ProductConfig
    as_of: datetime
    closed: pd.DataFrame  # [external_id, name, start, end] of every closed sprint, oldest first
    window: SprintWindow
    goal: str  # the sprint's goal as the tracker has it (may be empty)
    goal_check: GoalCheck
    committed: float  # kpis.velocity's commitment and completed: the Sprint page's
    completed: float
    delivered: pd.DataFrame  # kpis.review.DELIVERED_COLUMNS
    by_type: pd.DataFrame  # kpis.review.BY_TYPE_COLUMNS
    by_kind: dict[str, float]  # delivered points per kind (increment, delivery, experiment)
    experiments: pd.DataFrame  # the ledger's rows of the sprint (LEDGER_COLUMNS)
    promotions: pd.DataFrame  # kpis.review.PROMOTION_COLUMNS
    health: pd.DataFrame  # kpis.review.HEALTH_COLUMNS, with `unit_kind` and `metric`
    alerts: pd.DataFrame  # kpis.review.ALERT_COLUMNS + summary, ticket_title, ticket_status
    usage: pd.DataFrame  # kpis.review.USAGE_COLUMNS + unit

    @property
    def sprint_id(self) -> str:
        return self.window.sprint_id

    @property
    def name(self) -> str:
        return self.window.name

    @property
    def fired(self) -> int:
        return int(self.alerts["fired_in_sprint"].sum())

    @property
    def resolved(self) -> int:
        return int(self.alerts["resolved_in_sprint"].sum())


def chosen_sprint(closed: pd.DataFrame, wanted: str | None) -> str | None:
    """The closed sprint named in the URL, else the latest closed one (None: none closed)."""
    ids = [as_text(v) for v in closed["external_id"]]
    if wanted in ids:
        return wanted
    return ids[-1] if ids else None


@cached_view("review")
def build_review(store: Store, product: ProductConfig, sprint: str | None, *,
                 as_of: datetime) -> SprintReview | None:
    """The pack of `sprint` (default: the latest closed); None when no sprint has closed."""
    key = product.key
    sprints = queries.sprints(store, key)
    items = queries.backlog_items(store, key)
    events = queries.item_events(store, key)
    velocity = sprint_velocity(sprints, items, events, as_of=as_of,
                               stored=valid_sprint_figures(store, key))
    closed = velocity.loc[velocity["state"] == CLOSED].reset_index(drop=True)
    chosen = chosen_sprint(closed, sprint)
    if chosen is None:
        return None
    window = sprint_window(sprints, chosen, as_of=as_of)
    row = closed.loc[closed["external_id"].map(as_text) == chosen].iloc[0]
    goal = sprints.loc[sprints["external_id"].map(as_text) == chosen, "goal"].iloc[0]
    per_item = sprint_items(sprints, items, events, chosen, as_of=as_of)
    delivered = delivered_items(per_item, items, kinds_of(product))
    return SprintReview(
        product=product, as_of=as_of,
        closed=closed[["external_id", "name", "start", "end"]],
        window=window,
        goal="" if goal is None or pd.isna(goal) else str(goal),
        goal_check=goal_check(per_item, items, product.backlog.goal_label),
        committed=float(row["commitment"]), completed=float(row["completed"]),
        delivered=delivered, by_type=delivered_by_type(delivered),
        by_kind=points_by_kind(delivered),
        experiments=sprint_experiments(store, product, chosen, as_of=as_of),
        promotions=promotions(queries.alias_events(store, key), window),
        health=health_at_both_ends(store, product, window),
        alerts=_alerts(store, key, window, items),
        usage=_usage(store, key, product, window),
    )


def sprint_experiments(store: Store, product: ProductConfig, sprint: str, *,
                       as_of: datetime) -> pd.DataFrame:
    """The ledger's experiments whose item is in `sprint`, as the Ledger page shows them."""
    ledger = experiment_ledger(store, product, as_of=as_of)
    return ledger.loc[ledger["sprint"].map(as_text) == sprint].reset_index(drop=True)


def judged_at(store: Store, product: ProductConfig, at: datetime) -> list[ObjectiveResult]:
    """Each objective judged at `at` on its own signal, as the Overview judges it."""
    return [evaluate_objective(o, signal_frame(store, product.key, o, as_of=at), as_of=at)
            for o in product.objectives]


def health_at_both_ends(store: Store, product: ProductConfig, window: SprintWindow
                        ) -> pd.DataFrame:
    start = judged_at(store, product, window.start.to_pydatetime())
    end = judged_at(store, product, window.close.to_pydatetime())
    frame = health_change(start, end)
    frame["metric"] = [getattr(o, "metric", None) for o in product.objectives]
    return frame


def _alerts(store: Store, product: str, window: SprintWindow, items: pd.DataFrame
            ) -> pd.DataFrame:
    """The episodes of the sprint, each with its alert's summary and its ticket's item
    (title and status now) where the ticket is an item of this product's backlog."""
    found = sprint_alerts(queries.alert_incidents(store, product),
                          queries.alert_tickets(store), window)
    alerts = queries.alerts(store, product)
    summary = dict(zip(alerts["fingerprint"], alerts["summary"], strict=True))
    found["summary"] = [str(summary.get(fp) or "") for fp in found["fingerprint"]]
    by_key = items.drop_duplicates("key").set_index("key")
    found["ticket_title"] = [as_text(by_key["title"].get(k)) if k else None
                             for k in found["ticket_key"]]
    found["ticket_status"] = [as_text(by_key["status"].get(k)) if k else None
                              for k in found["ticket_key"]]
    return found


def _usage(store: Store, product: str, config: ProductConfig, window: SprintWindow
           ) -> pd.DataFrame:
    """Every usage KPI of the product (its objectives' first, as on the Usage page)."""
    catalog = queries.series_catalog(store, product, SeriesKind.USAGE)
    units = {str(n): str(u or "") for n, u in zip(catalog["name"], catalog["unit"],
                                                  strict=True)}
    names = list(usage_objectives(config.objectives))
    names += sorted(n for n in units if n not in names)
    rows = []
    for name in names:
        reads = [_points_before(store, product, name, at)
                 for at in (window.start.to_pydatetime(), window.close.to_pydatetime())]
        full = [r for r in reads if len(r)]  # pandas warns on joining an empty frame
        points = pd.concat(full, ignore_index=True) if full else reads[0]
        rows.append(usage_change(name, points, window))
    frame = usage_changes(rows)
    frame["unit"] = [units.get(n, "") for n in frame["kpi"]]
    return frame


def _points_before(store: Store, product: str, name: str, at: datetime) -> pd.DataFrame:
    """The KPI's points in the shortest lookback before `at` holding a value."""
    for lookback in USAGE_LOOKBACKS:
        points = queries.series_points(store, product, SeriesKind.USAGE, name,
                                       start=at - lookback, end=at)
        if points["value"].notna().any():
            break
    return points
