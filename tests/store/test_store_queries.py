"""Every read returns its documented columns, empty or not, and the right values."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from store import queries
from store import records as r
from store.collector_runs import finish_collector_run, start_collector_run
from store.writer import write_records

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)

EXPECTED = {
    "alias_events": (("churn",), ["model", "alias", "version", "ts", "origin"]),
    "products": ((), ["key", "name", "owner", "description"]),
    "collector_status": (
        (),
        ["source", "kind", "started", "finished", "status", "rows_written", "records_read", "error",
         "last_success"],
    ),
    "series_points": (
        ("churn", "usage", "dau"),
        ["ts", "value", "step", "series_id", "labels"],
    ),
    "series_catalog": (("churn",), ["series_id", "kind", "name", "labels", "unit"]),
    "model_versions": (
        ("churn",),
        ["model", "version", "run_id", "status", "stage", "aliases", "created", "updated"],
    ),
    "model_metric_points": (("churn", "clf", "1", "auc"), ["ts", "value", "step", "run_id"]),
    "model_metric_latest": (("churn", "clf", "1", "auc", [T0 + 3 * DAY]),
                            ["ts", "value", "step", "run_id"]),
    "model_metric_tail": (("churn", "clf", "1", "auc", T0 + 3 * DAY, 3),
                          ["ts", "value", "step", "run_id"]),
    "runs": (
        ("churn",),
        ["run_id", "experiment", "name", "status", "start", "end", "model", "model_version", "url"],
    ),
    "drift_reports": (
        ("churn",),
        [
            "dataset",
            "model",
            "window_start",
            "window_end",
            "dataset_drift",
            "drifted_share",
            "drifted_count",
            "column_count",
            "report_path",
            "computed_at",
            "rows",
        ],
    ),
    "drift_features": (
        ("churn", "scoring"),
        ["window_end", "column", "method", "score", "threshold", "drifted", "rows"],
    ),
    "data_quality": (
        ("churn",),
        ["dataset", "ts", "rows", "columns", "missing_share", "schema_changes"],
    ),
    "pipeline_runs": (
        ("churn",),
        ["system", "pipeline", "run_id", "state", "start", "end", "trigger", "url", "run_type",
         "duration"],
    ),
    "pipeline_tasks": (
        ("churn", T0, T0 + 30 * DAY),
        ["pipeline", "run_id", "run_state", "run_start", "task_id", "map_index", "state",
         "start", "end", "duration", "try_number", "operator"],
    ),
    "sprints": (
        ("churn",),
        ["source", "external_id", "name", "state", "start", "end", "completed", "goal"],
    ),
    "backlog_items": (
        ("churn",),
        [
            "source",
            "key",
            "title",
            "type",
            "status",
            "status_category",
            "points",
            "epic",
            "sprint",
            "created",
            "resolved",
            "labels",
            "url",
            "origin",
        ],
    ),
    "item_events": (("churn",), ["item_key", "ts", "field", "from_value", "to_value"]),
    "alerts": ((), ["fingerprint", "rule", "product", "labels", "state", "state_since",
                    "pending_since", "fired_at", "resolved_at", "last_value",
                    "last_evaluated_at", "severity", "summary", "acknowledged_by",
                    "acknowledged_at", "silenced", "backlog_key"]),
    "alert_events": ((), ["fingerprint", "rule", "product", "ts", "from_state", "to_state",
                          "value", "note"]),
    "alert_incidents": (("churn",), ["fingerprint", "rule", "started", "resolved"]),
    "silences": ((), ["id", "product", "rule", "matchers", "starts_at", "ends_at", "reason",
                      "created_by", "created_at"]),
    "outbox": ((), ["id", "fingerprint", "rule", "product", "sink", "action", "payload",
                    "created_at", "attempts", "last_error", "delivered_at", "state",
                    "next_attempt_at", "last_attempt_at", "discarded_at", "discarded_by"]),
    "alert_tickets": ((), ["fingerprint", "sink", "key", "url", "closed", "resolution",
                           "opened_at", "closed_at"]),
    "item_comments": (("churn",), ["item_key", "ts", "author", "text"]),
}
TIME_COLUMNS = {
    "started",
    "finished",
    "last_success",
    "ts",
    "created",
    "updated",
    "start",
    "end",
    "window_start",
    "window_end",
    "computed_at",
    "completed",
    "resolved",
    "state_since",
    "fired_at",
    "opened_at",
    "delivered_at",
    "next_attempt_at",
    "last_attempt_at",
    "starts_at",
    "run_start",
}


def test_every_frame_query_is_tested():
    not_frames = ("latest_point", "resolve_version", "metric_names")
    exported = {n for n in queries.__all__ if n not in not_frames}
    assert exported == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_empty_store_gives_documented_columns(store, name):
    args, columns = EXPECTED[name]
    df = getattr(queries, name)(store, *args)
    assert df.empty
    assert list(df.columns) == columns
    for column in TIME_COLUMNS & set(columns):
        assert str(df[column].dtype) == "datetime64[ns, UTC]", column


def test_empty_store_scalars(store):
    assert queries.latest_point(store, "churn", "usage", "dau") is None
    assert queries.resolve_version(store, "churn", "clf", alias="champion") is None


WORLD: list[r.Record] = [
    r.Model("churn", "clf", "churn classifier"),
    r.ModelVersion("churn", "clf", "1", "train1", T0, aliases=()),
    r.ModelVersion(
        "churn",
        "clf",
        "2",
        "train2",
        T0 + DAY,
        T0 + 2 * DAY,
        stage="Production",
        aliases=("champion", "prod"),
    ),
    r.ModelVersion("churn", "clf", "10", None, T0 + 3 * DAY),
    r.Run(
        "churn",
        "train2",
        "churn",
        "train v2",
        "FINISHED",
        T0 + DAY,
        T0 + DAY + DAY / 24,
        params={"lr": "0.1"},
        url="http://mlflow/r/train2",
    ),
    r.Run(
        "churn",
        "eval2",
        "churn-eval",
        "eval v2",
        "FINISHED",
        T0 + 2 * DAY,
        model="clf",
        model_version="2",
    ),
    r.Run("churn", "train1", "churn", "train v1", "FAILED", T0),
    r.Point("churn", r.SeriesKind.MODEL_METRIC, "auc", T0 + DAY, 0.81, {"run_id": "train2"}),
    r.Point(
        "churn", r.SeriesKind.MODEL_METRIC, "auc", T0 + 4 * DAY, 0.79, {"run_id": "eval2"}, step=1
    ),
    r.Point("churn", r.SeriesKind.MODEL_METRIC, "auc", T0, 0.7, {"run_id": "train1"}),
    r.Point("churn", r.SeriesKind.USAGE, "dau", T0, 100, {"env": "prod", "region": "eu"}, "users"),
    r.Point("churn", r.SeriesKind.USAGE, "dau", T0 + DAY, 110, {"env": "prod", "region": "eu"}),
    r.Point("churn", r.SeriesKind.USAGE, "dau", T0 + 2 * DAY, 7, {"env": "staging"}),
    r.Point("other", r.SeriesKind.USAGE, "dau", T0 + 5 * DAY, 1, {"env": "prod"}),
    r.DriftReport(
        "churn",
        "scoring",
        T0 + 7 * DAY,
        T0 + 14 * DAY,
        True,
        0.5,
        2,
        4,
        (
            r.DriftFeature("age", "psi", 0.3, 0.2, True),
            r.DriftFeature("city", "chi2", 0.01, 0.05, False),
        ),
        model="clf",
        report_path="reports/2.json",
        computed_at=T0 + 15 * DAY,
    ),
    r.DriftReport("churn", "scoring", T0, T0 + 7 * DAY, False, 0.0, 0, 4),
    r.DriftReport("churn", "billing", T0, T0 + 7 * DAY, False, 0.25, 1, 4),
    r.DataQuality("churn", "scoring", T0, 1000, 4, 0.01, ("added: city",)),
    r.PipelineRun("churn", "airflow", "train", "a2", r.PipelineState.FAILED, T0 + DAY,
                  run_type="scheduled", duration=40.0),
    r.PipelineTask("churn", "a2", "publish", "upstream_failed", try_number=0),
    r.PipelineTask("churn", "a2", "train", "failed", T0 + DAY, T0 + DAY + DAY / 96, 900.0, 1),
    r.PipelineTask("churn", "a1", "train", "success", T0, T0 + DAY / 2, 43200.0, 1),
    r.PipelineRun(
        "churn",
        "airflow",
        "train",
        "a1",
        r.PipelineState.SUCCESS,
        T0,
        T0 + DAY / 2,
        trigger="schedule",
        url="http://airflow/a1",
    ),
    r.Sprint("churn", "s2", "Sprint 2", "active", T0 + 14 * DAY, T0 + 28 * DAY),
    r.Sprint("churn", "s1", "Sprint 1", "closed", T0, T0 + 14 * DAY, T0 + 14 * DAY, "Ship v2"),
    r.BacklogItem(
        "churn",
        "DS-2",
        "Drift alert",
        "bug",
        "Done",
        r.StatusCategory.DONE,
        T0 + DAY,
        2.0,
        resolved=T0 + 3 * DAY,
        labels=("drift",),
        sprint="s1",
    ),
    r.BacklogItem("churn", "DS-1", "Retrain", "story", "To Do", r.StatusCategory.TODO, T0),
    r.ItemEvent("churn", "DS-2", T0 + 3 * DAY, r.ItemField.STATUS, "In Progress", "Done"),
    r.ItemEvent("churn", "DS-2", T0 + 2 * DAY, r.ItemField.STATUS, "To Do", "In Progress"),
]


@pytest.fixture
def world(store):
    with store.session() as session:
        write_records(session, "jira", WORLD)
        run = start_collector_run(session, "jira", "files", T0)
        finish_collector_run(session, run, status="ok", rows_written=len(WORLD),
                             records_read=len(WORLD), error=None, watermark=T0,
                             finished=T0 + timedelta(seconds=3))
    return store


def test_products_and_status(world):
    assert queries.products(world)["key"].tolist() == ["churn", "other"]
    status = queries.collector_status(world)
    assert status[["source", "status", "rows_written"]].values.tolist() == [["jira", "ok", 29]]
    assert status["last_success"].iloc[0] == T0 + timedelta(seconds=3)


def test_series_points_filter_by_label_subset(world):
    prod = queries.series_points(world, "churn", "usage", "dau", labels={"env": "prod"})
    assert prod["value"].tolist() == [100.0, 110.0]
    assert prod["labels"].iloc[0] == {"env": "prod", "region": "eu"}
    assert prod.attrs["downsampled"] is False
    both = queries.series_points(world, "churn", r.SeriesKind.USAGE, "dau")
    assert sorted(both["value"]) == [7.0, 100.0, 110.0]
    assert both["series_id"].nunique() == 2
    ranged = queries.series_points(world, "churn", "usage", "dau", start=T0 + DAY, end=T0 + DAY)
    assert ranged["value"].tolist() == [110.0]
    assert queries.series_points(world, "churn", "usage", "dau", labels={"env": "x"}).empty


def test_latest_point_takes_newest_matching_series(world):
    assert queries.latest_point(world, "churn", "usage", "dau") == (T0 + 2 * DAY, 7.0)
    assert queries.latest_point(world, "churn", "usage", "dau", {"region": "eu"}) == (
        T0 + DAY,
        110.0,
    )
    assert queries.latest_point(world, "other", "usage", "dau") == (T0 + 5 * DAY, 1.0)


def test_series_catalog(world):
    cat = queries.series_catalog(world, "churn")
    assert len(cat) == 5
    dau = cat[(cat["name"] == "dau") & (cat["unit"] == "users")]
    assert dau["labels"].tolist() == [{"env": "prod", "region": "eu"}]


def test_model_versions_and_resolution(world):
    mv = queries.model_versions(world, "churn")
    assert mv["version"].tolist() == ["1", "2", "10"]
    assert mv["aliases"].tolist() == [[], ["champion", "prod"], []]
    assert mv["updated"].iloc[1] == T0 + 2 * DAY
    assert queries.model_versions(world, "churn", model="nope").empty
    assert queries.resolve_version(world, "churn", "clf", alias="champion") == "2"
    assert queries.resolve_version(world, "churn", "clf", alias="production") == "2"
    assert queries.resolve_version(world, "churn", "clf", alias="challenger") is None
    assert queries.resolve_version(world, "churn", "clf") == "10"
    assert queries.resolve_version(world, "churn", "clf", version="1") == "1"
    assert queries.resolve_version(world, "churn", "clf", version="3") is None


def test_model_metric_points_own_and_evaluation_runs(world):
    df = queries.model_metric_points(world, "churn", "clf", "2", "auc")
    assert df[["value", "step", "run_id"]].values.tolist() == [
        [0.81, 0, "train2"],
        [0.79, 1, "eval2"],
    ]
    assert df["ts"].tolist() == [pd.Timestamp(T0 + DAY), pd.Timestamp(T0 + 4 * DAY)]
    assert queries.model_metric_points(world, "churn", "clf", "1", "auc")["value"].tolist() == [0.7]


def test_runs(world):
    df = queries.runs(world, "churn")
    assert df["run_id"].tolist() == ["train1", "train2", "eval2"]
    assert df.set_index("run_id").loc["eval2", "model_version"] == "2"
    assert pd.isna(df.set_index("run_id").loc["train1", "end"])


def test_drift(world):
    reports = queries.drift_reports(world, "churn")
    assert reports["window_end"].is_monotonic_increasing
    scoring = queries.drift_reports(world, "churn", dataset="scoring")
    assert scoring["drifted_share"].tolist() == [0.0, 0.5]
    assert scoring["dataset_drift"].tolist() == [False, True]
    assert scoring["report_path"].iloc[1] == "reports/2.json"
    features = queries.drift_features(world, "churn", "scoring")
    assert features[["column", "method", "drifted"]].values.tolist() == [
        ["age", "psi", True],
        ["city", "chi2", False],
    ]
    assert (features["window_end"] == T0 + 14 * DAY).all()


def test_data_quality_and_pipelines(world):
    dq = queries.data_quality(world, "churn")
    assert dq["schema_changes"].tolist() == [["added: city"]]
    assert dq["rows"].tolist() == [1000]
    runs = queries.pipeline_runs(world, "churn")
    assert runs["run_id"].tolist() == ["a1", "a2"]
    assert runs["state"].tolist() == ["success", "failed"]
    assert queries.pipeline_runs(world, "churn", since=T0 + DAY)["run_id"].tolist() == ["a2"]
    assert runs["duration"].isna().tolist() == [True, False]
    assert runs["run_type"].tolist() == [None, "scheduled"]
    # Tasks of runs started in the range, newest run first, tasks that ran before those
    # that never did; filtered by the system's state word.
    tasks = queries.pipeline_tasks(world, "churn", T0, T0 + 2 * DAY)
    assert tasks[["run_id", "task_id", "state"]].values.tolist() == [
        ["a2", "train", "failed"], ["a2", "publish", "upstream_failed"], ["a1", "train", "success"]]
    assert tasks["duration"].tolist()[0] == 900.0 and pd.isna(tasks["start"].iloc[1])
    failed = queries.pipeline_tasks(world, "churn", T0 + DAY, T0 + 2 * DAY, states=["failed"])
    assert failed["task_id"].tolist() == ["train"]
    assert queries.pipeline_tasks(world, "churn", T0 + 2 * DAY, T0 + 3 * DAY).empty
    assert len(queries.pipeline_tasks(world, "churn", T0, T0 + 2 * DAY, limit=2)) == 2


def test_delivery(world):
    sp = queries.sprints(world, "churn")
    assert sp["external_id"].tolist() == ["s1", "s2"]
    assert (sp["source"] == "jira").all()
    assert sp["goal"].iloc[0] == "Ship v2"
    items = queries.backlog_items(world, "churn").set_index("key")
    assert items.loc["DS-2", "labels"] == ["drift"]
    assert items.loc["DS-2", "status_category"] == "done"
    assert items.loc["DS-2", "points"] == 2.0
    assert math.isnan(items.loc["DS-1", "points"])
    assert items.loc["DS-1", "origin"] == "imported"
    events = queries.item_events(world, "churn")
    assert events["to_value"].tolist() == ["In Progress", "Done"]
    assert (events["item_key"] == "DS-2").all()


def test_downsampling_keeps_min_and_max_within_budget(store):
    n = 3000
    points = []
    for i in range(n):
        ts = T0 + timedelta(minutes=i)
        points.append(r.Point("p", "usage", "rps", ts, math.sin(i / 50), {"host": "a"}))
        points.append(r.Point("p", "usage", "rps", ts, float(i % 7), {"host": "b"}))
    points[1234 * 2] = r.Point(
        "p", "usage", "rps", T0 + timedelta(minutes=1234), 99.0, {"host": "a"}
    )
    points[2222 * 2] = r.Point(
        "p", "usage", "rps", T0 + timedelta(minutes=2222), -42.0, {"host": "a"}
    )
    points.append(r.Point("p", "usage", "rps", T0, 1.0, {"host": "c"}))
    with store.session() as session:
        write_records(session, "src", points)
    full = queries.series_points(store, "p", "usage", "rps")
    assert len(full) == 2 * n + 1 and full.attrs["downsampled"] is False
    df = queries.series_points(store, "p", "usage", "rps", max_points=200)
    assert df.attrs["downsampled"] is True
    sizes = df.groupby(df["labels"].map(lambda x: x["host"])).size()
    assert sizes["a"] <= 200 and sizes["b"] <= 200 and sizes["a"] > 100
    assert sizes["c"] == 1
    a = df[df["labels"].map(lambda x: x["host"]) == "a"]
    assert a["value"].max() == 99.0 and a["value"].min() == -42.0
    assert a["ts"].iloc[0] == pd.Timestamp(T0)
    assert a["ts"].iloc[-1] == pd.Timestamp(T0 + timedelta(minutes=n - 1))
    assert a["ts"].is_monotonic_increasing
    assert set(a["value"]) <= set(full["value"])
    window = queries.series_points(
        store,
        "p",
        "usage",
        "rps",
        {"host": "b"},
        start=T0 + timedelta(minutes=100),
        end=T0 + timedelta(minutes=1099),
        max_points=50,
    )
    assert len(window) <= 50
    assert window["ts"].min() >= pd.Timestamp(T0 + timedelta(minutes=100))
    assert set(window["value"]) >= {0.0, 6.0}
    with pytest.raises(ValueError):
        queries.series_points(store, "p", "usage", "rps", max_points=1)
