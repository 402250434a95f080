"""The `jira` collector's pure parts: JQL dates, fields, sprints, the sprint report formula.

Answer shapes as Atlassian documents them (cited in tests/fakes/fake_jira_agile.py); the
sprint report's as Jira's board pages read it (collectors/jira_sprints.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from collectors.base import reconcile_due
from collectors.jira_client import jql_time, parse_time, since_clause
from collectors.jira_collector import JiraCollector
from collectors.jira_issues import (
    FieldError,
    SprintBook,
    Statuses,
    resolve_fields,
    sprint_values,
)
from collectors.jira_sprints import estimate_field, parse_sprint_report
from config.sources.jira import JiraSource
from store.records import StatusCategory


@pytest.mark.parametrize(("at", "zone", "expected"), [
    pytest.param("2026-03-04 08:45:59", "UTC", '"2026-03-04 08:45"', id="utc-floored"),
    pytest.param("2026-03-04 08:45", "America/Los_Angeles", '"2026-03-04 00:45"', id="pst"),
    # US summer time starts Sun 08 Mar 2026 at 02:00 local: UTC-7 from then on
    pytest.param("2026-03-08 12:00", "America/Los_Angeles", '"2026-03-08 05:00"', id="pdt"),
    pytest.param("2026-03-04 23:30", "Europe/Paris", '"2026-03-05 00:30"', id="next-day"),
    pytest.param("2026-03-04 08:45", "Asia/Kolkata", '"2026-03-04 14:15"', id="half-hour"),
])
def test_jql_dates_are_written_in_the_users_zone(at: str, zone: str, expected: str) -> None:
    instant = datetime.fromisoformat(at).replace(tzinfo=UTC)
    assert jql_time(instant, ZoneInfo(zone)) == expected


def test_since_clause_subtracts_the_overlap() -> None:
    since = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    assert since_clause(since, timedelta(minutes=15), ZoneInfo("UTC")) == \
        'updated >= "2026-03-04 08:45"'
    assert since_clause(None, timedelta(minutes=15), ZoneInfo("UTC")) is None


@pytest.mark.parametrize("text", ["2026-03-02T09:00:00.000+0000", "2026-03-02T10:00:00.000+01:00",
                                  "2026-03-02T09:00:00Z", "2026-03-02T04:00:00-0500"])
def test_jira_times_parse_to_utc(text: str) -> None:
    assert parse_time(text) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_parse_time_refuses_garbage_and_naive() -> None:
    assert parse_time("yesterday") is None
    assert parse_time("2026-03-02T09:00:00") is None
    assert parse_time(None) is None


def _field(i: str, name: str, custom: str = "", kind: str = "number") -> dict[str, Any]:
    return {"id": i, "name": name, "custom": bool(custom),
            "schema": {"type": kind, "custom": custom} if custom else {"type": kind}}


FIELDS = [
    _field("summary", "Summary", kind="string"),
    _field("customfield_10016", "Story point estimate",
           "com.pyxis.greenhopper.jira:jsw-story-points"),
    _field("customfield_10028", "Story Points",
           "com.atlassian.jira.plugin.system.customfieldtypes:float"),
    _field("customfield_10020", "Sprint", "com.pyxis.greenhopper.jira:gh-sprint", "array"),
    _field("customfield_10014", "Epic Link", "com.pyxis.greenhopper.jira:gh-epic-link", "any"),
]


@pytest.mark.parametrize(("wanted", "expected"), [
    pytest.param(None, "customfield_10016", id="default-story-point-estimate"),
    pytest.param("Story Points", "customfield_10028", id="by-name"),
    pytest.param("story points", "customfield_10028", id="by-name-any-case"),
    pytest.param("customfield_10028", "customfield_10028", id="by-id"),
])
def test_points_field_by_name_or_id(wanted: str | None, expected: str) -> None:
    fields = resolve_fields(FIELDS, wanted)
    assert fields.points == expected
    assert fields.sprint == "customfield_10020"
    assert fields.epic_link == "customfield_10014"


def test_points_field_unknown_or_ambiguous() -> None:
    with pytest.raises(FieldError, match=r"'Effort' is neither a field name nor an id on this "
                       r"site \(fields with similar names: Story Points, Story point "
                       r"estimate\)"):
        resolve_fields(FIELDS, "Effort")
    twins = [*FIELDS, _field("customfield_10099", "Story Points",
                             "com.atlassian.jira.plugin.system.customfieldtypes:float")]
    with pytest.raises(FieldError, match=r"names several fields \(customfield_10028, "
                       r"customfield_10099\): give its id"):
        resolve_fields(twins, "Story Points")


def test_status_categories_by_key_with_overrides() -> None:
    statuses = Statuses.read(
        [{"id": "1", "name": "To Do", "statusCategory": {"key": "new"}},
         {"id": "3", "name": "In Progress", "statusCategory": {"key": "indeterminate"}},
         {"id": "7", "name": "Ready for release", "statusCategory": {"key": "indeterminate"}},
         {"id": "9", "name": "Done", "statusCategory": {"key": "done"}}],
        {"Ready for Release": "done"})
    assert statuses.category("1", "To Do") == StatusCategory.TODO
    assert statuses.category("3", "renamed since") == StatusCategory.IN_PROGRESS  # by id
    assert statuses.category("404", "Done") == StatusCategory.DONE  # by name
    assert statuses.category("7", "Ready for release", "indeterminate") == StatusCategory.DONE
    assert statuses.category("404", "Nowhere") is None


def test_data_center_sprint_strings() -> None:
    book = SprintBook()
    value = [
        "com.atlassian.greenhopper.service.sprint.Sprint@1f[id=11,rapidViewId=1,state=CLOSED,"
        "name=Sprint 11, the one with a comma,startDate=2026-02-16T10:00:00.000+01:00,"
        "endDate=2026-03-02T10:00:00.000+01:00,completeDate=2026-03-02T09:30:00.000+01:00,"
        "sequence=11,goal=]",
        "com.atlassian.greenhopper.service.sprint.Sprint@2a[id=12,rapidViewId=1,state=ACTIVE,"
        "name=Sprint 12,startDate=2026-03-02T10:00:00.000+01:00,endDate=<null>,"
        "completeDate=<null>,sequence=12,goal=Ship it]",
    ]
    assert sprint_values(value, book) == ["11", "12"]
    assert book.state == {"11": "closed", "12": "active"}
    assert book.completed["11"] == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert book.current(["11", "12"]) == "12"


def test_the_current_sprint_is_the_open_one_else_the_latest() -> None:
    book = SprintBook()
    book.learn("5", "closed", datetime(2026, 2, 1, tzinfo=UTC))
    book.learn("9", "closed", datetime(2026, 1, 1, tzinfo=UTC))
    book.learn("3", "future", None)
    assert book.current(["5", "9"]) == "5"  # started last, whatever the ids
    assert book.current(["9", "5", "3"]) == "3"  # open wins
    assert book.current(["40", "41"]) == "41"  # unknown sprints: the higher id
    assert book.current([]) is None


def _issue(key: str, start: float | None, close: float | None = None) -> dict[str, Any]:
    def stat(v: float | None) -> dict[str, Any]:
        return {"statFieldId": "customfield_10016",
                "statFieldValue": {} if v is None else {"value": v}}
    return {"key": key, "estimateStatistic": stat(start),
            "currentEstimateStatistic": stat(start if close is None else close)}


def test_sprint_report_formula() -> None:
    """committed = initial estimates of completed + not completed + removed issues, less
    those added: A 3 + B 5 + D 1 = 9 (C was added). completed = Jira's sum 3 + 4 = 7;
    not completed = 8 (B re-estimated to 8); removed = 1; added = C's initial 2 (now 4)."""
    contents = {
        "completedIssues": [_issue("A", 3), _issue("C", 2, 4)],
        "issuesNotCompletedInCurrentSprint": [_issue("B", 5, 8)],
        "puntedIssues": [_issue("D", 1)],
        "issuesCompletedInAnotherSprint": [_issue("E", 13)],
        "completedIssuesEstimateSum": {"value": 7.0, "text": "7.0"},
        "issuesNotCompletedEstimateSum": {"value": 8.0, "text": "8.0"},
        "puntedIssuesEstimateSum": {"value": 1.0, "text": "1.0"},
        "issueKeysAddedDuringSprint": {"C": True},
    }
    report = parse_sprint_report("ds", "11", contents)
    assert (report.committed, report.completed, report.not_completed, report.removed,
            report.added) == (9.0, 7.0, 8.0, 1.0, 2.0)
    assert report.completed_keys == ("A", "C") and report.added_keys == ("C",)
    assert report.not_completed_keys == ("B",) and report.removed_keys == ("D",)
    assert estimate_field(contents) == "customfield_10016"


