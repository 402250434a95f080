"""The github_actions collector through PyGithub against a fake GitHub REST API on 127.0.0.1
(`tests/fakes/fake_github_api.py`, answering as documented at
https://docs.github.com/en/rest/actions/workflow-runs and
https://docs.github.com/en/rest/actions/workflow-jobs).

End-to-end cases go through `collectors.runner.run_sources` into the store, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fake_github_api import FakeGithubApi
from github import GithubException, RateLimitExceededException

from collectors.base import FatalSourceError, RetriableSourceError, reconcile_due
from collectors.github_actions import GithubActionsCollector, run_state
from collectors.retry import SECONDARY_LIMIT_WAIT, failure_of
from collectors.runner import run_sources
from config.sources.github import GithubActionsSource
from store import queries
from store.db import Store
from store.records import PipelineRun, PipelineState, PipelineTask, Point, Present

TOKEN = "ghp_fakeToken0123456789"
REPO = "acme/churn"
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday; runs are created before it
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@pytest.fixture
def fake() -> Iterator[FakeGithubApi]:
    with FakeGithubApi(token=TOKEN) as server:
        yield server


def source(fake: FakeGithubApi, **overrides: Any) -> GithubActionsSource:
    settings: dict[str, Any] = {"name": "gha", "kind": "github_actions", "product": "churn",
                                "api_url": fake.api_url, "token": TOKEN, "repos": [REPO],
                                **overrides}
    return GithubActionsSource(**settings)


def collect(settings: GithubActionsSource, since: datetime | None = None,
            until: datetime = T0) -> list[Any]:
    return list(GithubActionsCollector(settings).collect(since, until))


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def world(fake: FakeGithubApi, runs: int = 6) -> dict[str, int]:
    """CI runs each hour before T0 (the third one failed in job 'test'), one Deploy run."""
    ci = fake.add_workflow(REPO, "CI", ".github/workflows/ci.yml")
    deploy = fake.add_workflow(REPO, "Deploy", ".github/workflows/deploy.yml")
    ids = {f"ci{i}": fake.add_run(REPO, ci, created=T0 - (i + 1) * HOUR,
                                  conclusion="failure" if i == 2 else "success")
           for i in range(runs)}
    fake.add_job(REPO, ids["ci2"], "lint", "success", T0 - 3 * HOUR)
    fake.add_job(REPO, ids["ci2"], "test", "failure", T0 - 3 * HOUR, minutes=4)
    ids["deploy"] = fake.add_run(REPO, deploy, created=T0 - 30 * timedelta(minutes=1),
                                 branch="release", event="workflow_dispatch", actor="alice")
    return ids


# ------------------------------------------------------------ mapping


@pytest.mark.parametrize(
    ("status", "conclusion", "state"),
    [
        ("completed", "success", PipelineState.SUCCESS),
        ("completed", "failure", PipelineState.FAILED),
        ("completed", "timed_out", PipelineState.FAILED),
        ("completed", "startup_failure", PipelineState.FAILED),
        ("completed", "cancelled", PipelineState.CANCELLED),
        ("completed", "skipped", PipelineState.SKIPPED),
        ("completed", "neutral", PipelineState.SKIPPED),
        ("queued", None, PipelineState.QUEUED),
        ("waiting", None, PipelineState.QUEUED),
        ("requested", None, PipelineState.QUEUED),
        ("pending", None, PipelineState.QUEUED),
        ("in_progress", None, PipelineState.RUNNING),
        ("completed", "something_new", None),
    ],
)
def test_github_states_map_to_dspo_states(status: str, conclusion: str | None,
                                          state: PipelineState | None) -> None:
    assert run_state(status, conclusion) is state


def test_runs_become_pipeline_runs_with_githubs_words_kept(fake: FakeGithubApi) -> None:
    ids = world(fake)
    fake.add_run(REPO, fake.add_workflow(REPO, "Nightly", ".github/workflows/n.yml"),
                 created=T0 - 10 * timedelta(minutes=1), status="in_progress")
    records = collect(source(fake))
    runs = {r.run_id: r for r in records if isinstance(r, PipelineRun)}
    failed = runs[f"{REPO}/{ids['ci2']}"]
    assert (failed.system, failed.pipeline, failed.state) == ("github_actions", "CI",
                                                              PipelineState.FAILED)
    assert failed.start == T0 - 3 * HOUR and failed.end == T0 - 3 * HOUR + 5 * timedelta(minutes=1)
    assert (failed.run_type, failed.attempt, failed.branch, failed.trigger) == (
        "push", 1, "main", "octocat")
    assert failed.url == f"https://github.com/{REPO}/actions/runs/{ids['ci2']}"
    assert failed.detail["status"] == "completed" and failed.detail["conclusion"] == "failure"
    assert failed.detail["event"] == "push" and len(failed.detail["head_sha"]) == 40
    assert failed.detail["workflow_path"] == ".github/workflows/ci.yml"
    deploy = runs[f"{REPO}/{ids['deploy']}"]
    assert (deploy.pipeline, deploy.branch, deploy.run_type, deploy.trigger) == (
        "Deploy", "release", "workflow_dispatch", "alice")
    running = next(r for r in runs.values() if r.pipeline == "Nightly")
    assert running.state is PipelineState.RUNNING and running.end is None
    # jobs only of the failed run; durations only of successful runs
    tasks = [r for r in records if isinstance(r, PipelineTask)]
    assert {(t.run_id, t.task_id, t.state, t.duration) for t in tasks} == {
        (failed.run_id, "lint", "success", 120.0), (failed.run_id, "test", "failure", 240.0)}
    points = [r for r in records if isinstance(r, Point)]
    assert len(points) == 6 and {p.value for p in points} == {300.0}
    assert all(p.name == "duration_seconds" and p.labels["pipeline"] in ("CI", "Deploy")
               for p in points)
    assert {r.headers["authorization"] for r in fake.requests} == {f"token {TOKEN}"}


def test_workflow_and_branch_filters_and_repo_in_pipeline_names(fake: FakeGithubApi) -> None:
    world(fake)
    by_file = collect(source(fake, workflows=["deploy.yml"]))
    assert {r.pipeline for r in by_file if isinstance(r, PipelineRun)} == {"Deploy"}
    by_name = collect(source(fake, workflows=["CI"], branches=["main"]))
    assert {r.pipeline for r in by_name if isinstance(r, PipelineRun)} == {"CI"}
    by_branch = collect(source(fake, branches=["release"], repo_in_pipeline=True))
    assert {r.pipeline for r in by_branch if isinstance(r, PipelineRun)} == {f"{REPO}: Deploy"}


def test_runs_of_several_repositories(fake: FakeGithubApi) -> None:
    world(fake)
    other = fake.add_workflow("acme/infra", "CI", ".github/workflows/ci.yml")
    fake.add_run("acme/infra", other, created=T0 - HOUR)
    records = collect(source(fake, repos=[REPO, "acme/infra"]))
    ids = {r.run_id.rsplit("/", 1)[0] for r in records if isinstance(r, PipelineRun)}
    assert ids == {REPO, "acme/infra"}


# ------------------------------------------------------------ pages and the incremental rule


def test_pages_are_followed_over_three_pages(store: Store, fake: FakeGithubApi) -> None:
    world(fake, runs=250)  # 251 runs created in the last 251 hours: 3 pages of 100
    [result] = run_sources(store, [source(fake, keep_days=30)], clock=at(T0))
    assert result.status == "ok", result.error
    pages = fake.sent("GET", rf"/api/v3/repos/{REPO}/actions/runs")
    assert [r.query.get("page", ["1"])[0] for r in pages] == ["1", "2", "3"]
    assert all(r.query["per_page"] == ["100"] for r in pages)
    stored = queries.pipeline_runs(store, "churn")
    assert len(stored) == 251 and set(stored["system"]) == {"github_actions"}
    tasks = queries.pipeline_tasks(store, "churn", T0 - 30 * DAY, T0, states=["failure"])
    assert list(tasks["task_id"]) == ["test"] and tasks["run_state"].iloc[0] == "failed"


def test_only_runs_created_or_updated_since_the_watermark_less_overlap_are_read(
    fake: FakeGithubApi,
) -> None:
    ci = fake.add_workflow(REPO, "CI", ".github/workflows/ci.yml")
    for i in range(300):  # one an hour, each done in 5 minutes
        fake.add_run(REPO, ci, created=T0 - (i + 1) * HOUR)
    long_one = fake.add_run(REPO, ci, created=T0 - 150 * HOUR, minutes=149 * 60)  # ended 1h ago
    since = T0 - 2 * HOUR
    records = collect(source(fake, overlap=timedelta(hours=3)), since=since)
    runs = {r.run_id for r in records if isinstance(r, PipelineRun)}
    # created in the 5 hours before T0, and the long run that ended after the cutoff
    assert len(runs) == 6 and f"{REPO}/{long_one}" in runs
    pages = fake.sent("GET", rf"/api/v3/repos/{REPO}/actions/runs")
    assert len(pages) == 3  # page 2 holds the long run; page 3 nothing recent: the end


def test_a_first_run_reads_keep_days_back(fake: FakeGithubApi) -> None:
    ci = fake.add_workflow(REPO, "CI", ".github/workflows/ci.yml")
    for day in range(1, 11):
        fake.add_run(REPO, ci, created=T0 - day * DAY)
    records = collect(source(fake, keep_days=7))
    assert len([r for r in records if isinstance(r, PipelineRun)]) == 7  # days 1..7


def test_a_first_run_reads_the_jobs_of_last_weeks_failures_only(fake: FakeGithubApi) -> None:
    ci = fake.add_workflow(REPO, "CI", ".github/workflows/ci.yml")
    recent = fake.add_run(REPO, ci, created=T0 - 2 * DAY, conclusion="failure")
    old = fake.add_run(REPO, ci, created=T0 - 20 * DAY, conclusion="timed_out")
    for run in (recent, old):
        fake.add_job(REPO, run, "test", "failure", T0 - 2 * DAY)
    records = collect(source(fake))
    assert {r.run_id for r in records if isinstance(r, PipelineTask)} == {f"{REPO}/{recent}"}
    assert [r.path for r in fake.sent("GET", r".*/jobs")] == [
        f"/api/v3/repos/{REPO}/actions/runs/{recent}/jobs"]
    assert fake.sent("GET", r".*/jobs")[0].query["filter"] == ["latest"]


# ------------------------------------------------------------ re-runs, deletions


def test_a_rerun_with_nothing_new_writes_no_rows(store: Store, fake: FakeGithubApi) -> None:
    world(fake)
    settings = source(fake)
    first = run_sources(store, [settings], clock=at(T0))[0]
    again = run_sources(store, [settings], clock=at(T0 + HOUR))[0]  # incremental
    reconciled = run_sources(store, [settings], clock=at(T0 + DAY))[0]  # lists everything
    assert first.status == again.status == reconciled.status == "ok"
    assert first.rows > 0 and first.records > 0
    assert (again.rows, reconciled.rows) == (0, 0)
    assert again.records > 0 and reconciled.records >= again.records  # reads, writes nothing


def test_a_run_deleted_on_github_leaves_the_store_at_the_next_reconciliation(
    store: Store, fake: FakeGithubApi
) -> None:
    ids = world(fake)
    settings = source(fake)
    assert run_sources(store, [settings], clock=at(T0))[0].status == "ok"
    fake.delete_run(REPO, ids["ci2"])  # the failed one, with its jobs
    fake.delete_run(REPO, ids["ci5"])
    later = run_sources(store, [settings], clock=at(T0 + HOUR))[0]  # not a reconciliation
    assert later.rows == 0 and len(queries.pipeline_runs(store, "churn")) == 7
    [result] = run_sources(store, [settings], clock=at(T0 + DAY))
    assert result.status == "ok" and result.rows == 2  # two runs (their jobs go with them)
    stored = set(queries.pipeline_runs(store, "churn")["run_id"])
    assert f"{REPO}/{ids['ci2']}" not in stored and f"{REPO}/{ids['ci5']}" not in stored
    assert len(stored) == 5
    assert queries.pipeline_tasks(store, "churn", T0 - DAY, T0).empty


def test_runs_older_than_keep_days_leave_at_a_reconciliation(store: Store,
                                                            fake: FakeGithubApi) -> None:
    ci = fake.add_workflow(REPO, "CI", ".github/workflows/ci.yml")
    old = fake.add_run(REPO, ci, created=T0 - 6 * DAY)
    fake.add_run(REPO, ci, created=T0 - DAY)
    settings = source(fake, keep_days=7)
    run_sources(store, [settings], clock=at(T0))
    assert len(queries.pipeline_runs(store, "churn")) == 2
    run_sources(store, [settings], clock=at(T0 + 2 * DAY))
    assert f"{REPO}/{old}" not in set(queries.pipeline_runs(store, "churn")["run_id"])


def test_reconciliation_happens_once_per_period_whatever_the_interval() -> None:
    every = DAY
    spans = [(T0 + i * 15 * timedelta(minutes=1), T0 + (i + 1) * 15 * timedelta(minutes=1))
             for i in range(4 * 48)]  # two days of 15-minute runs
    assert sum(reconcile_due(a, b, every) for a, b in spans) == 2
    assert reconcile_due(None, T0, every)  # a first run lists everything
    assert reconcile_due(T0 - timedelta(minutes=1), T0, timedelta(0))  # 0s: every run


def test_a_listing_that_shrank_while_read_reflects_no_deletion(fake: FakeGithubApi) -> None:
    ci = fake.add_workflow(REPO, "CI", ".github/workflows/ci.yml")
    ids = [fake.add_run(REPO, ci, created=T0 - (i + 1) * HOUR) for i in range(150)]
    original = fake.list_runs

    def delete_after_page_one(request, match):  # type: ignore[no-untyped-def]
        reply = original(request, match)
        if request.query.get("page") is None:
            fake.delete_run(REPO, ids[0])  # read on page 1; page 2 now skips a run
        return reply

    fake._routes = [(m, p, delete_after_page_one if h == original else h)
                    for m, p, h in fake._routes]
    records = collect(source(fake), since=T0 - 2 * DAY, until=T0 + DAY)
    assert not [r for r in records if isinstance(r, Present)]


# ------------------------------------------------------------ failures


def test_a_500_is_retried_then_succeeds(fake: FakeGithubApi) -> None:
    world(fake)
    fake.fail_next(500, {"message": "Server Error"})
    assert len([r for r in collect(source(fake)) if isinstance(r, PipelineRun)]) == 7
    assert fake.requests[0].path == fake.requests[1].path  # the same request, again


def test_a_429_waits_as_long_as_retry_after_says(fake: FakeGithubApi) -> None:
    world(fake)
    fake.fail_next(429, {"message": "Too many requests"}, headers={"Retry-After": "2"})
    t0 = time.monotonic()
    assert len([r for r in collect(source(fake)) if isinstance(r, PipelineRun)]) == 7
    assert time.monotonic() - t0 >= 2.0


def test_a_secondary_rate_limit_is_waited_out(fake: FakeGithubApi) -> None:
    """https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
    #exceeding-the-rate-limit: 403 with Retry-After."""
    world(fake)
    fake.fail_next(403, {"message": "You have exceeded a secondary rate limit. Please wait a "
                                    "few minutes before you try again."},
                   headers={"retry-after": "1"})
    t0 = time.monotonic()
    assert len([r for r in collect(source(fake)) if isinstance(r, PipelineRun)]) == 7
    assert time.monotonic() - t0 >= 1.0


