"""Backlog, sprints and history from dspo-style and Jira-style CSV and JSON exports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from collectors.base import FatalSourceError
from collectors.files import FilesCollector
from config.schema import FilesSource
from store.records import BacklogItem, ItemEvent, ItemField, Record, Sprint, StatusCategory

UNTIL = datetime(2026, 12, 1, tzinfo=UTC)

# As Jira Cloud's "Export CSV (all fields)" writes it: repeated Sprint and Labels columns,
# a multi-line Description, dates like 26/Nov/26 9:15 AM, no Status Category column.
JIRA_ITEMS = """\
Summary,Issue key,Issue id,Issue Type,Status,Created,Resolved,Sprint,Sprint,Labels,Labels,Labels,Custom field (Story Points),Custom field (Epic Link),Description
Train churn model v2,DS-1,10001,Story,Done,26/Nov/26 9:15 AM,28/Nov/26 5:30 PM,Sprint 1,Sprint 2,ml,data,,5.0,DS-100,"Two
lines"
"Drift alert, orders",DS-2,10002,Bug,In Review,27/Nov/26 10:00 PM,,Sprint 2,,alert,,,3,,
Backlog idea,DS-3,10003,Task,Backlog,2026-11-20T08:00:00+01:00,,,,,,,,,
"""  # noqa: E501 - a CSV row is one line
JIRA_SPRINTS = """\
Sprint Id,Name,State,Start Date,End Date,Complete Date,Goal
41,Sprint 1,CLOSED,09/Nov/26 9:00 AM,20/Nov/26 5:00 PM,20/Nov/26 4:30 PM,Baseline
42,Sprint 2,active,23/Nov/26 9:00 AM,04/Dec/26 5:00 PM,,Ship churn v2
"""
HISTORY = """\
item_key,ts,field,from,to
DS-1,2026-11-26T10:00:00Z,status,To Do,In Progress
DS-1,2026-11-26T10:00:00Z,status_category,To Do,In Progress
DS-1,2026-11-27T09:00:00Z,points,3,5
DS-1,2026-11-23T09:00:00Z,sprint,Sprint 1,Sprint 2
DS-2,2026-11-27T22:00:00Z,sprint,,Sprint 2
"""


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def collect(**settings: Any) -> list[Record]:
    source = FilesSource(name="backlog", product="shop", kind="files", **settings)
    return list(FilesCollector(source).collect(None, UNTIL))


def of(records: list[Record], kind: type) -> list[Any]:
    return [r for r in records if isinstance(r, kind)]


@pytest.fixture
def jira(tmp_path: Path) -> dict[str, Path]:
    return {
        "items": write(tmp_path, "items.csv", JIRA_ITEMS),
        "sprints": write(tmp_path, "sprints.csv", JIRA_SPRINTS),
        "history": write(tmp_path, "history.csv", HISTORY),
    }


def test_jira_export_items(jira: dict[str, Path]) -> None:
    items = {i.key: i for i in of(collect(**jira), BacklogItem)}
    assert sorted(items) == ["DS-1", "DS-2", "DS-3"]
    one = items["DS-1"]
    assert one == BacklogItem(
        product="shop",
        key="DS-1",
        title="Train churn model v2",
        type="Story",
        status="Done",
        status_category=StatusCategory.DONE,
        created=t("2026-11-26 09:15"),
        points=5.0,
        epic="DS-100",
        sprint="42",  # the last non-empty Sprint column, mapped to the sprint's id
        resolved=t("2026-11-28 17:30"),
        labels=("ml", "data"),
        url=None,
        description="Two\nlines",  # the export's Description column, a quoted multi-line cell
    )
    two = items["DS-2"]
    assert (two.title, two.status_category, two.created) == (
        "Drift alert, orders",
        StatusCategory.IN_PROGRESS,
        t("2026-11-27 22:00"),
    )
    assert (two.sprint, two.labels, two.points, two.epic, two.resolved) == (
        "42",
        ("alert",),
        3.0,
        None,
        None,
    )
    three = items["DS-3"]
    assert (three.status_category, three.created, three.sprint, three.labels) == (
        StatusCategory.TODO,
        t("2026-11-20 07:00"),
        None,
        (),
    )


def test_jira_export_sprints(jira: dict[str, Path]) -> None:
    sprints = of(collect(**jira), Sprint)
    assert sprints == [
        Sprint(
            "shop",
            "41",
            "Sprint 1",
            "closed",
            t("2026-11-09 09:00"),
            t("2026-11-20 17:00"),
            t("2026-11-20 16:30"),
            "Baseline",
        ),
        Sprint(
            "shop",
            "42",
            "Sprint 2",
            "active",
            t("2026-11-23 09:00"),
            t("2026-12-04 17:00"),
            None,
            "Ship churn v2",
        ),
    ]


def test_history_events(jira: dict[str, Path]) -> None:
    events = of(collect(**jira), ItemEvent)
    assert [(e.item_key, e.field, e.from_value, e.to_value) for e in events] == [
        ("DS-1", ItemField.STATUS, "To Do", "In Progress"),
        ("DS-1", ItemField.STATUS_CATEGORY, "todo", "in_progress"),
        ("DS-1", ItemField.POINTS, "3", "5"),
        ("DS-1", ItemField.SPRINT, "41", "42"),
        ("DS-2", ItemField.SPRINT, None, "42"),
    ]
    assert events[0].ts == t("2026-11-26 10:00")


def test_own_columns_and_base_url(tmp_path: Path) -> None:
    items = write(
        tmp_path,
        "items.csv",
        "key,title,type,status,status_category,points,epic,sprint,created,resolved,labels,url\n"
        "P-1,Retrain,story,Waiting,in_progress,2,E-1,S9,2026-11-02,,"
        '"drift; retrain,ops",https://elsewhere/P-1\n',
    )
    [item] = of(collect(items=items, base_url="https://jira.example.com/browse"), BacklogItem)
    assert (item.status, item.status_category, item.points, item.sprint) == (
        "Waiting",
        StatusCategory.IN_PROGRESS,
        2.0,
        "S9",  # no sprints file: kept as given
    )
    assert item.labels == ("drift", "retrain", "ops")
    assert item.created == t("2026-11-02 00:00")
    assert item.url == "https://jira.example.com/browse/P-1"
    [own] = of(collect(items=items), BacklogItem)
    assert own.url == "https://elsewhere/P-1"


def test_json_items_sprints_and_history(tmp_path: Path) -> None:
    items = [
        {
            "key": "DS-7",
            "title": "Fix feature pipeline",
            "type": "Bug",
            "status": "Closed",
            "points": 8,
            "sprint": "Sprint 2",
            "created": "2026-11-24T08:30:00Z",
            "resolved": "2026-11-25T18:00:00+01:00",
            "labels": ["pipeline", "urgent"],
        },
        {"Issue key": "DS-8", "Summary": "Jira names", "Status": "Open", "Created": "24/Nov/26"},
    ]
    sprints = [{"id": "42", "name": "Sprint 2", "state": "active", "start": "2026-11-23"}]
    history = [{"item_key": "DS-7", "ts": "2026-11-25", "field": "points", "from": 5, "to": 8}]
    records = collect(
        items=write(tmp_path, "items.json", json.dumps(items)),
        sprints=write(tmp_path, "sprints.json", json.dumps(sprints)),
        history=write(tmp_path, "history.json", json.dumps(history)),
        base_url="https://jira.example.com/browse/",
    )
    seven, eight = of(records, BacklogItem)
    assert (seven.status_category, seven.points, seven.sprint, seven.labels) == (
        StatusCategory.DONE,
        8.0,
        "42",
        ("pipeline", "urgent"),
    )
    assert seven.resolved == t("2026-11-25 17:00")
    assert seven.url == "https://jira.example.com/browse/DS-7"
    assert (eight.title, eight.status_category, eight.created) == (
        "Jira names",
        StatusCategory.TODO,
        t("2026-11-24 00:00"),
    )
    [sprint] = of(records, Sprint)
    assert (sprint.external_id, sprint.start, sprint.end) == ("42", t("2026-11-23 00:00"), None)
    [event] = of(records, ItemEvent)
    assert (event.from_value, event.to_value) == ("5", "8")


def test_repeated_key_keeps_the_last_row(tmp_path: Path) -> None:
    items = write(
        tmp_path,
        "items.csv",
        "key,title,status,created\nA-1,first,To Do,2026-11-01\nA-1,second,Done,2026-11-01\n",
    )
    [item] = of(collect(items=items), BacklogItem)
    assert (item.title, item.status_category) == ("second", StatusCategory.DONE)


BAD_ROWS = [
    # (row appended after the Jira rows, which end on line 5, field named in the error)
    ('Bad date,DS-4,1,Task,To Do,31/Foo/26 9:00 AM,,,,,,,,,"two\nlines"', "created: unparseable"),
    ("No key,,1,Task,To Do,26/Nov/26 9:00 AM,,,,,,,,,", "key: missing"),
    ("Bad points,DS-4,1,Task,To Do,26/Nov/26 9:00 AM,,,,,,,three,,", "points: unparseable"),
    ("Odd status,DS-4,1,Task,Waiting for Godot,26/Nov/26 9:00 AM,,,,,,,,,",
     "status: status 'Waiting for Godot' has no category: add it to the source's "
     "status_categories"),
]


@pytest.mark.parametrize(("row", "problem"), BAD_ROWS, ids=["date", "key", "points", "status"])
def test_a_malformed_row_refuses_the_whole_file(
    jira: dict[str, Path], row: str, problem: str
) -> None:
    jira["items"].write_text(JIRA_ITEMS + row + "\n", encoding="utf-8")
    with pytest.raises(FatalSourceError) as info:
        collect(**jira)
    message = str(info.value)
    # Line 1 is the header; DS-1 spans lines 2-3, DS-2 is line 4, DS-3 line 5; a bad row
    # that spans lines 6-7 is reported where it starts.
    assert f"{jira['items']}:6: {problem}" in message
    assert message.endswith("(file refused, nothing imported)")


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("sprints.csv", "id,name,state\n1,S1,planned\n", "sprints.csv:2: state: 'planned'"),
        ("history.csv", "item_key,ts,field,to\nA,2026-11-01,status,Parked\n",
         "history.csv:2: to: status 'Parked' has no category"),
        ("history.csv", "item_key,ts,field,to\nA,2026-11-01,points,x\n", "history.csv:2: to:"),
        ("items.json", '[{"key": "A", "status": "Done"}]', "items.json object 1: created: missing"),
        ("items.json", '{"key": "A"}', "items.json: file: expected a JSON list"),
    ],
    ids=["sprint-state", "history-status", "history-points", "json-created", "json-not-list"],
)
def test_bad_sprints_history_and_json_name_file_and_place(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    files = {"items": write(tmp_path, "items.csv", "key,status,created\nA,Done,2026-11-01\n")}
    files[name.split(".")[0]] = write(tmp_path, name, text)
    with pytest.raises(FatalSourceError) as info:
        collect(**files)
    assert f"{tmp_path}/{where}" in str(info.value)


def test_missing_file_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(FatalSourceError, match=r"items\.csv: no such file"):
        collect(items=tmp_path / "items.csv")


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    items = write(tmp_path, "items.json", '[{"key": "A",]')
    with pytest.raises(FatalSourceError) as info:
        collect(items=items)
    assert f"{items}: Expecting property name" in str(info.value)
