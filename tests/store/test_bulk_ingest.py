"""The bulk write path (COPY + one upsert on PostgreSQL, executemany on SQLite) writes
exactly what the row-by-row path writes, counts the same rows, and leaves nothing behind
when it fails.

Each comparison writes the same hand-made batches into two fresh stores of the same
backend, one forced onto each path (`store.upsert.BULK_MIN_ROWS`), and compares every
table's rows and every write's `rows` count, which are also worked out by hand below.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from store import records as r
from store import schema as s
from store import upsert as upsert_module
from store.db import Store, StoreError, normalize_url
from store.upsert import fast_bind, table
from store.writer import write_records

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ALWAYS_BULK, NEVER_BULK = 1, 10**9
IGNORED = {"updated_at"}  # the write's own clock: differs between any two writes

DAU = {"env": "prod"}
RUN_LABELS = {"run_id": "r-ü", "experiment": "expé"}
ITEM = r.BacklogItem("churn", "DS-1", "Réentraîner 🚀", "story", "To Do",
                     r.StatusCategory.TODO, T0, points=None, epic=None, labels=("ml",))
FROM_ALERT = r.BacklogItem("churn", "AL-1", "AUC below 0.8", "bug", "To Do",
                           r.StatusCategory.TODO, T0, origin=r.Origin.ALERT)
FEATURES = (r.DriftFeature("âge", "psi", 0.1, 0.2, False),
            r.DriftFeature("income", "psi", 0.3, 0.2, True))
REPORT = r.DriftReport("churn", "scoring", T0, T0 + timedelta(days=7), False, 0.5, 1, 2,
                       FEATURES)

FIRST: list[r.Record] = [
    r.Point("churn", r.SeriesKind.USAGE, "dau", T0, 1.0, DAU, unit="users"),
    r.Point("churn", r.SeriesKind.USAGE, "dau", T0 + timedelta(days=1), 2.0, DAU),
    r.Point("churn", r.SeriesKind.MODEL_METRIC, "auc", T0, 0.9, RUN_LABELS, step=3),
    r.Point("churn", r.SeriesKind.USAGE, "séances", T0, 5.0),  # no labels at all
    r.Run("churn", "r-ü", "expé", "première", "FINISHED", T0, params={"lr": "0.1"}),
    r.Model("churn", "clf"),
    r.ModelVersion("churn", "clf", "1", "r-ü", T0),
    ITEM,
    FROM_ALERT,
    r.ItemEvent("churn", "DS-1", T0, r.ItemField.STATUS, None, "To Do"),
    r.PipelineRun("churn", "airflow", "train", "p1", r.PipelineState.RUNNING, T0),
    r.PipelineTask("churn", "p1", "fit", "running"),
    REPORT,
    r.DataQuality("churn", "scoring", T0, 100, 2, 0.0),
]
# product 1 + series 3 (dau, auc, séances) + points 4 + run 1 + model 1 + version 1
# + items 2 + event 1 + pipeline run 1 + task 1 + report 1 + features 2 + data quality 1
FIRST_ROWS = 1 + 3 + 4 + 1 + 1 + 1 + 2 + 1 + 1 + 1 + 1 + 2 + 1

SECOND: list[r.Record] = [
    r.Point("churn", r.SeriesKind.USAGE, "dau", T0, 1.0, DAU),  # unchanged: 0
    r.Point("churn", r.SeriesKind.USAGE, "dau", T0 + timedelta(days=1), 2.5, DAU),
    r.Point("churn", r.SeriesKind.USAGE, "dau", T0 + timedelta(days=1), 3.0, DAU),  # wins
    # the same instant in another zone, labels in another order: the same point and series
    r.Point("churn", r.SeriesKind.MODEL_METRIC, "auc", T0.astimezone(timezone(timedelta(
        hours=5, minutes=30))), 0.9, dict(reversed(RUN_LABELS.items())), step=3),
    r.Point("churn", r.SeriesKind.USAGE, "dau", T0 + timedelta(days=2), 4.0, DAU),  # new
    r.Run("churn", "r-ü", "expé", "première", "FINISHED", T0, params={"lr": "0.1"}),
    replace(ITEM, status="In Progress", status_category=r.StatusCategory.IN_PROGRESS),
    replace(FROM_ALERT, origin=r.Origin.IMPORTED),  # stays an alert item: unchanged
    replace(REPORT, features=(replace(FEATURES[0], score=0.15), FEATURES[1])),
    r.PipelineRun("churn", "airflow", "train", "p1", r.PipelineState.SUCCESS, T0,
                  end=T0 + timedelta(hours=1)),
]
# dau day 2 (2.0 -> 3.0) + dau day 3 (new) + DS-1 status + the âge score + run p1
# + the auc series: its key is canonical, but its labels column keeps the source's order
SECOND_ROWS = 1 + 1 + 1 + 1 + 1 + 1


@pytest.fixture
def twin(store: Store, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A second fresh, migrated store on the same backend as `store`."""
    if store.dialect == "sqlite":
        other = Store(f"sqlite:///{tmp_path / 'twin' / 'dspo.db'}")
        other.upgrade()
        yield other
        other.dispose()
        return
    admin_url = request.getfixturevalue("pg_url")
    schema = f"dspo_twin_{uuid.uuid4().hex[:16]}"
    admin = create_engine(admin_url)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = normalize_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    other = Store(url.render_as_string(hide_password=False))
    try:
        other.upgrade()
        yield other
    finally:
        other.dispose()
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def contents(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, without the write's own clock."""
    dumped: dict[str, list[tuple[Any, ...]]] = {}
    with store.session() as session:
        for model in s.Base.__subclasses__():
            t = table(model)
            columns = [c for c in t.c if c.name not in IGNORED]
            found = session.execute(select(*columns)).tuples().all()
            dumped[t.name] = sorted(found, key=repr)
    return dumped


def write(store: Store, records: list[r.Record], monkeypatch: pytest.MonkeyPatch,
          threshold: int, batch_size: int = 5000) -> int:
    monkeypatch.setattr(upsert_module, "BULK_MIN_ROWS", threshold)
    with store.session() as session:
        return write_records(session, "jira", records, batch_size=batch_size).rows


@pytest.mark.parametrize("batch_size", [3, 5000], ids=["flush-every-3", "one-flush"])
def test_bulk_writes_what_the_row_path_writes(
    store: Store, twin: Store, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    counted = {
        path: [write(target, batch, monkeypatch, threshold, batch_size)
               for batch in (FIRST, SECOND, SECOND)]
        for path, target, threshold in (("row", store, NEVER_BULK), ("bulk", twin, ALWAYS_BULK))
    }
    assert counted["row"] == counted["bulk"] == [FIRST_ROWS, SECOND_ROWS, 0]
    assert contents(store) == contents(twin)
    with twin.session() as session:
        assert session.execute(select(s.SeriesPoint.value).join(s.Series).where(
            s.Series.name == "dau").order_by(s.SeriesPoint.ts)).scalars().all() == [1.0, 3.0, 4.0]
        assert session.execute(select(s.Series.unit).where(s.Series.name == "dau")
                               ).scalar_one() == "users"
        assert session.execute(select(s.BacklogItem.origin).where(s.BacklogItem.key == "AL-1")
                               ).scalar_one() == "alert"
        assert session.execute(select(s.BacklogItem.title).where(s.BacklogItem.key == "DS-1")
                               ).scalar_one() == "Réentraîner 🚀"


def test_many_points_in_bulk_then_rewritten_and_changed(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the real threshold, in several flushes: 2,500 points over 5 series."""
    points = [r.Point("churn", r.SeriesKind.MODEL_METRIC, f"m{i % 5}", T0 + timedelta(
        minutes=i), float(i), {"run_id": "r1"}, step=i) for i in range(2500)]
    changed = [replace(p, value=p.value + 1) if i % 2 else p for i, p in enumerate(points)]
    bulk_points: list[int] = []
    real_bulk = upsert_module._bulk

    def spy(session: Any, target: Any, columns: Any, *args: Any) -> int:
        if target.name == "point":
            bulk_points.append(len(columns["ts"]))
        return real_bulk(session, target, columns, *args)

    monkeypatch.setattr(upsert_module, "_bulk", spy)
    with store.session() as session:
        first = write_records(session, "mlflow", points, batch_size=1250)
    with store.session() as session:
        again = write_records(session, "mlflow", points, batch_size=1250)
    with store.session() as session:
        half = write_records(session, "mlflow", changed, batch_size=1250)
        total = session.execute(select(func.sum(s.SeriesPoint.value))).scalar_one()
    assert (first.rows, again.rows, half.rows) == (1 + 5 + 2500, 0, 1250)
    assert bulk_points == [1250, 1250] * 3  # by the default threshold, every flush in bulk
    # 0 + 1 + ... + 2499 = 2499 * 2500 / 2, plus 1 for each of the 1,250 odd points
    assert total == 2499 * 2500 / 2 + 1250


@pytest.mark.parametrize("threshold", [ALWAYS_BULK, NEVER_BULK], ids=["bulk", "row"])
def test_a_failure_mid_write_leaves_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch, threshold: int
) -> None:
    """Points flush (and succeed) before an item whose title is NULL fails its batch."""
    points = [r.Point("churn", r.SeriesKind.USAGE, "dau", T0 + timedelta(hours=i), 1.0)
              for i in range(10)]
    bad = [replace(ITEM, key=f"DS-{i}", title=None if i == 5 else "ok")  # type: ignore[arg-type]
           for i in range(10)]
    with pytest.raises(StoreError):
        write(store, [*points, *bad], monkeypatch, threshold, batch_size=4)
    assert all(rows == [] for rows in contents(store).values())


@pytest.mark.parametrize(
    "value",
    [datetime(2026, 3, 1, 12, 0, tzinfo=UTC), datetime(2026, 3, 1, 12, 0, 0, 7, tzinfo=UTC),
     datetime(2026, 3, 1, 17, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
     datetime(2026, 3, 1, 12, 0),  # noqa: DTZ001 - naive input is taken as UTC
     datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC), None],
    ids=["utc", "microseconds", "offset", "naive", "year-999", "null"],
)
@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.psycopg.dialect()],
                         ids=["sqlite", "postgresql"])
def test_fast_time_binding_matches_sqlalchemy(value: datetime | None, dialect: Any) -> None:
    column_type = table(s.SeriesPoint).c.ts.type
    expected = column_type.dialect_impl(dialect).bind_processor(dialect)(value)
    assert fast_bind(column_type, dialect)(value) == expected
