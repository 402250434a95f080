"""The `jira` collector end to end: a fake Jira Cloud and Data Center on 127.0.0.1, the real
`jira` client, `run_sources` and the store on SQLite and PostgreSQL.

The fake (tests/fakes/fake_jira_agile.py) answers with the shapes of Atlassian's references
(cited in each handler) and holds the team of `seed_team`: a closed sprint 11 with Jira's
report, an active 12, a future 13, and issues whose changelogs carry a re-estimate, a
carry-over, an addition, a removal and a status Jira's board counts as done.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from fake_jira_agile import S11_CLOSE, T0, FakeJiraAgile, seed_team

from collectors.runner import SourceResult, run_sources
from config.sources.jira import JiraSource
from kpis.velocity import sprint_velocity
from store import queries
from store.db import Store
from store.experiments import item_descriptions
from store.sprint_reports import sprint_report

TOKEN = "secret-token-123"
FIRST = T0 + timedelta(days=2)  # Wed 04 Mar 09:00 UTC: the first collection


def source(fake: FakeJiraAgile, **settings: Any) -> JiraSource:
    auth: dict[str, Any] = {"email": fake.email} if fake.cloud else {}
    return JiraSource(**{
        "name": "jira", "kind": "jira", "product": "ds", "url": fake.url,
        "deployment": "cloud" if fake.cloud else "datacenter", "token": TOKEN,
        "project": "DS", "retries": 2, **auth, **settings})


def at(instant: datetime) -> Callable[[], datetime]:
    return lambda: instant


def collect(store: Store, settings: JiraSource, when: datetime) -> SourceResult:
    [result] = run_sources(store, [settings], clock=at(when))
    assert result.ok, result.error
    return result


@pytest.fixture(params=["Cloud", "DataCenter"])
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJiraAgile]:
    with FakeJiraAgile(deployment=request.param, token=TOKEN) as fake:
        seed_team(fake)
        yield fake


def test_collects_boards_sprints_reports_issues_and_history(store: Store,
                                                            jira: FakeJiraAgile) -> None:
    result = collect(store, source(jira), FIRST)
    sprints = queries.sprints(store, "ds").set_index("external_id")
    assert list(sprints.index) == ["11", "12", "13"]
    assert list(sprints["state"]) == ["closed", "active", "future"]
    assert sprints.loc["11", "completed"] == S11_CLOSE
    assert sprints.loc["11", "goal"] == "Ship the scorer"
    items = queries.backlog_items(store, "ds").set_index("key")
    assert sorted(items.index) == [f"DS-{n}" for n in range(1, 8)]
    assert items.loc["DS-2", ["points", "sprint", "status_category"]].tolist() == [
        8.0, "12", "in_progress"]
    assert items.loc["DS-5", "status_category"] == "done"
    assert items.loc["DS-1", "epic"] == "DS-100"  # the parent
    assert items.loc["DS-7", "epic"] == ("DS-100" if jira.cloud else "DS-101")  # Epic Link
    assert items.loc["DS-6", "epic"] is None  # a sub-task's parent is a story, not its epic
    assert items.loc["DS-3", "labels"] == ["ml"]
    assert items.loc["DS-4", "url"] == f"{jira.url}/browse/DS-4"
    # the description (text in API v2) is kept; the other issues have none
    assert item_descriptions(store, "ds", items.index) == {
        "DS-3": "Hypothesis: h\nSuccess criterion: auc > champion"}
    events = queries.item_events(store, "ds")
    ds2 = events.loc[events["item_key"] == "DS-2", ["ts", "field", "from_value", "to_value"]]
    assert ds2.values.tolist() == [
        [pd.Timestamp("2026-02-18 09:00", tz="UTC"), "points", "5", "8"],
        [pd.Timestamp("2026-02-19 09:00", tz="UTC"), "status", "To Do", "In Progress"],
        [pd.Timestamp("2026-02-19 09:00", tz="UTC"), "status_category", "todo", "in_progress"],
        # Jira moved it 200 ms after the completion: dated at the close, it is carry-over
        [pd.Timestamp(S11_CLOSE), "sprint", "11", "12"],
    ]
    report = sprint_report(store, "ds", "11")
    assert report is not None
    assert report[["committed", "completed", "not_completed", "removed", "added"]].tolist() \
        == [11.0, 7.0, 8.0, 1.0, 2.0]
    assert report["completed_keys"] == ["DS-1", "DS-3", "DS-5"]
    assert report["added_keys"] == ["DS-3"]
    # and the KPIs read it: commitment 3 + 5 + 1 + 2 = 11, completed DS-1 3 + DS-3 2 = 5
    velocity = sprint_velocity(queries.sprints(store, "ds"), queries.backlog_items(store, "ds"),
                               events, as_of=FIRST).set_index("external_id")
    assert velocity.loc["11", ["commitment", "completed"]].tolist() == [11.0, 5.0]
    assert result.rows > 0


def test_a_rerun_with_nothing_new_writes_nothing(store: Store, jira: FakeJiraAgile) -> None:
    settings = source(jira)
    collect(store, settings, FIRST)
    again = collect(store, settings, FIRST + timedelta(hours=1))
    assert again.rows == 0
    assert again.records > 0  # sprints are listed again, issues of the overlap re-read
    reports = jira.sent("GET", r"/rest/greenhopper/1\.0/rapid/charts/sprintreport")
    assert len(reports) == 1  # once per closed sprint, not every run
    search = "/rest/api/2/search/jql" if jira.cloud else "/rest/api/2/search"
    last_jql = jira.sent("GET", search)[-1].query["jql"][0]
    assert 'updated >= "2026-03-04 08:45"' in last_jql  # watermark 09:00 less 15m overlap


def test_deleted_issue_and_removed_sprint_leave_the_store(store: Store,
                                                          jira: FakeJiraAgile) -> None:
    settings = source(jira, reconcile_every="1d")
    collect(store, settings, FIRST)
    del jira.issues["DS-4"]
    jira.remove_sprint(13)
    same_day = collect(store, settings, FIRST + timedelta(hours=2))
    assert "13" not in set(queries.sprints(store, "ds")["external_id"])  # every run
    assert "DS-4" in set(queries.backlog_items(store, "ds")["key"])  # not reconciled yet
    assert same_day.rows == 1
    next_day = collect(store, settings, FIRST + timedelta(days=1))
    assert "DS-4" not in set(queries.backlog_items(store, "ds")["key"])
    assert next_day.rows == 1  # the item; its one event goes with it (cascade)
    assert "DS-4" not in set(queries.item_events(store, "ds")["item_key"])
    keys_only = [r for r in jira.requests if r.query.get("fields") == ["id"]]
    assert len(keys_only) == 1  # one reconciliation in three runs


def test_pages_of_issues_boards_and_sprints(store: Store, jira: FakeJiraAgile) -> None:
    for n in range(20, 24):
        jira.add_issue(f"DS-{n}", T0 - timedelta(days=n))
    for n in range(3, 7):
        jira.add_board(n, "DS")
    for n in range(14, 18):
        jira.add_sprint(1, n, "future")
    collect(store, source(jira, page_size=2), FIRST)
    assert len(queries.backlog_items(store, "ds")) == 11
    assert len(queries.sprints(store, "ds")) == 7
    search = "/rest/api/2/search/jql" if jira.cloud else "/rest/api/2/search"
    pages = [r for r in jira.sent("GET", search) if r.query.get("fields") != ["id"]]
    assert len(pages) == 6  # 11 issues, 2 a page
    if jira.cloud:
        assert "nextPageToken" not in pages[0].query
        assert all("nextPageToken" in p.query for p in pages[1:])
    else:
        assert [p.query["startAt"] for p in pages] == [[str(n)] for n in range(0, 12, 2)]
    assert len(jira.sent("GET", r"/rest/agile/1\.0/board")) == 3  # 6 boards, 2 a page
    assert len(jira.sent("GET", r"/rest/agile/1\.0/board/1/sprint")) == 4  # 7 sprints


def test_a_changelog_longer_than_one_page(store: Store, jira: FakeJiraAgile) -> None:
    jira.add_issue("DS-30", T0 - timedelta(days=30))
    names = ("To Do", "In Progress")
    for n in range(120):
        jira.change("DS-30", T0 - timedelta(days=20) + timedelta(hours=n), "status",
                    names[n % 2], names[(n + 1) % 2])
    collect(store, source(jira, page_size=50), FIRST)
    events = queries.item_events(store, "ds")
    flips = events.loc[(events["item_key"] == "DS-30") & (events["field"] == "status")]
    assert len(flips) == 120
    assert flips["to_value"].iloc[-1] == "To Do"
    changelog = jira.sent("GET", r"/rest/api/2/issue/DS-30/changelog")
    if jira.cloud:  # the search embedded 40 of 120: the rest came from 3 pages of 50
        assert [r.query["startAt"] for r in changelog] == [["0"], ["50"], ["100"]]
    else:  # Data Center's expand=changelog is complete
        assert changelog == []


@pytest.mark.parametrize("points_field", ["Story Points", "customfield_10028"])
def test_story_points_by_name_or_id(store: Store, points_field: str) -> None:
    with FakeJiraAgile(token=TOKEN, points_id="customfield_10028") as fake:
        seed_team(fake)
        collect(store, source(fake, points_field=points_field), FIRST)
        assert len(fake.sent("GET", r"/rest/api/2/field")) == 1  # once per run
        search = fake.sent("GET", r"/rest/api/2/search/jql")[0]
        assert "customfield_10028" in search.query["fields"][0].split(",")
    items = queries.backlog_items(store, "ds").set_index("key")
    assert items.loc["DS-2", "points"] == 8.0
    events = queries.item_events(store, "ds")
    assert ["5", "8"] in events.loc[events["field"] == "points",
                                    ["from_value", "to_value"]].values.tolist()


def test_an_unknown_points_field_fails_naming_it(store: Store) -> None:
    with FakeJiraAgile(token=TOKEN) as fake:
        seed_team(fake)
        [result] = run_sources(store, [source(fake, points_field="Story Pointz")],
                               clock=at(FIRST))
    assert not result.ok
    assert "points_field 'Story Pointz' is neither a field name nor an id" in (result.error or "")
    assert "Story Points, Story point estimate" in (result.error or "")


def test_jql_dates_are_in_the_jira_users_time_zone(store: Store) -> None:
    """The user is in Los Angeles (UTC-8 on 04 Mar): the watermark 09:00 UTC less 15 min is
    00:45 there. Written in UTC digits ("08:45"), Jira would read 08:45 PST = 16:45 UTC and
    miss the 10:00 UTC change below."""
    with FakeJiraAgile(token=TOKEN, time_zone="America/Los_Angeles") as fake:
        seed_team(fake)
        settings = source(fake)
        collect(store, settings, FIRST)
        fake.change("DS-7", FIRST + timedelta(hours=1), "status", "To Do", "In Progress")
        collect(store, settings, FIRST + timedelta(hours=2))
        jql = fake.sent("GET", r"/rest/api/2/search/jql")[-1].query["jql"][0]
    assert 'updated >= "2026-03-04 00:45"' in jql
    items = queries.backlog_items(store, "ds").set_index("key")
    assert items.loc["DS-7", "status"] == "In Progress"


def test_auth_headers_of_each_deployment(store: Store, jira: FakeJiraAgile) -> None:
    collect(store, source(jira), FIRST)
    collect(store, source(jira), FIRST + timedelta(hours=1))  # incremental: GET /myself too
    headers = {r.headers.get("authorization") for r in jira.requests}
    if jira.cloud:  # e-mail + API token, basic
        basic = base64.b64encode(f"{jira.email}:{TOKEN}".encode()).decode()
        assert headers == {f"Basic {basic}"}
    else:  # personal access token, bearer
        assert headers == {f"Bearer {TOKEN}"}
    assert jira.sent("GET", r"/rest/api/2/myself")
    assert {r.headers.get("user-agent") for r in jira.requests} == {"dspo"}


def test_status_categories_override(store: Store, jira: FakeJiraAgile) -> None:
    """Forcing 'Ready for release' to done: DS-5 is done at sprint 11's close for dspo too,
    as it is on Jira's board; completed becomes 3 + 2 + 2 = 7, Jira's figure."""
    collect(store, source(jira, status_categories={"ready for release": "done"}), FIRST)
    velocity = sprint_velocity(queries.sprints(store, "ds"), queries.backlog_items(store, "ds"),
                               queries.item_events(store, "ds"), as_of=FIRST)
    assert velocity.set_index("external_id").loc["11", "completed"] == 7.0


def test_a_refused_sprint_report_costs_only_the_comparison(store: Store, caplog: Any) -> None:
    with FakeJiraAgile(token=TOKEN) as fake:
        seed_team(fake)
        fake.reports_refused = True
        collect(store, source(fake), FIRST)
    assert sprint_report(store, "ds", "11") is None
    assert len(queries.backlog_items(store, "ds")) == 7
    assert "no sprint report for sprint 11 of board 1" in caplog.text