def test_sprint_report_of_an_older_site_and_null_sums() -> None:
    """`incompletedIssues` (older sites) and sums Jira leaves out ({"text": "null"}): the
    issues' current estimates are added up, missing estimates count 0."""
    contents = {
        "completedIssues": [_issue("A", None)],
        "incompletedIssues": [_issue("B", 2, 3)],
        "puntedIssues": [],
        "completedIssuesEstimateSum": {"text": "null"},
        "incompletedIssuesEstimateSum": {"text": "null"},
        "puntedIssuesEstimateSum": {"text": "null"},
        "issueKeysAddedDuringSprint": {},
    }
    report = parse_sprint_report("ds", "7", contents)
    assert (report.committed, report.completed, report.not_completed, report.removed,
            report.added) == (2.0, 0.0, 3.0, 0.0, 0.0)


@pytest.mark.parametrize(("since", "until", "due"), [
    pytest.param("2026-03-04 09:00", "2026-03-04 23:00", False, id="same-day"),
    pytest.param("2026-03-04 23:00", "2026-03-05 00:15", True, id="crosses-midnight"),
    pytest.param("2026-03-04 09:00", "2026-03-07 09:00", True, id="days-later"),
])
def test_reconcile_at_most_once_a_period(since: str, until: str, due: bool) -> None:
    at = [datetime.fromisoformat(x).replace(tzinfo=UTC) for x in (since, until)]
    assert reconcile_due(at[0], at[1], timedelta(days=1)) is due


