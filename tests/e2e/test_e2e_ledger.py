"""The Ledger page in Chromium, on the session's demo world.

The demo's churn team ran two experiments in its last closed sprint (dspo/demo/
experiments.py): CHURN-901 (auc >= <floor> and auc > champion; two runs, a third after
the item closed) and CHURN-902 (auc > champion; its best run ties the champion). What the
page must show is worked out here from the store's raw rows by hand, not by the ledger's
service: the runs by their `dspo.item` tag and start, each run's last auc point, the
champion from the alias events and its newest auc point at the close, the cycle time from
the item's status events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from store import queries
from store import schema as s
from store.records import SeriesKind

pytestmark = [pytest.mark.slow]
PRODUCT, MODEL = "churn", "churn-clf"
SUPPORTED, REFUTED = "CHURN-901", "CHURN-902"


@dataclass(frozen=True)
class Expected:
    closed: pd.Timestamp
    counted: dict[str, float]  # run name -> its auc
    late: int
    champion: str
    champion_auc: float
    cycle_days: float


def _last_auc(store: Any, run_id: str) -> float:
    points = queries.series_points(store, PRODUCT, SeriesKind.MODEL_METRIC, "auc",
                                   labels={"run_id": run_id})
    return float(points.sort_values(["ts", "step"])["value"].iloc[-1])


def _expected(store: Any, key: str) -> Expected:
    events = queries.item_events(store, PRODUCT)
    moves = events.loc[(events["item_key"] == key) & (events["field"] == "status_category")]
    started = moves.loc[moves["to_value"] == "in_progress", "ts"].min()
    closed = moves.loc[moves["to_value"] == "done", "ts"].max()
    with store.session() as session:
        runs = session.execute(select(s.Run.run_id, s.Run.name, s.Run.start, s.Run.tags)).all()
    mine = [(run_id, name, start) for run_id, name, start, tags in runs
            if (tags or {}).get("dspo.item") == key]
    counted = {name: _last_auc(store, run_id) for run_id, name, start in mine
               if start <= closed}
    # the champion: the last alias event at or before the close, then its newest auc then
    aliases = queries.alias_events(store, PRODUCT, MODEL)
    champion = aliases.loc[(aliases["alias"] == "champion") & (aliases["ts"] <= closed)]
    version = str(champion.sort_values("ts")["version"].iloc[-1])
    points = queries.model_metric_points(store, PRODUCT, MODEL, version, "auc")
    then = points.loc[points["ts"] <= closed].sort_values(["ts", "step"])
    return Expected(closed, counted, len(mine) - len(counted), version,
                    float(then["value"].iloc[-1]), (closed - started) / pd.Timedelta(days=1))


def _text(page: Any, testid: str) -> str:
    return str(page.inner_text(f"[data-testid={testid}]")).strip()


@pytest.mark.browser
def test_the_demo_experiments_and_their_outcomes(open_page, demo_store) -> None:  # type: ignore[no-untyped-def]
    _, store = demo_store
    won, tied = _expected(store, SUPPORTED), _expected(store, REFUTED)
    # CHURN-901: two counted runs, champion + 0.021 and + 0.008; a third started later
    assert len(won.counted) == 2 and won.late == 1
    best_won = max(won.counted, key=won.counted.__getitem__)
    assert won.counted[best_won] == pytest.approx(won.champion_auc + 0.021, abs=1e-9)
    # CHURN-902: its best run's auc equals the champion's exactly: a tie, so refuted
    assert len(tied.counted) == 2 and tied.late == 0
    best_tied = max(tied.counted, key=tied.counted.__getitem__)
    assert tied.counted[best_tied] == tied.champion_auc

    page, errors = open_page("/ledger?product=churn", f"[data-testid=ledger-row-{SUPPORTED}]")
    assert _text(page, f"ledger-outcome-{SUPPORTED}") == "supported"
    assert _text(page, f"ledger-outcome-{REFUTED}") == "refuted"
    for key, expected, best in ((SUPPORTED, won, best_won), (REFUTED, tied, best_tied)):
        assert _text(page, f"ledger-run-{key}") == best
        assert _text(page, f"ledger-value-{key}") == f"{expected.counted[best]:.4g}"
        assert _text(page, f"ledger-champion-{key}") == (
            f"v{expected.champion} {expected.champion_auc:.4g}")
        assert _text(page, f"ledger-cycle-{key}") == f"{expected.cycle_days:.1f} d"
    assert _text(page, f"ledger-runs-{SUPPORTED}") == "2 (+1 late)"
    assert _text(page, f"ledger-runs-{REFUTED}") == "2"
    assert "ties champion" in _text(page, f"ledger-reason-{REFUTED}")
    assert "1 run logged after the item closed" in _text(page, f"ledger-reason-{SUPPORTED}")
    assert _text(page, f"ledger-criterion-{REFUTED}") == "auc > champion"
    # both in the sprint they were done in, under its name
    sprints = queries.sprints(store, PRODUCT)
    sprint = sprints.loc[(sprints["start"] <= won.closed) & (sprints["end"] >= won.closed)]
    sid = str(sprint["external_id"].iloc[0])
    group = page.inner_text(f"#ledger-group-{sid}")
    assert str(sprint["name"].iloc[0]) in group and SUPPORTED in group and REFUTED in group
    assert errors == []


@pytest.mark.browser
def test_the_ledger_follows_the_product_filter(open_page, demo_store) -> None:  # type: ignore[no-untyped-def]
    _, store = demo_store
    items = queries.backlog_items(store, "demand")
    experiments = items.loc[items["type"].str.lower().isin(["experiment", "spike"])
                            & (items["created"] <= datetime.now(UTC))]
    page, errors = open_page("/ledger?product=demand", "[data-testid=ledger-count-open]")
    total = sum(int(_text(page, f"ledger-count-{o}"))
                for o in ("supported", "refuted", "inconclusive", "open"))
    assert total == len(experiments) > 0
    assert page.query_selector(f"[data-testid=ledger-row-{SUPPORTED}]") is None
    assert errors == []
