"""The product map: a product's parts and their links, as Cytoscape elements.

In the spirit of the concept graph of the article dspo grew from: one node per thing a PO
looks after (models and their versions, datasets, pipelines, usage KPIs, epics, items
alerts created), coloured by what it is and outlined by its health, each linked to the page
that shows it. Pure: frames in, element dicts out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from dashboard.figures.overview import STATUS_COLOURS
from kpis.health import Status

KIND_COLOURS = {
    "product": "#343a40", "model": "#e4572e", "version": "#f3a38d", "dataset": "#f2c14e",
    "pipeline": "#708090", "kpi": "#2a9d8f", "epic": "#7b5ea7", "alert": "#d64545",
    "experiment": "#3a86ff", "run": "#9bb8f0",
}
KIND_LABELS = {"product": "product", "model": "model", "version": "model version",
               "dataset": "dataset", "pipeline": "pipeline", "kpi": "usage KPI",
               "epic": "epic", "alert": "item created by an alert",
               "experiment": "experiment item", "run": "MLflow run"}
PAGE_OF_KIND = {"product": "/", "model": "/models", "version": "/models", "dataset": "/data",
                "pipeline": "/pipelines", "kpi": "/usage", "epic": "/flow", "alert": "/flow",
                "experiment": "/ledger", "run": "/ledger"}
OUTCOME_STATUS = {"supported": Status.GREEN, "refuted": Status.RED,
                  "inconclusive": Status.UNKNOWN, "open": None}
"""An experiment node's outline: its outcome, in the health colours."""


def _href(kind: str, product: str, **extra: str) -> str:
    return f"{PAGE_OF_KIND[kind]}?{urlencode({'product': product, **extra})}"


def _node(node_id: str, label: str, kind: str, href: str,
          status: Status | None = None) -> dict[str, Any]:
    data = {"id": node_id, "label": label, "kind": kind, "href": href,
            "colour": KIND_COLOURS[kind],
            "border": STATUS_COLOURS[status] if status else "#ffffff"}
    return {"data": data, "classes": kind}


def _edge(source: str, target: str, label: str) -> dict[str, Any]:
    return {"data": {"source": source, "target": target, "label": label}}