def test_jql_joins_project_extra_and_watermark() -> None:
    settings = JiraSource(name="j", kind="jira", product="p", url="https://jira.acme.org",
                          token="t", project='D"S', jql="labels = ml OR type = Bug")
    assert JiraCollector(settings).jql('updated >= "2026-03-04 08:45"') == (
        'project = "D\\"S" AND (labels = ml OR type = Bug) AND updated >= "2026-03-04 08:45"'
        " ORDER BY created ASC")


@pytest.mark.parametrize(("settings", "error"), [
    pytest.param({"url": "https://acme.atlassian.net", "project": "DS"},
                 "set `email`", id="cloud-without-email"),
    pytest.param({"url": "https://jira.acme.org", "project": "DS", "email": "a@b.c"},
                 "remove `email`", id="datacenter-with-email"),
    pytest.param({"url": "https://jira.acme.org"}, "set `project`, `jql` or both",
                 id="nothing-selected"),
])
def test_settings_refuse_what_cannot_work(settings: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        JiraSource(name="j", kind="jira", product="p", token="t", **settings)


def test_deployment_auto_by_host() -> None:
    def cloud(url: str, **kw: Any) -> bool:
        return JiraSource(name="j", kind="jira", product="p", url=url, token="t",
                          project="DS", **kw).cloud
    assert cloud("https://acme.atlassian.net", email="a@b.c")
    assert not cloud("https://jira.acme.org")
    assert cloud("https://jira.acme.org", deployment="cloud", email="a@b.c")
