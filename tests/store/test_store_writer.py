"""Upserts by natural key: idempotent, ordered, and careful with alert-created items."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select, text

from config.schema import ProductConfig
from store import queries
from store import records as r
from store import schema as s
from store.collector_runs import finish_collector_run, last_watermark, start_collector_run
from store.db import StoreError
from store.writer import sync_products, write_records

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TABLES = [t.__tablename__ for t in s.Base.__subclasses__()]


def counts(store) -> dict[str, int]:
    with store.session() as session:
        return {
            name: session.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in TABLES
        }


def one_value(store, table: str, column: str):
    with store.session() as session:
        return session.execute(text(f'SELECT "{column}" FROM "{table}"')).scalar_one()


ITEM = r.BacklogItem(
    product="churn",
    key="DS-1",
    title="Retrain",
    type="story",
    status="To Do",
    status_category=r.StatusCategory.TODO,
    created=T0,
    points=3.0,
    labels=("ml",),
)
FEATURE = r.DriftFeature(column="age", method="psi", score=0.1, threshold=0.2, drifted=False)
REPORT = r.DriftReport(
    product="churn",
    dataset="scoring",
    window_start=T0,
    window_end=T0 + timedelta(days=7),
    dataset_drift=False,
    drifted_share=0.1,
    drifted_count=1,
    column_count=10,
    features=(FEATURE,),
)
EVENT = r.ItemEvent(
    product="churn",
    item_key="DS-1",
    ts=T0,
    field=r.ItemField.STATUS,
    from_value="To Do",
    to_value="In Progress",
)

# (id, first version, changed version, table, column, changed value)
CASES = [
    (
        "point",
        [r.Point("churn", r.SeriesKind.USAGE, "dau", T0, 1.0, {"env": "prod"})],
        [r.Point("churn", r.SeriesKind.USAGE, "dau", T0, 2.5, {"env": "prod"})],
        "point",
        "value",
        2.5,
    ),
    (
        "model",
        [r.Model("churn", "clf", "a")],
        [r.Model("churn", "clf", "b")],
        "model",
        "description",
        "b",
    ),
    (
        "model_version",
        [r.ModelVersion("churn", "clf", "1", "run1", T0)],
        [r.ModelVersion("churn", "clf", "1", "run1", T0, stage="Production")],
        "model_version",
        "stage",
        "Production",
    ),
    (
        "run",
        [r.Run("churn", "run1", "exp", "first", "RUNNING", T0)],
        [r.Run("churn", "run1", "exp", "first", "FINISHED", T0, params={"lr": "0.1"})],
        "run",
        "status",
        "FINISHED",
    ),
    (
        "drift_report",
        [REPORT],
        [replace(REPORT, drifted_share=0.5)],
        "drift_report",
        "drifted_share",
        0.5,
    ),
    (
        "drift_feature",
        [REPORT],
        [replace(REPORT, features=(replace(FEATURE, score=0.9, drifted=True),))],
        "drift_feature",
        "score",
        0.9,
    ),
    (
        "data_quality",
        [r.DataQuality("churn", "scoring", T0, 100, 5, 0.0)],
        [r.DataQuality("churn", "scoring", T0, 120, 5, 0.0, ("added: x",))],
        "data_quality",
        "rows",
        120,
    ),
    (
        "pipeline_run",
        [r.PipelineRun("churn", "airflow", "train", "r1", r.PipelineState.RUNNING, T0)],
        [
            r.PipelineRun(
                "churn",
                "airflow",
                "train",
                "r1",
                r.PipelineState.SUCCESS,
                T0,
                end=T0 + timedelta(hours=1),
            )
        ],
        "pipeline_run",
        "state",
        "success",
    ),
    (
        "sprint",
        [r.Sprint("churn", "42", "S1", "active", T0, T0 + timedelta(days=14))],
        [r.Sprint("churn", "42", "S1", "closed", T0, T0 + timedelta(days=14), completed=T0)],
        "sprint",
        "state",
        "closed",
    ),
    ("backlog_item", [ITEM], [replace(ITEM, status="Done")], "backlog_item", "status", "Done"),
    (
        "item_event",
        [ITEM, EVENT],
        [ITEM, replace(EVENT, to_value="Done")],
        "item_event",
        "to_value",
        "Done",
    ),
]


@pytest.mark.parametrize(
    ("first", "changed", "table", "column", "value"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_upsert_is_idempotent_and_updates(store, first, changed, table, column, value):
    with store.session() as session:
        written = write_records(session, "src", first)
        assert written.records == len(first) and written.rows >= len(first)
    once = counts(store)
    assert once[table] == 1
    with store.session() as session:
        again = write_records(session, "src", first)
        assert (again.records, again.rows) == (len(first), 0)  # nothing new: no row written
    assert counts(store) == once
    with store.session() as session:
        assert write_records(session, "src", changed).rows == 1
    assert counts(store) == once
    assert one_value(store, table, column) == value


def test_duplicates_within_one_batch_collapse_last_wins(store):
    points = [r.Point("churn", r.SeriesKind.USAGE, "dau", T0, float(v)) for v in range(3)]
    with store.session() as session:
        write_records(session, "src", points)
    assert counts(store)["point"] == 1
    assert one_value(store, "point", "value") == 2.0


def test_mixed_stream_children_before_parents(store):
    stream = [
        r.ItemEvent("churn", "DS-1", T0, r.ItemField.POINTS, "3", "5"),
        r.Point("churn", r.SeriesKind.MODEL_METRIC, "auc", T0, 0.8, {"run_id": "run1"}),
        r.ModelVersion("churn", "clf", "1", "run1", T0, aliases=("champion",)),
        r.Run("churn", "run1", "exp", "first", "FINISHED", T0),
        r.Model("churn", "clf", "the classifier"),
        ITEM,
        r.Sprint("churn", "42", "S1", "active", T0, None),
    ]
    with store.session() as session:
        assert write_records(session, "jira", stream).records == len(stream)
    c = counts(store)
    assert (c["product"], c["model"], c["model_version"], c["run"]) == (1, 1, 1, 1)
    assert (c["series"], c["point"], c["backlog_item"], c["item_event"], c["sprint"]) == (
        1,
        1,
        1,
        1,
        1,
    )
    assert one_value(store, "model", "description") == "the classifier"
    assert one_value(store, "product", "name") == "churn"  # unknown product: name = key


def test_small_batches_flush_parents_first(store):
    stream: list[r.Record] = []
    for i in range(7):
        item = replace(ITEM, key=f"DS-{i}")
        stream += [item, replace(EVENT, item_key=item.key)]
        stream.append(r.Point("churn", r.SeriesKind.USAGE, "dau", T0 + timedelta(days=i), i))
    with store.session() as session:
        assert write_records(session, "jira", stream, batch_size=2).records == 21
    c = counts(store)
    assert (c["backlog_item"], c["item_event"], c["point"], c["series"]) == (7, 7, 7, 1)


def test_events_of_unknown_items_are_skipped_and_not_counted(store):
    with store.session() as session:
        assert write_records(session, "jira", [EVENT]).rows == 0
    assert counts(store)["item_event"] == 0


def test_items_are_keyed_by_source(store):
    with store.session() as session:
        write_records(session, "jira", [ITEM, EVENT])
        write_records(session, "files", [ITEM])
    df = queries.backlog_items(store, "churn")
    assert sorted(df["source"]) == ["files", "jira"]
    assert counts(store)["item_event"] == 1


def test_alert_origin_survives_an_import(store):
    alert_item = replace(ITEM, origin=r.Origin.ALERT, title="AUC below 0.7")
    with store.session() as session:
        write_records(session, "jira", [alert_item])
        write_records(session, "jira", [replace(ITEM, status="In Progress")])
    df = queries.backlog_items(store, "churn")
    assert df["origin"].tolist() == ["alert"]
    assert df["status"].tolist() == ["In Progress"]
    assert df["title"].tolist() == ["Retrain"]


def test_updated_at_moves_only_when_the_item_changes(store):
    with store.session() as session:
        write_records(session, "jira", [ITEM])
    first = one_value(store, "backlog_item", "updated_at")
    with store.session() as session:
        write_records(session, "jira", [ITEM])
    assert one_value(store, "backlog_item", "updated_at") == first
    with store.session() as session:
        write_records(session, "jira", [replace(ITEM, points=5.0)])
    assert one_value(store, "backlog_item", "updated_at") != first


def test_sync_products_sets_config_fields_and_records_do_not_rename(store):
    with store.session() as session:
        write_records(session, "src", [r.Model("churn", "clf")])
        sync_products(session, [ProductConfig(key="churn", name="Churn", owner="Ana")])
    with store.session() as session:
        write_records(session, "src", [r.Model("churn", "clf2")])
    df = queries.products(store)
    assert df.to_dict("records") == [
        {"key": "churn", "name": "Churn", "owner": "Ana", "description": ""}
    ]


def test_collector_runs_and_watermarks(store):
    w1, w2 = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    with store.session() as session:
        assert last_watermark(session, "mlflow") is None
        ok = start_collector_run(session, "mlflow", "mlflow", T0)
        _finish(session, ok, "ok", 10, None, w1, T0 + timedelta(minutes=1))
        bad = start_collector_run(session, "mlflow", "mlflow", T0 + timedelta(hours=1))
        _finish(session, bad, "failed", 0, "boom", w2, T0 + timedelta(hours=1))
        start_collector_run(session, "mlflow", "mlflow", T0 + timedelta(hours=2))
        other = start_collector_run(session, "jira", "files", T0)
        _finish(session, other, "ok", 3, None, None, T0 + timedelta(seconds=5))
    with store.session() as session:
        assert last_watermark(session, "mlflow") == w1
        assert last_watermark(session, "jira") is None
        with pytest.raises(ValueError):
            _finish(session, ok, "running", 0, None, None, T0)
    status = queries.collector_status(store).set_index("source")
    assert status.loc["mlflow", "status"] == "running"
    assert status.loc["mlflow", "started"] == T0 + timedelta(hours=2)
    assert status.loc["mlflow", "last_success"] == T0 + timedelta(minutes=1)
    assert status.loc["jira", "rows_written"] == 3
    assert status.loc["jira", "last_success"] == T0 + timedelta(seconds=5)


def _finish(session, run_id, status, rows, error, watermark, finished):
    finish_collector_run(session, run_id, status=status, rows_written=rows, records_read=rows,
                         error=error, watermark=watermark, finished=finished)


def test_failed_transaction_keeps_earlier_data_and_raises_store_error(store):
    with store.session() as session:
        write_records(session, "src", [r.Model("churn", "clf")])
    product = s.Product.__table__
    with pytest.raises(StoreError) as caught, store.session() as session:
        write_records(session, "src", [r.Model("churn", "second")])
        session.execute(insert(product).values(key="churn", name="dup", owner="", description=""))
    assert caught.value.__cause__ is not None
    with store.session() as session:
        names = session.execute(select(s.Model.name)).scalars().all()
        assert names == ["clf"]
    with pytest.raises(KeyError), store.session() as session:
        write_records(session, "src", [r.Model("churn", "third")])
        raise KeyError("not a database error")
    with store.session() as session:
        assert session.execute(select(func.count()).select_from(s.Model)).scalar_one() == 1


def test_times_come_back_aware_utc(store):
    local = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    naive = datetime(2026, 3, 2, 8, 0)  # noqa: DTZ001 - naive input is taken as UTC
    with store.session() as session:
        write_records(
            session,
            "src",
            [
                r.Point("churn", r.SeriesKind.USAGE, "dau", local, 1.0),
                r.Point("churn", r.SeriesKind.USAGE, "dau", naive, 2.0),
            ],
        )
    with store.session() as session:
        stamps = session.execute(select(s.SeriesPoint.ts).order_by(s.SeriesPoint.ts)).scalars()
        stamps = list(stamps)
    assert stamps == [datetime(2026, 3, 1, 10, 30, tzinfo=UTC), naive.replace(tzinfo=UTC)]
    assert all(t.utcoffset() == timedelta(0) for t in stamps)
    df = queries.series_points(store, "churn", "usage", "dau")
    assert str(df["ts"].dtype) == "datetime64[ns, UTC]"
    assert df["ts"].tolist() == [pd_ts(stamps[0]), pd_ts(stamps[1])]


def pd_ts(value: datetime):
    import pandas as pd

    return pd.Timestamp(value)
