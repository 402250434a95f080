"""The experiment ledger's service on the small world (tests/world/small.py) plus five
experiment items and their runs, SQLite and PostgreSQL; every figure by hand.

The small world's champion of `rec`: v1 from 18 Feb 09:00, v2 from 4 Mar 09:00, v1 from
5 Mar 21:00, v2 again from 7 Mar 09:00; v2's auc 0.86 (3 Mar 09:00), 0.84 (8 Mar),
0.83 (13 Mar), 0.86 (14 Mar). Its run r3 (v3) logged auc 0.85, 0.86, 0.88 (10, 12, 14 Mar).

- SHOP-10 Experiment, Sprint 2, description with hypothesis and `auc >= 0.85 and auc >
  champion`; in progress 3 Mar 10:00, done 9 Mar 12:00. Runs tagged dspo.item=SHOP-10:
  e10a (5 Mar 10:00, auc 0.70 at step 0 then 0.87 at step 1), e10b (6 Mar, 0.85), e10late
  (10 Mar 09:00, 0.95: after the close).
- SHOP-11 Spike, Sprint 2, `auc > champion`; in progress 4 Mar 10:00, done 8 Mar 12:00.
  Run "SHOP-11 retrain" (no tag: by name), 7 Mar 10:00, auc 0.84.
- SHOP-12 experiment (lower case), `auc >= 0.8 and p_value < 0.05`, done with no status
  history, resolved 10 Mar 10:00; run e12 tagged, 5 Mar, auc 0.9 and no p_value.
- SHOP-13 Story declared in config with `auc >= 0.82` and run r3 listed; in progress.
- SHOP-14 Spike whose description's criterion is prose; done, resolved 12 Mar 09:00.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import pytest
from world import small

from config.experiments import ExperimentLink
from dashboard.services.ledger import LEDGER_COLUMNS, build_ledger, experiment_ledger
from dashboard.services.product_map import build_map
from store import records as r
from store.db import Store
from store.writer import write_records

at = small.at
P = small.PRODUCT
PRODUCT = small.product_config().model_copy(update={"experiments": [
    ExperimentLink(item="SHOP-13", hypothesis="v3 generalises", criterion="auc >= 0.82",
                   runs=["r3"]),
]})
CREATED = at("2026-02-10T09:00")


def _item(key: str, kind: str, status: r.StatusCategory, description: str,
          sprint: str | None = "2", resolved: str | None = None) -> r.BacklogItem:
    return r.BacklogItem(P, key, f"Test {key}", kind, status.value, status, CREATED,
                         points=2, sprint=sprint, description=description,
                         resolved=at(resolved) if resolved else None)


def _moves(key: str, started: str, done: str | None) -> list[r.Record]:
    out: list[r.Record] = [r.ItemEvent(P, key, at(started), r.ItemField.STATUS_CATEGORY,
                                       "todo", "in_progress")]
    if done:
        out.append(r.ItemEvent(P, key, at(done), r.ItemField.STATUS_CATEGORY, "in_progress",
                               "done"))
    return out


def _run(run_id: str, start: str, name: str = "trial", tag: str | None = None,
         **auc: float) -> list[r.Record]:
    begin = at(start)
    tags = {"dspo.item": tag} if tag else {}
    out: list[r.Record] = [r.Run(P, run_id, "shop-experiments", name, "FINISHED", begin,
                                 begin + timedelta(hours=1), tags=tags,
                                 url=f"https://mlflow.example.com/#/runs/{run_id}")]
    for step, (metric, value) in enumerate(auc.items()):
        out.append(r.Point(P, r.SeriesKind.MODEL_METRIC, metric.split("_step")[0],
                           begin + timedelta(minutes=30), value, labels={"run_id": run_id},
                           step=step))
    return out


DONE, DOING = r.StatusCategory.DONE, r.StatusCategory.IN_PROGRESS
TEN = "Hypothesis: Margin features lift AUC\nSuccess criterion: auc >= 0.85 and auc > champion"


def seed(store: Store) -> None:
    small.seed(store)
    items: list[r.Record] = [
        _item("SHOP-10", "Experiment", DONE, TEN, resolved="2026-03-09T12:00"),
        _item("SHOP-11", "Spike", DONE, "Hypothesis: retraining beats v2\n"
              "Success criterion: auc > champion", resolved="2026-03-08T12:00"),
        _item("SHOP-12", "experiment", DONE, "Success criterion: auc >= 0.8 and p_value < 0.05",
              sprint=None, resolved="2026-03-10T10:00"),
        _item("SHOP-13", "Story", DOING, "", sprint=None),
        _item("SHOP-14", "Spike", DONE, "Success criterion: <b>AUC</b> improves a lot",
              sprint=None, resolved="2026-03-12T09:00"),
        *_moves("SHOP-10", "2026-03-03T10:00", "2026-03-09T12:00"),
        *_moves("SHOP-11", "2026-03-04T10:00", "2026-03-08T12:00"),
        *_moves("SHOP-13", "2026-03-11T10:00", None),
    ]
    runs = [
        *_run("e10a", "2026-03-05T10:00", tag="SHOP-10", auc=0.70, auc_step1=0.87),
        *_run("e10b", "2026-03-06T10:00", tag="shop-10", auc=0.85),
        *_run("e10late", "2026-03-10T09:00", tag="SHOP-10", auc=0.95),
        *_run("e11", "2026-03-07T10:00", name="SHOP-11 retrain", auc=0.84),
        *_run("e12", "2026-03-05T10:00", tag="SHOP-12", auc=0.9),
        *_run("other", "2026-03-05T10:00", name="SHOP-110 unrelated", auc=0.99),
    ]
    with store.session() as session:
        write_records(session, "tracker", items)
        write_records(session, "mlflow-exp", runs)


def test_ledger(store: Store) -> None:
    """One store per backend for every check: seeding the world is the slow part."""
    seed(store)
    ledger = experiment_ledger(store, PRODUCT, as_of=small.AS_OF)
    assert list(ledger.columns) == LEDGER_COLUMNS
    ledger = ledger.set_index("key")
    for check in (_items, _supported_with_a_late_run, _tie_with_the_champion_refutes,
                  _missing_metric_is_inconclusive, _open_item_from_config,
                  _unreadable_criterion):
        check(ledger)
    _as_of_before_the_close(store)
    _no_experiments(store)
    _product_map(store)
    _grouped_by_sprint(store)


def _items(ledger: pd.DataFrame) -> None:
    # SHOP-13 is a Story, listed because the config declares it
    assert list(ledger.index) == ["SHOP-10", "SHOP-11", "SHOP-12", "SHOP-13", "SHOP-14"]
    assert list(ledger["outcome"]) == ["supported", "refuted", "inconclusive", "open",
                                       "inconclusive"]


def _supported_with_a_late_run(ledger: pd.DataFrame) -> None:
    row = ledger.loc["SHOP-10"]
    assert row["hypothesis"] == "Margin features lift AUC"
    assert row["criterion"] == "auc >= 0.85 and auc > champion"
    assert row["sprint"] == "2" and row["status_category"] == "done"
    # e10a's final auc is its step-1 value 0.87 (not the step-0 0.70); e10late is after close
    assert (row["runs"], row["late_runs"], row["best_run"]) == (2, 1, "e10a")
    assert row["best_value"] == 0.87 and row["metric"] == "auc"
    assert row["best_run_url"] == "https://mlflow.example.com/#/runs/e10a"
    # champion at 9 Mar 12:00 = v2 (since 7 Mar 09:00), newest auc then 0.84 (8 Mar)
    assert (row["champion_version"], row["champion_value"]) == ("2", 0.84)
    assert row["reason"] == ("run e10a auc 0.87 ≥ 0.85 and auc 0.87 > champion v2 0.84; "
                             "1 run logged after the item closed, not counted")
    assert row["resolved"] == at("2026-03-09T12:00")
    # 3 Mar 10:00 -> 9 Mar 12:00 = 6 days 2 hours
    assert row["cycle_days"] == pytest.approx(6 + 2 / 24)


def _tie_with_the_champion_refutes(ledger: pd.DataFrame) -> None:
    row = ledger.loc["SHOP-11"]
    # closed 8 Mar 12:00: champion v2, auc 0.84 (8 Mar 09:00); the run ties at 0.84
    assert (row["runs"], row["best_run"], row["best_value"]) == (1, "e11", 0.84)
    assert (row["champion_version"], row["champion_value"]) == ("2", 0.84)
    assert row["reason"] == "none of 1 judged run met it; best run e11 auc 0.84 ties " \
                            "champion v2 0.84"
    # 4 Mar 10:00 -> 8 Mar 12:00 = 4 days 2 hours
    assert row["cycle_days"] == pytest.approx(4 + 2 / 24)


def _missing_metric_is_inconclusive(ledger: pd.DataFrame) -> None:
    row = ledger.loc["SHOP-12"]
    assert row["runs"] == 1 and row["reason"] == "1 run linked, none can be judged: no p_value"
    assert row["sprint"] is None
    # champion at 10 Mar 10:00 is v2; the criterion's first metric auc: 0.84 (8 Mar)
    assert row["champion_value"] == 0.84
    # no status history: cycle time counts from creation, 10 Feb 09:00 -> 10 Mar 10:00
    assert row["cycle_days"] == pytest.approx(28 + 1 / 24)


def _open_item_from_config(ledger: pd.DataFrame) -> None:
    row = ledger.loc["SHOP-13"]
    assert (row["hypothesis"], row["criterion"]) == ("v3 generalises", "auc >= 0.82")
    # r3's final auc: 0.88 (14 Mar); champion now v2 with 0.86 (14 Mar)
    assert (row["best_run"], row["best_value"]) == ("r3", 0.88)
    assert (row["champion_version"], row["champion_value"]) == ("2", 0.86)
    assert row["reason"].startswith("open, provisionally supported: run r3 auc 0.88 ≥ 0.82")
    assert math.isnan(row["cycle_days"]) and pd.isna(row["resolved"])


def _unreadable_criterion(ledger: pd.DataFrame) -> None:
    row = ledger.loc["SHOP-14"]
    assert row["criterion"] == "<b>AUC</b> improves a lot"  # as written, never parsed as HTML
    assert row["reason"].startswith("criterion unreadable: cannot read")
    assert row["best_run"] is None and math.isnan(row["best_value"])


def _as_of_before_the_close(store: Store) -> None:
    # on 8 Mar 00:00 every item is open (SHOP-12 and SHOP-14 resolve later); e10late not
    # started yet
    ledger = experiment_ledger(store, PRODUCT, as_of=at("2026-03-08T00:00")).set_index("key")
    assert list(ledger.index) == ["SHOP-10", "SHOP-11", "SHOP-12", "SHOP-13", "SHOP-14"]
    row = ledger.loc["SHOP-10"]
    assert row["outcome"] == "open" and row["status_category"] == "in_progress"
    assert (row["runs"], row["late_runs"]) == (2, 0)
    # champion at 8 Mar 00:00: v2 (7 Mar 09:00), newest auc then 0.86 (3 Mar)
    assert row["champion_value"] == 0.86


def _no_experiments(store: Store) -> None:
    # a product naming other experiment types, with none declared in config, lists nothing
    kinds = PRODUCT.backlog.item_kinds.model_copy(update={"experiment": ["Hypothesis"]})
    product = small.product_config().model_copy(
        update={"backlog": PRODUCT.backlog.model_copy(update={"item_kinds": kinds})})
    frame = experiment_ledger(store, product, as_of=small.AS_OF)
    assert frame.empty and list(frame.columns) == LEDGER_COLUMNS


def _product_map(store: Store) -> None:
    drawn = build_map(store, PRODUCT, as_of=small.AS_OF)
    nodes = {e["data"]["id"]: e["data"] for e in drawn.elements if "source" not in e["data"]}
    edges = {(e["data"]["source"], e["data"]["target"], e["data"]["label"])
             for e in drawn.elements if "source" in e["data"]}
    # the experiments with a linked run: SHOP-14 has none, so it is not drawn
    assert drawn.counts["experiment"] == 4 and "experiment:SHOP-14" not in nodes
    assert nodes["experiment:SHOP-10"]["label"] == "SHOP-10: supported"
    assert nodes["experiment:SHOP-10"]["href"] == "/ledger?product=shop"
    # each item's best run (SHOP-12's provisional e12 too); SHOP-14 has none; r3 made v3
    assert drawn.counts["run"] == 4
    assert {(s, t) for s, t, label in edges if label == "tested by"} == {
        ("experiment:SHOP-10", "run:e10a"), ("experiment:SHOP-11", "run:e11"),
        ("experiment:SHOP-12", "run:e12"), ("experiment:SHOP-13", "run:r3")}
    assert ("run:r3", "version:rec:3", "produced") in edges
    assert ("product:shop", "experiment:SHOP-13", "investigates") in edges


def _grouped_by_sprint(store: Store) -> None:
    view = build_ledger(store, PRODUCT, as_of=small.AS_OF)
    assert view.counts == {"supported": 1, "refuted": 1, "inconclusive": 2, "open": 1}
    assert [(g.sprint, g.name, list(g.rows["key"])) for g in view.groups] == [
        ("2", "Sprint 2", ["SHOP-10", "SHOP-11"]),
        (None, "Not in a sprint", ["SHOP-12", "SHOP-13", "SHOP-14"])]
    assert view.groups[0].start == at("2026-03-02T09:00")