def test_an_exhausted_primary_limit_waits_for_the_reset(fake: FakeGithubApi) -> None:
    world(fake)
    reset = int(time.time()) + 2
    fake.fail_next(403, {"message": "API rate limit exceeded for user ID 1."},
                   headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
    collect(source(fake))
    assert time.time() >= reset


def test_rate_limit_exceptions_without_headers_wait_a_minute() -> None:
    """GitHub: without retry-after or x-ratelimit-reset, wait at least one minute."""
    secondary = RateLimitExceededException(
        403, {"message": "You have exceeded a secondary rate limit."}, {})
    failure = failure_of(secondary)
    assert failure is not None and failure.retriable and failure.retry_after == SECONDARY_LIMIT_WAIT
    assert "rate limit" in failure.reason
    forbidden = failure_of(GithubException(403, {"message": "Resource not accessible"}, {}))
    assert forbidden is not None and not forbidden.retriable


def test_a_low_budget_waits_for_the_reset_within_the_deadline(fake: FakeGithubApi) -> None:
    world(fake)
    fake.rate_remaining, fake.rate_reset = 20, int(time.time()) + 2
    collect(source(fake, rate_limit_reserve=50))
    assert time.time() >= fake.rate_reset


def test_a_low_budget_with_a_late_reset_fails_retriably(store: Store, fake: FakeGithubApi) -> None:
    world(fake)
    fake.rate_remaining, fake.rate_reset = 20, int(time.time()) + 3000
    [result] = run_sources(store, [source(fake, rate_limit_reserve=50)], clock=at(T0))
    assert result.status == "failed"
    error = result.error or ""
    assert "rate limit nearly used up" in error and "19 of 5000 requests left" in error
    assert "rate_limit_reserve is 50" in error and "'gha'" in error
    assert len(fake.requests) == 1  # the first answer said so; nothing more was asked
    with pytest.raises(RetriableSourceError):
        collect(source(fake, rate_limit_reserve=50))


def test_a_dripping_answer_is_cut_at_the_deadline_and_other_sources_still_run(
    store: Store, fake: FakeGithubApi
) -> None:
    world(fake)
    with FakeGithubApi(token=TOKEN) as healthy:
        world(healthy)
        fake.drip(0.2)  # a page of workflows takes minutes; each byte comes in 0.2 s
        slow = source(fake, deadline=timedelta(seconds=3))
        fine = source(healthy, name="gha-ok")
        t0 = time.monotonic()
        results = run_sources(store, [slow, fine], clock=at(T0))
        elapsed = time.monotonic() - t0
    by_name = {r.source: r for r in results}
    assert by_name["gha"].status == "failed" and "deadline of 3s" in (by_name["gha"].error or "")
    assert by_name["gha-ok"].status == "ok" and by_name["gha-ok"].rows > 0
    assert elapsed < 3 + 2 + 2, f"a 3 s deadline held the run for {elapsed:.1f} s"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ('{"total_count": 1, "workflows": [', "application/json", "not valid JSON"),
        ("<html><body>Bad gateway</body></html>", "text/html", "not JSON (starts '<html>"),
        ('{"message": "ok"}', "application/json", "expected an object with a 'workflows' list"),
    ],
    ids=["truncated", "html", "wrong-shape"],
)
def test_a_malformed_answer_fails_clearly_and_is_not_retried(
    fake: FakeGithubApi, body: str, content_type: str, expected: str
) -> None:
    from fake_http import Reply

    world(fake)
    fake.route("GET", rf"/api/v3/repos/{REPO}/actions/workflows",
               lambda _r, _m: Reply(200, body, content_type=content_type))
    fake._routes.insert(0, fake._routes.pop())  # ahead of the documented answer
    with pytest.raises(FatalSourceError) as caught:
        collect(source(fake))
    assert expected in str(caught.value) and "'gha'" in str(caught.value)
    assert len(fake.requests) == 1


def test_a_401_names_the_source_url_and_what_to_check_never_the_token(
    store: Store, fake: FakeGithubApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world(fake)
    fake.token = "another-token"
    [result] = run_sources(store, [source(fake)], clock=at(T0))
    error = result.error or ""
    assert result.status == "failed"
    assert "source 'gha'" in error and fake.api_url in error and "HTTP 401" in error
    assert "check the source's credentials" in error
    assert len(fake.requests) == 1  # not retried
    assert TOKEN not in error and TOKEN not in caplog.text
    assert queries.collector_status(store).set_index("source").loc["gha", "error"] == error


def test_a_missing_repository_is_a_clear_404(fake: FakeGithubApi) -> None:
    world(fake)
    with pytest.raises(FatalSourceError, match=r"HTTP 404.*check the URL and the names"):
        collect(source(fake, repos=["acme/nope"]))
