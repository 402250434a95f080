"""Real exports through the files source: the shipped Jira samples, status-only history,
time zones, broken CSVs, empty files and rows removed from an export."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from collectors.base import FatalSourceError
from collectors.files import FilesCollector
from collectors.runner import run_sources
from config.loader import load_config
from config.schema import FilesSource
from kpis.flow import flow_times
from store import queries
from store.db import Store
from store.records import BacklogItem, ItemEvent, ItemField, Present, Record, Sprint

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def collect(**settings: Any) -> list[Record]:
    source = FilesSource(name="backlog", product="shop", kind="files", **settings)
    return list(FilesCollector(source).collect(None, UNTIL))


def of(records: list[Record], kind: type) -> list[Any]:
    return [r for r in records if isinstance(r, kind)]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def example_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FilesSource:
    """The shipped example config, loaded from another working directory."""
    monkeypatch.chdir(tmp_path)
    source = load_config(EXAMPLES / "jira-files.yaml", env={}).sources[0]
    assert isinstance(source, FilesSource)
    return source


# ---------------------------------------------------------------- the shipped samples


def test_shipped_samples_load_with_paths_relative_to_the_config(
    example_source: FilesSource, caplog: pytest.LogCaptureFixture
) -> None:
    assert example_source.items == EXAMPLES / "jira-issues.csv"
    with caplog.at_level(logging.INFO, logger="collectors.files"):
        records = list(FilesCollector(example_source).collect(None, UNTIL))
    items = {i.key: i for i in of(records, BacklogItem)}
    assert sorted(items) == ["ML-10", "ML-11", "ML-12", "ML-13", "ML-14", "ML-15"]
    eleven = items["ML-11"]
    # Europe/Berlin in November is UTC+1: 02/Nov/26 10:00 AM is 09:00 UTC.
    assert (eleven.created, eleven.resolved) == (t("2026-11-02 09:00"), t("2026-11-16 13:48"))
    assert (eleven.points, eleven.sprint, eleven.epic, eleven.labels) == (
        5.0, "42", "ML-10", ("ml", "retraining"),
    )  # fmt: skip
    assert items["ML-13"].status_category == "in_progress"  # "Ready for QA" via the config map
    assert eleven.url == "https://yourcompany.atlassian.net/browse/ML-11"
    assert [s.external_id for s in of(records, Sprint)] == ["41", "42", "43"]
    changes = {(e.item_key, e.field, e.from_value, e.to_value) for e in of(records, ItemEvent)}
    assert ("ML-11", ItemField.POINTS, "3", "5") in changes  # Jira's "Story Points" field
    assert ("ML-11", ItemField.SPRINT, "41", "42") in changes  # "Sprint 41, Sprint 42"
    assert ("ML-13", ItemField.STATUS_CATEGORY, "todo", "in_progress") in changes
    # In Progress -> In Review stays in one category: no category change is made up.
    assert ("ML-11", ItemField.STATUS_CATEGORY, "in_progress", "in_progress") not in changes
    assert "skipped changes of fields dspo does not track: Rank (1), assignee (1), " \
        "resolution (1)" in caplog.text


def test_status_only_history_gives_the_cycle_time_from_the_move_to_in_progress(
    example_source: FilesSource, store: Store
) -> None:
    """ML-11: created 2 Nov 10:00, In Progress 13 Nov 10:00, Done 16 Nov 14:48 (Berlin).

    By hand: cycle time = 16 Nov 14:48 - 13 Nov 10:00 = 3 d 4.8 h = 3.2 days; lead time =
    16 Nov 14:48 - 2 Nov 10:00 = 14 d 4.8 h = 14.2 days. Without category changes derived
    from the `status` rows the cycle would start at creation and read 14.2 days.
    """
    [result] = run_sources(store, [example_source])
    assert result.ok, result.error
    items, events = queries.backlog_items(store, "churn"), queries.item_events(store, "churn")
    times = flow_times(items, events, start=t("2026-11-01"), end=UNTIL).set_index("key")
    eleven = times.loc["ML-11"]
    assert eleven["cycle_days"] == pytest.approx(3.2)
    assert eleven["lead_days"] == pytest.approx(14.2)
    assert bool(eleven["from_history"])
    # ML-15: To Do -> In Progress 4 Nov 11:00, Done 12 Nov 16:00 = 8 d 5 h.
    assert times.loc["ML-15", "cycle_days"] == pytest.approx(8 + 5 / 24)


# ---------------------------------------------------------------- status categories


def test_explicit_category_history_wins_over_derived(tmp_path: Path) -> None:
    items = write(tmp_path, "items.csv", "key,status,created\nA-1,Done,2026-11-01\n")
    history = write(tmp_path, "history.csv", (
        "item_key,ts,field,from,to\n"
        "A-1,2026-11-02T09:00:00Z,status,To Do,In Progress\n"
        "A-1,2026-11-03T09:00:00Z,status_category,To Do,In Progress\n"
        "A-1,2026-11-04T09:00:00Z,status,In Progress,Done\n"
        "A-1,2026-11-04T09:00:00Z,status_category,In Progress,Done\n"
    ))  # fmt: skip
    categories = [
        (e.ts, e.from_value, e.to_value)
        for e in of(collect(items=items, history=history), ItemEvent)
        if e.field is ItemField.STATUS_CATEGORY
    ]
    assert categories == [
        (t("2026-11-03 09:00"), "todo", "in_progress"),
        (t("2026-11-04 09:00"), "in_progress", "done"),
    ]


def test_status_categories_extend_and_override_the_built_in_map(tmp_path: Path) -> None:
    items = write(tmp_path, "items.csv", (
        "key,status,created\nA-1,Parked,2026-11-01\nA-2,Review,2026-11-01\n"
    ))  # fmt: skip
    found = {
        i.key: i.status_category
        for i in of(collect(items=items, status_categories={"parked": "todo",
                                                            "REVIEW": "done"}), BacklogItem)
    }  # fmt: skip
    assert found == {"A-1": "todo", "A-2": "done"}


# ---------------------------------------------------------------- time zones


def test_times_without_an_offset_are_in_the_configured_zone(tmp_path: Path) -> None:
    items = write(tmp_path, "items.csv", (
        "key,status,created,resolved\n"
        "A-1,Done,2026-07-01T10:00:00,2026-07-02T10:00:00+00:00\n"
        "A-2,Done,01/Dec/26 9:15 AM,\n"
    ))  # fmt: skip
    one, two = of(collect(items=items, timezone="America/New_York"), BacklogItem)
    assert one.created == t("2026-07-01 14:00")  # EDT, UTC-4
    assert one.resolved == t("2026-07-02 10:00")  # an explicit offset is kept
    assert two.created == t("2026-12-01 14:15")  # EST, UTC-5
    [utc_default] = of(collect(items=write(tmp_path, "b.csv", (
        "key,status,created\nA-1,Done,2026-07-01T10:00:00\n"
    ))), BacklogItem)  # fmt: skip
    assert utc_default.created == t("2026-07-01 10:00")


def test_an_unknown_time_zone_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Atlantis'"):
        FilesSource(name="b", product="p", kind="files", items="i.csv", timezone="Europe/Atlantis")


# ---------------------------------------------------------------- broken and empty files


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('key,title,status,created\nA-1,ok,Done,2026-11-01\nA-2,"never closed,Done,2026-11-01\n'
         "A-3,more,Done,2026-11-01\n",
         "items.csv:3: row: unterminated quote: a quoted value opened on this line never closes"),
        ("key,title,status,created\nA-1,ok,Done,2026-11-01\nA-2,short,Done\n",
         "items.csv:3: row: a short row: 3 values for 4 header columns"),
        ('key,title,status,created\nA-1,"two\nlines",Done\nA-2,x,Done,2026-11-01\n',
         "items.csv:2: row: a short row: 3 values for 4 header columns (the row runs over "
         "lines 2-3: check its quotes)"),
        ("key,title,status,created\nA-1,ok,Done,2026-11-01,extra\n",
         "items.csv:2: row: a long row: 5 values for 4 header columns"),
        ('key,title,status,created\nA-1,"ok"x,Done,2026-11-01\n',
         "items.csv:2: row: malformed CSV: ',' expected after '\"'"),
    ],
    ids=["unterminated-quote", "short-row", "short-multiline-row", "long-row", "bad-quote"],
)  # fmt: skip
def test_broken_csv_names_the_file_line_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    items = write(tmp_path, "items.csv", text)
    with pytest.raises(FatalSourceError) as info:
        collect(items=items)
    assert f"{tmp_path}/{message}" in str(info.value)
    assert str(info.value).endswith("(file refused, nothing imported)")


@pytest.mark.parametrize(
    ("name", "text"),
    [("items.csv", ""), ("items.csv", "key,title,status,created\n"), ("items.json", "[]"),
     ("items.json", "\n")],
    ids=["empty-csv", "header-only", "empty-json-list", "blank-json"],
)  # fmt: skip
def test_an_empty_file_warns_and_imports_nothing(
    tmp_path: Path, name: str, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    items = write(tmp_path, name, text)
    with caplog.at_level(logging.WARNING, logger="collectors.files"):
        assert collect(items=items) == []
    assert f"source backlog: {items} has no rows: nothing imported from it" in caplog.text


# ---------------------------------------------------------------- through the store


ITEMS = """key,title,status,points,sprint,created
A-1,First,Done,3,S1,2026-11-02T09:00:00Z
A-2,Second,In Progress,2,S1,2026-11-03T09:00:00Z
A-3,Third,To Do,1,,2026-11-04T09:00:00Z
"""
SPRINTS = "id,name,state,start\nS1,Sprint 1,active,2026-11-02\nS0,Sprint 0,closed,2026-10-19\n"


def test_rows_removed_from_an_export_are_deleted_and_a_rerun_writes_nothing(
    tmp_path: Path, store: Store
) -> None:
    items, sprints = write(tmp_path, "items.csv", ITEMS), write(tmp_path, "sprints.csv", SPRINTS)
    source = FilesSource(name="backlog", product="p", kind="files", items=items, sprints=sprints)
    [first] = run_sources(store, [source])
    assert first.ok and first.rows > 0
    [again] = run_sources(store, [source])
    assert (again.ok, again.rows) == (True, 0)
    items.write_text(ITEMS.replace("A-2,Second,In Progress,2,S1,2026-11-03T09:00:00Z\n", ""))
    sprints.write_text(SPRINTS.replace("S0,Sprint 0,closed,2026-10-19\n", ""))
    [after] = run_sources(store, [source])
    assert after.ok and after.rows == 2  # one item and one sprint deleted
    assert sorted(queries.backlog_items(store, "p")["key"]) == ["A-1", "A-3"]
    # An empty export is more likely a broken export job than an emptied backlog.
    items.write_text("key,title,status,points,sprint,created\n")
    [empty] = run_sources(store, [source])
    assert (empty.ok, empty.rows) == (True, 0)
    assert sorted(queries.backlog_items(store, "p")["key"]) == ["A-1", "A-3"]


def test_present_lists_every_key_of_a_non_empty_file(tmp_path: Path) -> None:
    records = collect(items=write(tmp_path, "items.csv", ITEMS))
    [present] = of(records, Present)
    assert present.keys == {"A-1", "A-2", "A-3"}
