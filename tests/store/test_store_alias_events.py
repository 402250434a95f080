"""Alias history: events written as given, and alias moves observed by the writer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from store import queries
from store import records as r
from store.aliases import moves
from store.writer import write_records

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def version(v: str, *aliases: str, model: str = "clf") -> r.ModelVersion:
    return r.ModelVersion("churn", model, v, f"run{v}", T0, aliases=aliases)


def write(store, records) -> None:  # type: ignore[no-untyped-def]
    with store.session() as session:
        write_records(session, "mlflow", records)


def events(store, model: str | None = None) -> list[tuple]:  # type: ignore[no-untyped-def]
    df = queries.alias_events(store, "churn", model)
    return [tuple(row) for row in df[["model", "alias", "version", "origin"]].itertuples(
        index=False)]


def test_events_are_stored_sorted_filtered_and_idempotent(store):
    given = [
        r.AliasEvent("churn", "clf", "champion", "2", T0 + 3 * DAY),
        r.AliasEvent("churn", "clf", "champion", "1", T0),
        r.AliasEvent("churn", "clf", "challenger", None, T0 + DAY),
        r.AliasEvent("churn", "other", "champion", "7", T0 + 2 * DAY),
    ]
    write(store, given)
    write(store, given)
    df = queries.alias_events(store, "churn")
    assert df["ts"].tolist() == [pd.Timestamp(T0 + d * DAY) for d in range(4)]
    assert str(df["ts"].dtype) == "datetime64[ns, UTC]"
    assert events(store) == [
        ("clf", "champion", "1", "tag"),
        ("clf", "challenger", None, "tag"),
        ("other", "champion", "7", "tag"),
        ("clf", "champion", "2", "tag"),
    ]
    assert [e[1:3] for e in events(store, "clf")] == [
        ("champion", "1"), ("challenger", None), ("champion", "2")
    ]
    assert queries.alias_events(store, "demand").empty


def test_an_event_at_the_same_instant_is_updated_not_duplicated(store):
    write(store, [r.AliasEvent("churn", "clf", "champion", "1", T0)])
    write(store, [r.AliasEvent("churn", "clf", "champion", "3", T0, origin="observed")])
    assert events(store) == [("clf", "champion", "3", "observed")]


def test_first_sight_of_a_model_is_a_baseline_not_a_promotion(store):
    write(store, [version("1", "champion"), version("2", "challenger")])
    assert events(store) == []


def test_moves_are_observed_at_write_time_and_only_once(store):
    write(store, [version("1", "champion"), version("2", "challenger")])
    before = datetime.now(UTC)
    write(store, [version("1"), version("2", "champion", "challenger")])
    after = datetime.now(UTC)
    write(store, [version("1"), version("2", "champion", "challenger")])  # nothing moved
    assert events(store) == [("clf", "champion", "2", "observed")]
    ts = queries.alias_events(store, "churn")["ts"].iloc[0]
    assert before <= ts.to_pydatetime() <= after


def test_removed_alias_and_new_version_are_observed(store):
    write(store, [version("1", "champion"), version("2", "challenger")])
    write(store, [version("1", "champion"), version("2"), version("3", "shadow")])
    assert sorted(events(store)) == [
        ("clf", "challenger", None, "observed"),
        ("clf", "shadow", "3", "observed"),
    ]


def test_a_tag_event_in_the_same_collect_explains_the_move(store):
    write(store, [version("1", "champion"), version("2")])
    # the collector may yield the history after the versions: the writer flushes events first
    write(store, [
        version("1"),
        version("2", "champion"),
        r.AliasEvent("churn", "clf", "champion", "2", T0 + DAY),
    ])
    assert events(store) == [("clf", "champion", "2", "tag")]


def test_observed_moves_are_per_model(store):
    write(store, [version("1", "champion"), version("1", "champion", model="other")])
    write(store, [version("1"), version("2", "champion"), version("1", "champion", model="other")])
    assert events(store) == [("clf", "champion", "2", "observed")]


# (id, held, incoming, latest event per alias, expected moves)
MOVES = [
    ("nothing held: baseline", {}, {"1": ["champion"]}, {}, []),
    ("unchanged", {"1": ["champion"]}, {"1": ["champion"]}, {}, []),
    ("promotion", {"1": ["champion"], "2": []}, {"1": [], "2": ["champion"]}, {},
     [("champion", "2")]),
    ("rollback", {"1": [], "2": ["champion"]}, {"1": ["champion"], "2": []}, {},
     [("champion", "1")]),
    ("removed", {"1": ["champion"]}, {"1": []}, {}, [("champion", None)]),
    ("explained by the latest event", {"1": ["champion"], "2": []},
     {"1": [], "2": ["champion"]}, {"champion": "2"}, []),
    ("an older event does not explain it", {"1": ["champion"], "2": []},
     {"1": [], "2": ["champion"]}, {"champion": "1"}, [("champion", "2")]),
    # version 2 was deleted in MLflow but its stored row still says champion: the fresh
    # version 3 wins the tie, so the move 2 -> 3 is seen
    ("stale row loses to a fresh version", {"2": ["champion"], "3": []},
     {"3": ["champion"]}, {}, [("champion", "3")]),
    # versions compare as numbers: 10 is newer than 9
    ("numeric version order", {"9": ["a"], "10": ["a"]}, {}, {}, []),
]


@pytest.mark.parametrize(("held", "incoming", "latest", "expected"),
                         [c[1:] for c in MOVES], ids=[c[0] for c in MOVES])
def test_moves(held, incoming, latest, expected):
    assert moves(held, incoming, latest) == expected


def test_first_sight_stays_a_baseline_when_versions_flush_in_batches(store):
    with store.session() as session:
        write_records(session, "mlflow", [version("1", "champion"), version("2", "challenger"),
                                          version("3", "shadow")], batch_size=1)
    assert events(store) == []


def test_model_metric_points_downsample_a_long_training_curve(store):
    # a training run logs loss at 3,000 steps (one a minute); an evaluation run once
    n = 3000
    curve = [r.Point("churn", r.SeriesKind.MODEL_METRIC, "loss", T0 + timedelta(minutes=i),
                     1.0 / (1 + i), {"run_id": "run1"}, step=i) for i in range(n)]
    spike = r.Point("churn", r.SeriesKind.MODEL_METRIC, "loss", T0 + timedelta(minutes=1500),
                    7.0, {"run_id": "run1"}, step=1500)
    curve[1500] = spike
    evaluation = r.Point("churn", r.SeriesKind.MODEL_METRIC, "loss", T0 + 5 * DAY, 0.2,
                         {"run_id": "eval1"})
    write(store, [version("1"), r.Run("churn", "eval1", "mon", "e", "FINISHED", T0,
                                      model="clf", model_version="1"), *curve, evaluation])
    full = queries.model_metric_points(store, "churn", "clf", "1", "loss")
    assert len(full) == n + 1 and full.attrs["downsampled"] is False
    small = queries.model_metric_points(store, "churn", "clf", "1", "loss", max_points=200)
    assert small.attrs["downsampled"] is True
    assert (small["run_id"] == "run1").sum() <= 200
    assert (small["run_id"] == "eval1").sum() == 1  # a short series is left whole
    assert small["value"].max() == 7.0 and small["ts"].is_monotonic_increasing
    with pytest.raises(ValueError):
        queries.model_metric_points(store, "churn", "clf", "1", "loss", max_points=1)