def map_elements(
    product: str, product_name: str, *, versions: pd.DataFrame, reports: pd.DataFrame,
    pipelines: list[str], kpis: list[str], epics: pd.DataFrame, alert_items: pd.DataFrame,
    statuses: Mapping[tuple[str, str], Status], product_status: Status,
    experiments: pd.DataFrame | None = None, experiment_runs: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """`statuses` maps (kind, name) of a model, dataset, pipeline or kpi to its health;
    `epics` is `kpis.backlog.open_items_by_epic`, `alert_items` the items alerts created;
    `experiments` the experiment ledger and `experiment_runs` the runs to draw for it
    (`dashboard.services.ledger`: key, run_id, name)."""
    root = f"product:{product}"
    elements = [_node(root, product_name, "product", _href("product", product), product_status)]
    for model, group in versions.groupby("model", sort=True):
        model_id = f"model:{model}"
        elements.append(_node(model_id, str(model), "model", _href("model", product),
                              statuses.get(("model", str(model)))))
        elements.append(_edge(root, model_id, "serves"))
        for _, v in group.iterrows():
            aliases = ", ".join(v["aliases"]) if len(v["aliases"]) else ""
            label = f"v{v['version']}" + (f" ({aliases})" if aliases else "")
            version_id = f"version:{model}:{v['version']}"
            elements.append(_node(version_id, label, "version", _href("version", product)))
            elements.append(_edge(model_id, version_id, "version"))
    models = set(versions["model"])
    for dataset, group in reports.groupby("dataset", sort=True):
        dataset_id = f"dataset:{dataset}"
        elements.append(_node(dataset_id, str(dataset), "dataset",
                              _href("dataset", product, dataset=str(dataset)),
                              statuses.get(("dataset", str(dataset)))))
        model = group["model"].dropna().iloc[-1] if group["model"].notna().any() else None
        target = f"model:{model}" if model in models else root
        elements.append(_edge(dataset_id, target, "feeds"))
    for pipeline in sorted(pipelines):
        pipeline_id = f"pipeline:{pipeline}"
        elements.append(_node(pipeline_id, pipeline, "pipeline", _href("pipeline", product),
                              statuses.get(("pipeline", pipeline))))
        elements.append(_edge(pipeline_id, root, "runs for"))
    for kpi in sorted(kpis):
        kpi_id = f"kpi:{kpi}"
        elements.append(_node(kpi_id, kpi, "kpi", _href("kpi", product),
                              statuses.get(("kpi", kpi))))
        elements.append(_edge(root, kpi_id, "measured by"))
    elements.extend(_backlog(product, root, epics, alert_items))
    if experiments is not None and experiment_runs is not None:
        elements.extend(_experiments(product, root, experiments, experiment_runs, versions))
    return elements


def _experiments(product: str, root: str, ledger: pd.DataFrame, runs: pd.DataFrame,
                 versions: pd.DataFrame) -> list[dict[str, Any]]:
    """item -> run ("tested by") -> version ("produced") where the run's model was
    registered; a run linked to two items is drawn once."""
    out: list[dict[str, Any]] = []
    produced = {str(r): (str(m), str(v)) for m, v, r in
                zip(versions["model"], versions["version"], versions["run_id"], strict=True)
                if isinstance(r, str) and r}
    drawn: set[str] = set()
    for item in ledger.itertuples(index=False):
        item_id = f"experiment:{item.key}"
        out.append(_node(item_id, f"{item.key}: {item.outcome}", "experiment",
                         _href("experiment", product), OUTCOME_STATUS.get(str(item.outcome))))
        out.append(_edge(root, item_id, "investigates"))
        for run in runs.loc[runs["key"] == item.key].itertuples(index=False):
            run_id = f"run:{run.run_id}"
            if run.run_id not in drawn:
                drawn.add(run.run_id)
                out.append(_node(run_id, str(run.name or run.run_id[:8]), "run",
                                 _href("run", product)))
                if run.run_id in produced:
                    model, version = produced[run.run_id]
                    out.append(_edge(run_id, f"version:{model}:{version}", "produced"))
            out.append(_edge(item_id, run_id, "tested by"))
    return out


def node_counts(elements: list[dict[str, Any]]) -> dict[str, int]:
    """How many parts of each kind the map draws (edges are not parts), in drawing order."""
    counts: dict[str, int] = {}
    for element in elements:
        if "source" not in element["data"]:
            kind = element["data"]["kind"]
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def _backlog(product: str, root: str, epics: pd.DataFrame, alert_items: pd.DataFrame
             ) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for epic in epics.itertuples(index=False):
        title = epic.title if isinstance(epic.title, str) else epic.epic
        out.append(_node(f"epic:{epic.epic}", f"{title} ({epic.open_items} open)", "epic",
                         _href("epic", product)))
        out.append(_edge(root, f"epic:{epic.epic}", "plans"))
    for _, item in alert_items.iterrows():
        item_id = f"alert:{item['key']}"
        out.append(_node(item_id, f"{item['key']}: {item['title']}", "alert",
                         _href("alert", product)))
        out.append(_edge(item_id, root, "raised on"))
    return out


STYLESHEET: list[dict[str, Any]] = [
    {"selector": "node", "style": {
        "label": "data(label)", "background-color": "data(colour)", "border-width": 4,
        "border-color": "data(border)", "font-size": 11, "text-wrap": "wrap",
        "text-max-width": 140, "text-valign": "bottom", "text-margin-y": 4,
        "width": 26, "height": 26, "color": "#222"}},
    {"selector": ".product", "style": {"width": 44, "height": 44, "font-size": 14,
                                       "font-weight": "bold"}},
    {"selector": ".model", "style": {"width": 34, "height": 34, "shape": "round-rectangle"}},
    {"selector": ".dataset", "style": {"shape": "barrel"}},
    {"selector": ".pipeline", "style": {"shape": "hexagon"}},
    {"selector": ".kpi", "style": {"shape": "diamond"}},
    {"selector": ".alert", "style": {"shape": "triangle"}},
    {"selector": ".experiment", "style": {"shape": "star"}},
    {"selector": ".run", "style": {"shape": "ellipse", "width": 18, "height": 18}},
    {"selector": "edge", "style": {
        "width": 1.5, "line-color": "#b8bec7", "curve-style": "bezier",
        "target-arrow-shape": "triangle", "target-arrow-color": "#b8bec7",
        "label": "data(label)", "font-size": 9, "color": "#6c757d",
        "text-rotation": "autorotate", "text-background-color": "#f5f6f8",
        "text-background-opacity": 1}},
    {"selector": "node:selected", "style": {"border-color": "#0d6efd"}},
]
