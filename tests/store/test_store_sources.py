"""What the new source kinds write: runs keyed by source with their tasks, a tracker's sprint
report, and deletions upstream reflected (Deleted, Present), on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from store import records as r
from store.db import Store
from store.writer import write_records

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def run(run_id: str, pipeline: str = "etl", state: r.PipelineState = r.PipelineState.SUCCESS
        ) -> r.PipelineRun:
    return r.PipelineRun("p", "airflow", pipeline, run_id, state, T0, T0 + timedelta(minutes=5),
                         run_type="scheduled", duration=300.0, detail={"state": "success"})


def item(key: str) -> r.BacklogItem:
    return r.BacklogItem("p", key, key, "Story", "To Do", r.StatusCategory.TODO, T0)


def rows(store: Store, sql: str) -> list[tuple[object, ...]]:
    with store.session() as s:
        return [tuple(row) for row in s.execute(text(sql)).all()]


def write(store: Store, source: str, records: list[r.Record]) -> int:
    with store.session() as s:
        return write_records(s, source, records).rows


def test_runs_of_two_sources_with_one_id_are_two_runs(store: Store) -> None:
    write(store, "airflow-eu", [run("etl/scheduled__2026-03-01")])
    write(store, "airflow-us", [run("etl/scheduled__2026-03-01")])
    assert rows(store, "SELECT source FROM pipeline_run ORDER BY source") == [
        ("airflow-eu",), ("airflow-us",)]


def test_tasks_follow_their_run_and_rewriting_them_writes_nothing(store: Store) -> None:
    failed = run("etl/1", state=r.PipelineState.FAILED)
    tasks: list[r.Record] = [
        r.PipelineTask("p", "etl/1", "extract", "success", T0, T0 + timedelta(seconds=3), 2.9, 1),
        r.PipelineTask("p", "etl/1", "train", "failed", T0, T0 + timedelta(seconds=5), 5.1, 1),
        r.PipelineTask("p", "etl/1", "publish", "upstream_failed"),
        r.PipelineTask("p", "etl/unknown", "orphan", "success"),  # no such run: skipped
    ]
    assert write(store, "af", [*tasks, failed]) == 5  # product p, the run, three tasks
    assert write(store, "af", [failed, *tasks]) == 0
    assert rows(store, "SELECT task_id, state, duration, try_number FROM pipeline_task "
                       "ORDER BY task_id") == [
        ("extract", "success", 2.9, 1), ("publish", "upstream_failed", None, None),
        ("train", "failed", 5.1, 1)]


def test_a_sprint_report_is_kept_beside_its_sprint(store: Store) -> None:
    sprint = r.Sprint("p", "42", "Sprint 6", "closed", T0, T0 + timedelta(days=14),
                      T0 + timedelta(days=14))
    report = r.SprintReport("p", "42", committed=31.0, completed=13.0, not_completed=18.0,
                            removed=2.0, added=5.0, completed_keys=("A-1", "A-2"),
                            added_keys=("A-9",))
    assert write(store, "jira", [report, sprint]) == 3  # product p, sprint, report
    assert write(store, "jira", [sprint, report]) == 0
    assert rows(store, "SELECT committed, completed, not_completed, removed, added "
                       "FROM sprint_report") == [(31.0, 13.0, 18.0, 2.0, 5.0)]


def test_deleted_removes_only_that_sources_row(store: Store) -> None:
    write(store, "jira", [item("A-1"), item("A-2")])
    write(store, "files", [item("A-1")])
    assert write(store, "jira", [r.Deleted("p", r.Entity.BACKLOG_ITEM, "A-1")]) == 1
    assert rows(store, "SELECT source, key FROM backlog_item ORDER BY source, key") == [
        ("files", "A-1"), ("jira", "A-2")]
    assert write(store, "jira", [r.Deleted("p", r.Entity.BACKLOG_ITEM, "A-1")]) == 0


def test_present_deletes_what_the_source_no_longer_lists_in_its_scope(store: Store) -> None:
    write(store, "af", [run("etl/1"), run("etl/2"), run("ml/1", "ml"), run("ml/2", "ml")])
    listing = r.Present("p", r.Entity.PIPELINE_RUN, frozenset({"etl/2"}), {"pipeline": "etl"})
    assert write(store, "af", [listing]) == 1
    assert rows(store, "SELECT run_id FROM pipeline_run ORDER BY run_id") == [
        ("etl/2",), ("ml/1",), ("ml/2",)]  # the ml pipeline was outside the listing's scope


def test_a_removed_sprint_goes_and_a_deleted_items_history_with_it(store: Store) -> None:
    s1 = r.Sprint("p", "1", "S1", "closed", T0, T0)
    s2 = r.Sprint("p", "2", "S2", "active", T0, None)
    event = r.ItemEvent("p", "A-1", T0, r.ItemField.STATUS, "To Do", "Done")
    write(store, "jira", [s1, s2, item("A-1"), event])
    gone = [r.Present("p", r.Entity.SPRINT, frozenset({"2"})),
            r.Present("p", r.Entity.BACKLOG_ITEM, frozenset())]
    assert write(store, "jira", gone) == 2  # a sprint and an item (its event cascades)
    assert rows(store, "SELECT external_id FROM sprint") == [("2",)]
    assert rows(store, "SELECT count(*) FROM item_event") == [(0,)]


def test_runs_stored_before_0004_are_adopted_not_doubled(store: Store) -> None:
    """Migration 0004 gave old rows source = system; the real source takes them over."""
    old = r.PipelineRun("p", "mlflow", "scoring", "abc", r.PipelineState.SUCCESS, T0)
    write(store, "mlflow", [old])  # as migrated: source = system = 'mlflow'
    write(store, "churn-pipelines", [old])
    assert rows(store, "SELECT source, run_id FROM pipeline_run") == [("churn-pipelines", "abc")]
