"""Which backlog items are experiments and which are intermediate deliveries.

A Data Science team's backlog holds, beside features, stories, bugs and tasks, work whose
result is knowledge rather than a deployed feature: experiments and spikes (a hypothesis
tested against data) and intermediate deliveries (a report, a prototype, an analysis).
They are first-class kinds here, matched on the item's type ignoring case and surrounding
spaces; a product may name its own types (`products[].backlog.item_kinds`).

Pure: frames in as `store.queries.backlog_items` returns them.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from config.experiments import DEFAULT_DELIVERY_TYPES, DEFAULT_EXPERIMENT_TYPES, ItemKinds
from config.schema import ProductConfig

__all__ = [
    "DEFAULT_DELIVERY_TYPES",
    "DEFAULT_EXPERIMENT_TYPES",
    "DELIVERY",
    "EXPERIMENT",
    "ItemKinds",
    "deliveries",
    "experiments",
    "is_delivery",
    "is_experiment",
    "kind_of",
    "kinds_of",
]

Kind = Literal["experiment", "delivery"]
EXPERIMENT: Kind = "experiment"
DELIVERY: Kind = "delivery"


def kinds_of(product: ProductConfig) -> ItemKinds:
    """The product's item kinds (the defaults unless its config names others)."""
    return product.backlog.item_kinds


def _norm(value: object) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


def kind_of(item_type: object, kinds: ItemKinds) -> Kind | None:
    """'experiment', 'delivery', or None for any other type (feature, story, bug, ...).

    A type listed under both is an experiment: its outcome is what the PO asks about.
    """
    name = _norm(item_type)
    if name and name in {_norm(t) for t in kinds.experiment}:
        return EXPERIMENT
    if name and name in {_norm(t) for t in kinds.delivery}:
        return DELIVERY
    return None


def is_experiment(item_type: object, kinds: ItemKinds) -> bool:
    return kind_of(item_type, kinds) == EXPERIMENT


def is_delivery(item_type: object, kinds: ItemKinds) -> bool:
    return kind_of(item_type, kinds) == DELIVERY


def _of_kind(items: pd.DataFrame, kinds: ItemKinds, kind: Kind) -> pd.DataFrame:
    if items.empty:
        return items.copy()
    mask = [kind_of(t, kinds) == kind for t in items["type"]]
    return items.loc[mask].reset_index(drop=True)


def experiments(items: pd.DataFrame, kinds: ItemKinds) -> pd.DataFrame:
    """The experiment items of a backlog frame, in its order."""
    return _of_kind(items, kinds, EXPERIMENT)


def deliveries(items: pd.DataFrame, kinds: ItemKinds) -> pd.DataFrame:
    """The intermediate-delivery items of a backlog frame, in its order."""
    return _of_kind(items, kinds, DELIVERY)
