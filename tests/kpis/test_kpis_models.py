"""Model KPIs: metric history, champion vs challenger, registry timeline, objective trend."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from kpis_frames import t

from config.schema import ModelMetricObjective
from kpis.health import Status
from kpis.models import (
    alias_intervals,
    compare,
    direction,
    metric_history,
    objective_trend,
    version_births,
    version_stats,
)

AS_OF = t("2024-03-25 00:00")


def points(*rows: tuple[str, float], run_id: str = "r") -> pd.DataFrame:
    """(ts, value) rows -> a model_metric_points frame [ts, value, step, run_id]."""
    frame = pd.DataFrame([{"ts": t(ts), "value": v, "step": 0, "run_id": run_id}
                          for ts, v in rows], columns=["ts", "value", "step", "run_id"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def events(*rows: tuple[str, str, str | None, str, str]) -> pd.DataFrame:
    frame = pd.DataFrame([{"model": m, "alias": a, "version": v, "ts": t(ts), "origin": o}
                          for m, a, v, ts, o in rows],
                         columns=["model", "alias", "version", "ts", "origin"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def versions(*rows: tuple[str, str, list[str], str, str | None]) -> pd.DataFrame:
    frame = pd.DataFrame([{"model": m, "version": v, "aliases": a, "created": t(c), "run_id": r}
                          for m, v, a, c, r in rows],
                         columns=["model", "version", "aliases", "created", "run_id"])
    frame["created"] = pd.to_datetime(frame["created"], utc=True)
    return frame


CHAMPION = points(("2024-03-01", 0.80), ("2024-03-08", 0.82), ("2024-03-15", 0.78),
                  ("2024-03-22", 0.76))
CHALLENGER = points(("2024-03-15", 0.83), ("2024-03-22", 0.85))


def test_metric_history_orders_versions_as_numbers_and_drops_nan() -> None:
    history = metric_history({
        "10": points(("2024-03-02", 0.9)),
        "9": points(("2024-03-01", 0.7), ("2024-03-03", float("nan"))),
        "11": points(),
    })
    assert history["version"].tolist() == ["9", "10"]
    assert history["value"].tolist() == [0.7, 0.9]
    assert list(history.columns) == ["version", "ts", "value", "step", "run_id"]
    assert metric_history({}).empty


# (id, as_of, expected latest, expected mean of the last 3)
STATS = [
    # all four points: latest 0.76; last three 0.82, 0.78, 0.76 -> 2.36 / 3
    ("all points", "2024-03-25 00:00", 0.76, 2.36 / 3),
    # as of 03-16 the 03-22 point does not exist yet: latest 0.78; 0.80, 0.82, 0.78 -> 0.80
    ("as of before the last point", "2024-03-16 00:00", 0.78, 0.80),
]


@pytest.mark.parametrize(("as_of", "latest", "mean"), [c[1:] for c in STATS],
                         ids=[c[0] for c in STATS])
def test_version_stats(as_of: str, latest: float, mean: float) -> None:
    stats = version_stats("2", CHAMPION, as_of=t(as_of))
    assert stats is not None
    assert (stats.latest, stats.points) == (latest, 3)
    assert stats.mean_last == pytest.approx(mean)


def test_version_stats_without_data() -> None:
    assert version_stats(None, CHAMPION, as_of=AS_OF) is None
    assert version_stats("2", points(), as_of=AS_OF) is None
    assert version_stats("2", CHAMPION, as_of=t("2024-01-01")) is None


# (id, op, expected better); champion mean of the last 3 = 2.36/3 = 0.78667, challenger has
# two points, mean (0.83 + 0.85) / 2 = 0.84: delta = 0.84 - 0.78667 = +0.05333
COMPARISONS = [
    ("higher is better: challenger", ">=", "challenger"),
    ("lower is better: champion", "<=", "champion"),
    ("direction unknown", None, None),
]


@pytest.mark.parametrize(("op", "better"), [c[1:] for c in COMPARISONS],
                         ids=[c[0] for c in COMPARISONS])
def test_compare(op: str | None, better: str | None) -> None:
    champion = version_stats("2", CHAMPION, as_of=AS_OF)
    challenger = version_stats("3", CHALLENGER, as_of=AS_OF)
    result = compare("auc", champion, challenger, op=op)  # type: ignore[arg-type]
    assert result.delta == pytest.approx(0.84 - 2.36 / 3)
    assert result.better == better
    assert challenger is not None and challenger.points == 2


def test_compare_without_a_challenger_and_a_tie() -> None:
    champion = version_stats("2", CHAMPION, as_of=AS_OF)
    alone = compare("auc", champion, None, op=">=")
    assert (alone.delta, alone.better) == (None, None)
    assert compare("auc", champion, champion, op=">=").better == "tie"
    assert [direction(op) for op in (">=", ">", "<=", "<", None)] == [1, 1, -1, -1, None]


def test_alias_intervals_with_a_rollback_a_removal_and_a_registry_only_alias() -> None:
    ev = events(
        ("m", "champion", "1", "2024-01-01 10:00", "tag"),
        ("m", "champion", "2", "2024-02-12 10:00", "tag"),
        ("m", "champion", "2", "2024-02-12 10:15", "observed"),  # the same move again
        ("m", "champion", "1", "2024-02-14 10:00", "tag"),
        ("m", "champion", "2", "2024-02-19 10:00", "observed"),
        ("m", "challenger", "3", "2024-03-01 10:00", "tag"),
        ("m", "challenger", None, "2024-03-05 10:00", "tag"),
        ("m", "champion", "9", "2024-04-01 10:00", "tag"),  # after as_of: not yet
    )
    vs = versions(("m", "2", ["champion"], "2024-02-10", "r2"),
                  ("m", "4", ["shadow"], "2024-03-10", "r4"))
    got = alias_intervals(ev, vs, as_of=AS_OF)
    expected = [
        ("m", "challenger", "3", t("2024-03-01 10:00"), t("2024-03-05 10:00"), False, "tag"),
        ("m", "champion", "1", t("2024-01-01 10:00"), t("2024-02-12 10:00"), False, "tag"),
        ("m", "champion", "2", t("2024-02-12 10:00"), t("2024-02-14 10:00"), False, "tag"),
        ("m", "champion", "1", t("2024-02-14 10:00"), t("2024-02-19 10:00"), False, "tag"),
        ("m", "champion", "2", t("2024-02-19 10:00"), AS_OF, True, "observed"),
        # no event explains `shadow`: held at least since version 4 was created
        ("m", "shadow", "4", t("2024-03-10"), AS_OF, True, "registry"),
    ]
    assert [tuple(r) for r in got.itertuples(index=False)] == expected


def test_alias_intervals_of_nothing() -> None:
    got = alias_intervals(events(), versions(), as_of=AS_OF)
    assert got.empty and list(got.columns) == [
        "model", "alias", "version", "start", "end", "current", "origin"]


def test_version_births_take_the_training_run_start() -> None:
    vs = versions(("m", "1", [], "2024-03-20", "r1"), ("m", "2", [], "2024-03-21", "gone"))
    runs = pd.DataFrame({"run_id": ["r1"], "start": [t("2024-01-01 09:00")]})
    births = version_births(vs, runs)
    assert births["trained"].iloc[0] == t("2024-01-01 09:00")
    assert pd.isna(births["trained"].iloc[1])
    assert births["created"].iloc[1] == t("2024-03-21")


def test_objective_trend() -> None:
    # AUC >= 0.80 (amber below 0.83). Latest 0.76 on 03-22: red. Trend over 28 days
    # (02-26, 03-25]: all four points. Week over week: (03-18, 03-25] holds 0.76, the week
    # before (03-11, 03-18] holds 0.78: (0.76 - 0.78) / 0.78 = -0.025641
    objective = ModelMetricObjective(name="AUC", kind="model_metric", model="m", metric="auc",
                                     op=">=", threshold=0.80, warning=0.83)
    result = objective_trend(objective, CHAMPION, as_of=AS_OF, days=28)
    assert (result.result.value, result.result.status) == (0.76, Status.RED)
    assert len(result.trend) == 4
    assert result.week_over_week == pytest.approx((0.76 - 0.78) / 0.78)
    empty = objective_trend(objective, points(), as_of=AS_OF + timedelta(days=1))
    assert empty.result.status is Status.UNKNOWN and empty.week_over_week is None
    assert np.isfinite(result.trend["value"]).all()
