"""The github_issues collector through PyGithub against a fake GitHub REST and GraphQL API
on 127.0.0.1 (`tests/fakes/fake_github_api.py`, answering as documented at
https://docs.github.com/en/rest/issues/issues, /rest/issues/timeline,
/rest/issues/milestones and https://docs.github.com/en/graphql).

The sprint scenario at the top is checked all the way to the Sprint page's numbers:
velocity and burndown computed by `kpis` from what the store holds, against figures worked
out by hand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from fake_github_api import FakeGithubApi
from fake_http import Reply

from collectors.base import FatalSourceError
from collectors.github_issues import GithubIssuesCollector, milestone_sprints
from collectors.runner import run_sources
from config.sources.github import GithubIssuesSource
from kpis.burndown import burndown
from kpis.velocity import sprint_velocity
from store import queries
from store.db import Store
from store.records import BacklogItem, ItemEvent, ItemField, Present, Sprint, StatusCategory

TOKEN = "ghp_fakeIssuesToken987654"
REPO = "acme/churn"
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # "now": the first collection
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeGithubApi]:
    with FakeGithubApi(token=TOKEN) as server:
        yield server


def source(fake: FakeGithubApi, **overrides: Any) -> GithubIssuesSource:
    settings: dict[str, Any] = {"name": "ghi", "kind": "github_issues", "product": "churn",
                                "api_url": fake.api_url, "token": TOKEN, "repo": REPO,
                                **overrides}
    return GithubIssuesSource(**settings)


def collect(settings: GithubIssuesSource, since: datetime | None = None,
            until: datetime = T0) -> list[Any]:
    return list(GithubIssuesCollector(settings).collect(since, until))


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def of(records: list[Any], kind: type) -> list[Any]:
    return [r for r in records if isinstance(r, kind)]


# ------------------------------------------------------------ the sprint scenario
#
# Sprint 1: milestone due 02-16 09:00, closed 02-16 10:00; first milestone, so it starts
#   sprint_days (14) before its due date: 02-02 09:00.
# Sprint 2: milestone due 03-02 09:00, open; starts at Sprint 1's due date, 02-16 09:00.
# #1 A: 3 points, Sprint 1 from its creation (01-30); closed 02-10.
# #2 B: 5 points, Sprint 1 from 01-30; closed 02-12, reopened 02-13; moved to Sprint 2 when
#   Sprint 1 closed (02-16 10:00); closed 02-20.
# #3 C: created 02-05 in Sprint 1 with 2 points (added mid-sprint); closed 02-14.
# #4 D: 8 points, moved into Sprint 2 on 02-10; re-estimated to 5 on 02-18 (two label
#   changes in one second); open.
# #5: a pull request in Sprint 2, which is not a backlog item.
#
# Velocity, by hand (kpis.velocity's rules):
#   Sprint 1: commitment = A 3 + B 5 = 8 (in it and not done at 02-02 09:00); completed at
#   its close = A 3 + C 2 = 5 (B is carried to Sprint 2 at the close, not done: counts in
#   the end snapshot, not completed, not removed); added 1 (C), removed 0.
#   Sprint 2 (active, as of 03-02 09:00): commitment = D 8 (B arrives an hour after the
#   start); completed = B 5; added 1 (B), removed 0.
# Burndown: Sprint 1 ends with scope 10 (A, B, C), completed 5, remaining 5; Sprint 2
#   starts at scope 8 and ends at scope 10 (B +5, D 8 -> 5), completed 5, remaining 5.


def sprint_world(fake: FakeGithubApi) -> None:
    fake.add_milestone(REPO, "Sprint 1", t("2026-02-16 09:00"), state="closed",
                       closed_at=t("2026-02-16 10:00"), description="Ship the scorer")
    fake.add_milestone(REPO, "Sprint 2", t("2026-03-02 09:00"))
    a = fake.add_issue(REPO, "A", created=t("2026-01-30 10:00"), labels=("points:3",),
                       milestone="Sprint 1")
    fake.close(REPO, a, t("2026-02-10 10:00"))
    b = fake.add_issue(REPO, "B", created=t("2026-01-30 10:00"), labels=("points:3",),
                       milestone="Sprint 1")
    fake.unlabel(REPO, b, "points:3", t("2026-01-31 10:00"))
    fake.label(REPO, b, "points:5", t("2026-01-31 10:00"))
    fake.close(REPO, b, t("2026-02-12 10:00"))
    fake.reopen(REPO, b, t("2026-02-13 10:00"))
    fake.set_milestone(REPO, b, "Sprint 2", t("2026-02-16 10:00"))
    fake.close(REPO, b, t("2026-02-20 10:00"))
    c = fake.add_issue(REPO, "C", created=t("2026-02-05 10:00"), labels=("points:2", "bug"),
                       milestone="Sprint 1")
    fake.close(REPO, c, t("2026-02-14 10:00"))
    d = fake.add_issue(REPO, "D", created=t("2026-01-30 10:00"), labels=("points:8",))
    fake.set_milestone(REPO, d, "Sprint 2", t("2026-02-10 10:00"))
    fake.unlabel(REPO, d, "points:8", t("2026-02-18 10:00"))
    fake.label(REPO, d, "points:5", t("2026-02-18 10:00"))
    fake.cross_reference(REPO, d, t("2026-02-19 10:00"))
    fake.add_issue(REPO, "PR", created=t("2026-02-17 10:00"), milestone="Sprint 2",
                   pull_request=True)


def test_velocity_and_burndown_from_what_was_stored(store: Store, fake: FakeGithubApi) -> None:
    sprint_world(fake)
    [result] = run_sources(store, [source(fake)], clock=at(T0))
    assert result.status == "ok", result.error
    sprints = queries.sprints(store, "churn")
    items = queries.backlog_items(store, "churn")
    events = queries.item_events(store, "churn")
    assert list(items["key"]) == ["churn#1", "churn#2", "churn#4", "churn#3"]  # by created
    assert list(sprints["name"]) == ["Sprint 1", "Sprint 2"]
    assert list(sprints["state"]) == ["closed", "active"]
    assert list(sprints["start"]) == [t("2026-02-02 09:00"), t("2026-02-16 09:00")]
    velocity = sprint_velocity(sprints, items, events, as_of=T0).set_index("name")
    assert velocity.loc["Sprint 1", ["commitment", "completed"]].tolist() == [8.0, 5.0]
    assert velocity.loc["Sprint 1", ["added_mid_sprint", "removed_mid_sprint"]].tolist() == [1, 0]
    assert velocity.loc["Sprint 2", ["commitment", "completed"]].tolist() == [8.0, 5.0]
    assert velocity.loc["Sprint 2", ["added_mid_sprint", "removed_mid_sprint"]].tolist() == [1, 0]
    first, second = sprints["external_id"]
    one = burndown(sprints, items, events, first, as_of=T0)
    assert (one["scope"].iloc[0], one["scope"].iloc[-1]) == (8.0, 10.0)
    assert (one["completed"].iloc[-1], one["remaining"].iloc[-1]) == (5.0, 5.0)
    two = burndown(sprints, items, events, second, as_of=T0)
    assert (two["scope"].iloc[0], two["scope"].iloc[-1], two["completed"].iloc[-1]) == (
        8.0, 10.0, 5.0)


def test_a_closed_then_reopened_issue_has_a_status_event_each_time(fake: FakeGithubApi) -> None:
    sprint_world(fake)
    events = [e for e in of(collect(source(fake)), ItemEvent) if e.item_key == "churn#2"]
    status = [(e.ts, e.from_value, e.to_value) for e in events if e.field is ItemField.STATUS]
    assert status == [(t("2026-02-12 10:00"), "open", "closed"),
                      (t("2026-02-13 10:00"), "closed", "open"),
                      (t("2026-02-20 10:00"), "open", "closed")]
    category = [(e.from_value, e.to_value) for e in events
                if e.field is ItemField.STATUS_CATEGORY]
    assert category == [("todo", "done"), ("done", "todo"), ("todo", "done")]
    points = [(e.ts, e.from_value, e.to_value) for e in events if e.field is ItemField.POINTS]
    assert points == [(t("2026-01-30 10:00"), None, "3"), (t("2026-01-31 10:00"), "3", "5")]
    sprint = [(e.ts, e.from_value, e.to_value) for e in events if e.field is ItemField.SPRINT]
    assert sprint == [(t("2026-01-30 10:00"), None, f"{REPO}/milestones/1"),
                      (t("2026-02-16 10:00"), f"{REPO}/milestones/1", f"{REPO}/milestones/2")]


def test_issues_become_items_by_the_configured_rules(fake: FakeGithubApi) -> None:
    epic = fake.add_issue(REPO, "Onboarding", created=T0 - 9 * DAY, issue_type="Epic")
    fake.add_issue(REPO, "Sub", created=T0 - 8 * DAY, parent=epic, labels=("size: M",))
    fake.add_issue(REPO, "Bug", created=T0 - 7 * DAY, labels=("bug", "epic:Billing", "wip"),
                   body="Hypothesis: h\r\nSuccess criterion: auc > 0.8\r\n")
    doing = fake.add_issue(REPO, "Taken", created=T0 - 6 * DAY, assignees=("alice",))
    dropped = fake.add_issue(REPO, "Dropped", created=T0 - 5 * DAY, labels=("enhancement",))
    fake.close(REPO, dropped, T0 - 4 * DAY, reason="not_planned")
    fake.add_issue(REPO, "A PR", created=T0 - 3 * DAY, pull_request=True)
    settings = source(fake, key_prefix="", points_labels={"size: M": 3},
                      in_progress_labels=["wip"], in_progress_when_assigned=True,
                      epic_label_prefix="epic:")
    items = {i.title: i for i in of(collect(settings), BacklogItem)}
    assert set(items) == {"Onboarding", "Sub", "Bug", "Taken", "Dropped"}
    assert (items["Onboarding"].key, items["Onboarding"].type) == ("#1", "Epic")
    assert (items["Sub"].epic, items["Sub"].points, items["Sub"].type) == ("#1", 3.0, "Issue")
    bug = items["Bug"]
    assert (bug.type, bug.epic, bug.status, bug.status_category) == (
        "Bug", "Billing", "in progress", StatusCategory.IN_PROGRESS)
    assert bug.labels == ("bug", "epic:Billing", "wip") and bug.url.endswith("/issues/3")
    assert items["Taken"].status_category is StatusCategory.IN_PROGRESS
    # the body is the description (stripped); an empty body is none
    assert bug.description == "Hypothesis: h\r\nSuccess criterion: auc > 0.8"
    assert items["Taken"].description is None
    gone = items["Dropped"]
    assert (gone.type, gone.status, gone.status_category, gone.resolved) == (
        "Story", "closed (not planned)", StatusCategory.DONE, T0 - 4 * DAY)
    assert items["Taken"].key == f"#{doing}"


def test_work_starts_when_an_in_progress_label_or_an_assignee_arrives(
    fake: FakeGithubApi,
) -> None:
    n = fake.add_issue(REPO, "Work", created=T0 - 5 * DAY)
    fake.assign(REPO, n, "alice", T0 - 4 * DAY)
    fake.label(REPO, n, "doing", T0 - 3 * DAY)
    fake.close(REPO, n, T0 - 2 * DAY)
    by_label = of(collect(source(fake, in_progress_labels=["doing"])), ItemEvent)
    assert [(e.ts, e.to_value) for e in by_label if e.field is ItemField.STATUS_CATEGORY] == [
        (T0 - 3 * DAY, "in_progress"), (T0 - 2 * DAY, "done")]
    by_assignee = of(collect(source(fake, in_progress_when_assigned=True)), ItemEvent)
    assert [(e.ts, e.from_value, e.to_value) for e in by_assignee
            if e.field is ItemField.STATUS] == [(T0 - 4 * DAY, "open", "in progress"),
                                                (T0 - 2 * DAY, "in progress", "closed")]


def test_a_current_value_the_timeline_does_not_explain_is_recorded_at_the_last_update(
    fake: FakeGithubApi,
) -> None:
    """A label renamed on GitHub keeps its old name in past events."""
    n = fake.add_issue(REPO, "Renamed", created=T0 - 5 * DAY, labels=("estimate 2",))
    issue = fake.repo(REPO).issues[n]
    issue["labels"] = [{"name": "points:2"}]
    issue["updated_at"] = "2026-03-01T12:00:00Z"
    events = of(collect(source(fake)), ItemEvent)
    assert [(e.ts, e.field, e.from_value, e.to_value) for e in events] == [
        (t("2026-03-01 12:00"), ItemField.POINTS, None, "2")]


def test_milestones_as_sprints_start_at_the_previous_due_date_within_sprint_days() -> None:
    def milestone(number: int, due: str | None, state: str = "open") -> dict[str, Any]:
        return {"number": number, "title": f"M{number}", "state": state,
                "due_on": f"{due}T07:00:00Z" if due else None,
                "closed_at": "2026-02-02T08:00:00Z" if state == "closed" else None}

    sprints = milestone_sprints("p", REPO, [
        milestone(1, "2026-02-02", "closed"), milestone(2, "2026-02-16"),
        milestone(3, "2026-06-01"), milestone(4, None)], sprint_days=14, until=T0)
    by = {s.name: s for s in sprints}
    assert (by["M1"].start, by["M1"].state) == (t("2026-01-19 07:00"), "closed")
    assert by["M1"].completed == t("2026-02-02 08:00")
    assert (by["M2"].start, by["M2"].end, by["M2"].state) == (
        t("2026-02-02 07:00"), t("2026-02-16 07:00"), "active")
    assert (by["M3"].start, by["M3"].state) == (t("2026-05-18 07:00"), "future")  # capped
    assert (by["M4"].start, by["M4"].end, by["M4"].state) == (None, None, "future")


def test_milestone_pattern_keeps_releases_out_of_sprints(fake: FakeGithubApi) -> None:
    fake.add_milestone(REPO, "Sprint 7", T0 + 3 * DAY)
    fake.add_milestone(REPO, "v2.0", T0 + 30 * DAY)
    fake.add_issue(REPO, "Release note", created=T0 - DAY, milestone="v2.0")
    records = collect(source(fake, milestone_pattern="^Sprint "))
    assert [s.name for s in of(records, Sprint)] == ["Sprint 7"]
    assert of(records, BacklogItem)[0].sprint is None
    assert not [e for e in of(records, ItemEvent) if e.field is ItemField.SPRINT]


# ------------------------------------------------------------ pages, incremental reads


def test_pages_are_followed_over_three_pages(store: Store, fake: FakeGithubApi) -> None:
    for i in range(250):
        fake.add_issue(REPO, f"Issue {i}", created=T0 - DAY + i * timedelta(minutes=1))
    busy = fake.add_issue(REPO, "Busy", created=T0 - DAY)
    for i in range(120):  # a timeline of more than 100 events: two pages
        fake.label(REPO, busy, f"l{i}", T0 - HOUR + i * timedelta(seconds=1))
    [result] = run_sources(store, [source(fake)], clock=at(T0))
    assert result.status == "ok", result.error
    pages = fake.sent("GET", rf"/api/v3/repos/{REPO}/issues")
    assert [r.query.get("page", ["1"])[0] for r in pages] == ["1", "2", "3"]
    assert len(fake.sent("GET", rf"/api/v3/repos/{REPO}/issues/{busy}/timeline")) == 2
    assert len(queries.backlog_items(store, "churn")) == 251


def test_later_runs_read_only_updated_issues_and_their_timelines(fake: FakeGithubApi) -> None:
    sprint_world(fake)
    collect(source(fake))
    fake.requests.clear()
    fake.close(REPO, 4, T0 + HOUR)
    records = collect(source(fake), since=T0, until=T0 + 2 * HOUR)
    listing = fake.sent("GET", rf"/api/v3/repos/{REPO}/issues")
    assert listing[0].query["since"] == ["2026-03-02T08:50:00Z"]  # watermark less overlap
    assert [r.path for r in fake.sent("GET", r".*/timeline")] == [
        f"/api/v3/repos/{REPO}/issues/4/timeline"]
    assert [i.key for i in of(records, BacklogItem)] == ["churn#4"]
    assert [(e.field, e.to_value) for e in of(records, ItemEvent)][:2] == [
        (ItemField.POINTS, "8"), (ItemField.SPRINT, f"{REPO}/milestones/2")]


def test_a_first_run_reads_timelines_only_of_recent_issues(fake: FakeGithubApi) -> None:
    old = fake.add_issue(REPO, "Old", created=T0 - 200 * DAY, labels=("points:1",))
    fake.close(REPO, old, T0 - 150 * DAY)
    fake.add_issue(REPO, "New", created=T0 - 10 * DAY, labels=("points:2",))
    records = collect(source(fake, history_days=90))
    assert len(of(records, BacklogItem)) == 2
    assert [r.path for r in fake.sent("GET", r".*/timeline")] == [
        f"/api/v3/repos/{REPO}/issues/2/timeline"]


def test_a_rerun_with_nothing_new_writes_no_rows(store: Store, fake: FakeGithubApi) -> None:
    sprint_world(fake)
    settings = source(fake)
    first = run_sources(store, [settings], clock=at(T0))[0]
    again = run_sources(store, [settings], clock=at(T0 + HOUR))[0]
    reconciled = run_sources(store, [settings], clock=at(T0 + DAY))[0]
    assert first.status == again.status == reconciled.status == "ok"
    assert first.rows > 0 and (again.rows, reconciled.rows) == (0, 0)
    assert again.records > 0  # the milestones, listed in full every run


# ------------------------------------------------------------ deletions


def test_a_deleted_issue_leaves_the_store_at_the_next_reconciliation(
    store: Store, fake: FakeGithubApi
) -> None:
    sprint_world(fake)
    settings = source(fake)
    run_sources(store, [settings], clock=at(T0))
    fake.delete_issue(REPO, 3)
    run_sources(store, [settings], clock=at(T0 + HOUR))
    assert "churn#3" in set(queries.backlog_items(store, "churn")["key"])
    [result] = run_sources(store, [settings], clock=at(T0 + DAY))
    assert result.status == "ok" and result.rows == 1
    assert set(queries.backlog_items(store, "churn")["key"]) == {"churn#1", "churn#2", "churn#4"}
    assert "churn#3" not in set(queries.item_events(store, "churn")["item_key"])
    graphql = fake.sent("POST", "/api/graphql")
    assert len(graphql) == 2  # the first run and the daily reconciliation list every number
    assert all("issues(" in g.body["query"] for g in graphql)


def test_a_deleted_milestone_leaves_the_store_at_the_next_run(store: Store,
                                                             fake: FakeGithubApi) -> None:
    sprint_world(fake)
    settings = source(fake)
    run_sources(store, [settings], clock=at(T0))
    del fake.repo(REPO).milestones[1]
    [result] = run_sources(store, [settings], clock=at(T0 + HOUR))
    assert result.rows == 1 and list(queries.sprints(store, "churn")["name"]) == ["Sprint 2"]


def test_a_count_that_disagrees_with_the_listing_deletes_nothing(fake: FakeGithubApi) -> None:
    sprint_world(fake)
    original = fake._issue_numbers

    def overcounted(variables: dict[str, Any]) -> Reply:
        reply = original(variables)
        reply.body["data"]["repository"]["issues"]["totalCount"] += 1
        return reply

    fake._issue_numbers = overcounted  # type: ignore[method-assign]
    records = collect(source(fake), since=T0 - HOUR, until=T0 + DAY)
    assert [p.entity.value for p in of(records, Present)] == ["sprint"]


# ------------------------------------------------------------ Projects (v2)


def project_world(fake: FakeGithubApi) -> None:
    fake.add_project("organization", "acme", 3, iteration_field="Iteration", completed=[
        {"id": "it1", "title": "Iteration 1", "startDate": "2026-02-09", "duration": 14}],
        iterations=[{"id": "it2", "title": "Iteration 2", "startDate": "2026-02-23",
                     "duration": 14},
                    {"id": "it3", "title": "Iteration 3", "startDate": "2026-03-09",
                     "duration": 14}])
    a = fake.add_issue(REPO, "A", created=t("2026-01-30 10:00"), labels=("points:1",))
    b = fake.add_issue(REPO, "B", created=t("2026-01-30 10:00"))
    fake.close(REPO, b, t("2026-02-10 10:00"))
    fake.add_issue(REPO, "Not on the board", created=t("2026-01-30 10:00"))
    fake.set_item("organization", "acme", 3, REPO, a, Iteration="it2", Estimate=5,
                  Status="In Review", Kind="Spike")
    fake.set_item("organization", "acme", 3, REPO, b, Iteration="it1", Estimate=3,
                  Status="Done")
    fake.set_item("organization", "acme", 3, "acme/other", 1, Iteration="it1", Estimate=8)


def test_a_projects_iteration_field_gives_sprints_points_type_and_status(
    store: Store, fake: FakeGithubApi
) -> None:
    project_world(fake)
    project = {"owner": "acme", "number": 3, "points_field": "Estimate", "type_field": "Kind",
               "status_field": "Status", "status_categories": {"In Review": "in_progress",
                                                               "Done": "done"}}
    settings = source(fake, sprints="project", project=project)
    [result] = run_sources(store, [settings], clock=at(T0))
    assert result.status == "ok", result.error
    sprints = queries.sprints(store, "churn").set_index("name")
    assert list(sprints["state"]) == ["closed", "active", "future"]
    assert sprints.loc["Iteration 2", "start"] == t("2026-02-23 00:00")
    assert sprints.loc["Iteration 2", "end"] == t("2026-03-09 00:00")
    assert sprints.loc["Iteration 1", "completed"] == t("2026-02-23 00:00")
    items = queries.backlog_items(store, "churn").set_index("title")
    assert items.loc["A", ["points", "type", "status", "status_category"]].tolist() == [
        5.0, "Spike", "In Review", "in_progress"]
    assert items.loc["A", "sprint"] == "acme/projects/3/iterations/it2"
    assert items.loc["B", ["points", "status", "status_category"]].tolist() == [
        3.0, "closed", "done"]
    assert pd.isna(items.loc["Not on the board", "sprint"])
    assert pd.isna(items.loc["Not on the board", "points"])  # no label gives it points either
    velocity = sprint_velocity(queries.sprints(store, "churn"), queries.backlog_items(
        store, "churn"), queries.item_events(store, "churn"), as_of=T0).set_index("name")
    assert velocity.loc["Iteration 1", "completed"] == 3.0
    assert velocity.loc["Iteration 2", "commitment"] == 5.0


def test_a_missing_project_fails_with_githubs_words(fake: FakeGithubApi) -> None:
    project_world(fake)
    settings = source(fake, sprints="project", project={"owner": "acme", "number": 9})
    with pytest.raises(FatalSourceError, match="Could not resolve to a ProjectV2 with the "
                                               "number 9") as caught:
        collect(settings)
    assert "'ghi'" in str(caught.value)


# ------------------------------------------------------------ failures


def test_a_500_is_retried_then_succeeds(fake: FakeGithubApi) -> None:
    sprint_world(fake)
    fake.fail_next(502, {"message": "Bad gateway"})
    assert len(of(collect(source(fake)), BacklogItem)) == 4


def test_a_429_waits_as_long_as_retry_after_says(fake: FakeGithubApi) -> None:
    sprint_world(fake)
    fake.fail_next(429, {"message": "Too many requests"}, headers={"Retry-After": "2"})
    t0 = time.monotonic()
    assert len(of(collect(source(fake)), BacklogItem)) == 4
    assert time.monotonic() - t0 >= 2.0


def test_a_dripping_answer_is_cut_at_the_deadline_and_other_sources_still_run(
    store: Store, fake: FakeGithubApi
) -> None:
    sprint_world(fake)
    with FakeGithubApi(token=TOKEN) as healthy:
        sprint_world(healthy)
        fake.drip(0.2)
        results = run_sources(store, [source(fake, deadline=timedelta(seconds=3)),
                                      source(healthy, name="ghi-ok", product="other")],
                              clock=at(T0))
    by_name = {r.source: r for r in results}
    assert by_name["ghi"].status == "failed" and "deadline of 3s" in (by_name["ghi"].error or "")
    assert by_name["ghi-ok"].status == "ok" and by_name["ghi-ok"].rows > 0
    assert by_name["ghi"].seconds < 3 + 2 + 1


def test_a_malformed_timeline_fails_clearly_and_is_not_retried(fake: FakeGithubApi) -> None:
    sprint_world(fake)
    fake.route("GET", rf"/api/v3/repos/{REPO}/issues/\d+/timeline",
               lambda _r, _m: Reply(200, '[{"event": "closed", "created_at": '))
    fake._routes.insert(0, fake._routes.pop())
    with pytest.raises(FatalSourceError, match=r"timeline \(page 1\): the answer is not valid "
                                               r"JSON"):
        collect(source(fake))
    assert len(fake.sent("GET", r".*/timeline")) == 1


def test_a_401_names_the_source_url_and_what_to_check_never_the_token(
    store: Store, fake: FakeGithubApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sprint_world(fake)
    fake.token = "rotated"
    [result] = run_sources(store, [source(fake)], clock=at(T0))
    error = result.error or ""
    assert result.status == "failed" and "source 'ghi'" in error
    assert f"{fake.api_url}/repos/{REPO}" in error and "HTTP 401" in error
    assert "check the source's credentials" in error
    assert TOKEN not in error and TOKEN not in caplog.text
    assert len(fake.requests) == 1
