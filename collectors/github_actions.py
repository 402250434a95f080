"""GitHub Actions workflow runs as pipeline runs, and the jobs of failed runs as their tasks.

Endpoints (https://docs.github.com/en/rest/actions):
- GET /repos/{owner}/{repo}/actions/workflows
  (https://docs.github.com/en/rest/actions/workflows#list-repository-workflows): names by id.
- GET /repos/{owner}/{repo}/actions/runs
  (https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-repository)
- GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs?filter=latest
  (https://docs.github.com/en/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run)

Incremental rule. The run list is newest first and has no "updated since" filter; its
`created` filter caps any answer at 1,000 runs, silently, so it is not used. dspo reads pages
until one holds only runs created and last updated before the cutoff (the watermark less
`overlap`), and keeps the runs created or updated after it. A re-run keeps its run's
`created_at`: a re-run soon after the run is read again through its `updated_at`; a later
one, and a run still going `overlap` after it was created, get their final state at the
next reconciliation.

Reconciliation (every `reconcile_every`): the whole window of `keep_days` is read again,
every run in it is yielded (refreshing states) and a `Present` of the source's run ids
drops runs deleted on GitHub and runs older than the window. Pages shift while GitHub adds
or deletes runs: additions only repeat a run on the next page, but a deletion can make the
listing skip one; when the list's `total_count` shrank during the listing the `Present` is
left out and the next reconciliation does it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from collectors.base import Collector, reconcile_due
from collectors.github_common import GithubApi, login, parse_time
from config.sources.github import GithubActionsSource
from store.records import (
    Entity,
    PipelineRun,
    PipelineState,
    PipelineTask,
    Point,
    Present,
    Record,
    SeriesKind,
)

log = logging.getLogger(__name__)

SYSTEM = "github_actions"
FIRST_JOBS = timedelta(days=7)
"""On a first run, the jobs of failed runs of the last week are read, not of all history:
older failures are rarely looked into, and each costs a request."""

CONCLUSIONS: dict[str, PipelineState] = {
    "success": PipelineState.SUCCESS,
    "failure": PipelineState.FAILED,
    "timed_out": PipelineState.FAILED,
    "startup_failure": PipelineState.FAILED,
    "cancelled": PipelineState.CANCELLED,
    "stale": PipelineState.CANCELLED,
    "skipped": PipelineState.SKIPPED,
    "neutral": PipelineState.SKIPPED,
    "action_required": PipelineState.SKIPPED,  # waits for a maintainer's approval: never ran
}
STATUSES: dict[str, PipelineState] = {
    "queued": PipelineState.QUEUED,
    "waiting": PipelineState.QUEUED,
    "requested": PipelineState.QUEUED,
    "pending": PipelineState.QUEUED,
    "in_progress": PipelineState.RUNNING,
}


def run_state(status: str | None, conclusion: str | None) -> PipelineState | None:
    """dspo's state of a run from GitHub's status and conclusion; None when unknown."""
    if status == "completed":
        return CONCLUSIONS.get(conclusion or "")
    return STATUSES.get(status or "")


@dataclass
class _Listing:
    """What one repository's run listing saw: whether the list shrank while it was read."""

    first_total: int | None = None
    shrank: bool = False
    ids: set[str] = field(default_factory=set)

    def saw(self, total: int | None) -> None:
        if total is None:
            return
        if self.first_total is None:
            self.first_total = total
        elif total < self.first_total:
            self.shrank = True


class GithubActionsCollector(Collector[GithubActionsSource]):
    kind = "github_actions"

    @property
    def where(self) -> str:
        return f"{str(self.settings.api_url).rstrip('/')} ({', '.join(self.settings.repos)})"

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        settings = self.settings
        window_start = until - timedelta(days=settings.keep_days)
        reconcile = reconcile_due(since, until, settings.reconcile_every)
        cutoff = window_start
        if since is not None and not reconcile:
            cutoff = max(since - settings.overlap, window_start)
        jobs_from = since - settings.overlap if since is not None else until - FIRST_JOBS
        complete, keys = True, set[str]()
        with GithubApi(self) as api:
            for repo in settings.repos:
                listing = _Listing()
                yield from self._repo_runs(api, repo, cutoff, jobs_from, listing)
                complete &= not listing.shrank
                keys |= listing.ids
        if reconcile and complete:
            yield Present(self.product, Entity.PIPELINE_RUN, frozenset(keys))
        elif reconcile:
            log.warning("%s: runs were deleted on GitHub while they were listed; the "
                        "deletions are reflected at the next reconciliation", self.name)

    # ------------------------------------------------------------ one repository

    def _repo_runs(
        self, api: GithubApi, repo: str, cutoff: datetime, jobs_from: datetime,
        listing: _Listing,
    ) -> Iterator[Record]:
        workflows = self._workflows(api, repo)
        for run in self._runs(api, repo, cutoff, listing):
            workflow = workflows.get(run.get("workflow_id"), {})
            if not self._selected(run, workflow):
                continue
            record = self._record(repo, run, workflow)
            if record is None:
                continue
            listing.ids.add(record.run_id)
            yield record
            if (record.state is PipelineState.SUCCESS and record.end is not None
                    and record.end >= record.start):
                yield Point(
                    product=self.product, kind=SeriesKind.PIPELINE, name="duration_seconds",
                    ts=record.end, value=(record.end - record.start).total_seconds(),
                    labels={"pipeline": record.pipeline}, unit="s",
                )
            updated = parse_time(run.get("updated_at"))
            if (record.state is PipelineState.FAILED and self.settings.failed_jobs
                    and updated is not None and updated >= jobs_from):
                yield from self._jobs(api, repo, run, record.run_id)

    def _workflows(self, api: GithubApi, repo: str) -> dict[Any, dict[str, Any]]:
        found: dict[Any, dict[str, Any]] = {}
        path = f"/repos/{repo}/actions/workflows"
        for page in api.pages(path, key="workflows", doing=f"GET {path}"):
            found.update({w.get("id"): w for w in page.items})
        return found

    def _runs(
        self, api: GithubApi, repo: str, cutoff: datetime, listing: _Listing
    ) -> Iterator[dict[str, Any]]:
        """Runs created or updated at or after `cutoff`, newest first, until a page holds
        none (the list is sorted by creation, newest first)."""
        path = f"/repos/{repo}/actions/runs"
        for page in api.pages(path, key="workflow_runs", doing=f"GET {path}"):
            listing.saw(page.total)
            recent = [run for run in page.items if _changed_since(run, cutoff)]
            yield from recent
            if not recent:
                return

    def _selected(self, run: dict[str, Any], workflow: dict[str, Any]) -> bool:
        settings = self.settings
        if settings.branches and run.get("head_branch") not in settings.branches:
            return False
        if not settings.workflows:
            return True
        path = _workflow_path(run, workflow)
        names = {path, path.rsplit("/", 1)[-1], workflow.get("name") or run.get("name")}
        return any(w in names for w in settings.workflows)

    def _record(
        self, repo: str, run: dict[str, Any], workflow: dict[str, Any]
    ) -> PipelineRun | None:
        run_id = f"{repo}/{run.get('id')}"
        status, conclusion = run.get("status"), run.get("conclusion")
        state = run_state(status, conclusion)
        created = parse_time(run.get("created_at"))
        start = parse_time(run.get("run_started_at")) or created
        if state is None or start is None:
            log.warning("%s: run %s has unknown status %r / conclusion %r; skipped",
                        self.name, run_id, status, conclusion)
            return None
        name = str(workflow.get("name") or run.get("name") or _workflow_path(run, workflow))
        pipeline = f"{repo}: {name}" if self.settings.repo_in_pipeline else name
        detail = {
            "status": status, "conclusion": conclusion, "event": run.get("event"),
            "head_sha": run.get("head_sha"), "workflow_path": _workflow_path(run, workflow),
            "run_number": run.get("run_number"), "title": run.get("display_title"),
            "triggering_actor": login(run.get("triggering_actor")),
        }
        attempt = run.get("run_attempt")
        return PipelineRun(
            product=self.product,
            system=SYSTEM,
            pipeline=pipeline,
            run_id=run_id,
            state=state,
            start=start,
            end=parse_time(run.get("updated_at")) if status == "completed" else None,
            trigger=login(run.get("actor")),
            url=run.get("html_url"),
            run_type=run.get("event"),
            attempt=attempt if isinstance(attempt, int) else None,
            branch=run.get("head_branch"),
            detail={k: str(v) for k, v in detail.items() if v is not None},
        )

    def _jobs(
        self, api: GithubApi, repo: str, run: dict[str, Any], run_id: str
    ) -> Iterator[PipelineTask]:
        path = f"/repos/{repo}/actions/runs/{run.get('id')}/jobs"
        seen: dict[str, int] = {}
        for page in api.pages(path, {"filter": "latest"}, key="jobs", doing=f"GET {path}"):
            for job in page.items:
                name = str(job.get("name") or job.get("id"))
                seen[name] = seen.get(name, 0) + 1  # job names may repeat within a run
                start, end = parse_time(job.get("started_at")), parse_time(job.get("completed_at"))
                attempt = job.get("run_attempt")
                yield PipelineTask(
                    product=self.product,
                    run_id=run_id,
                    task_id=name,
                    state=str(job.get("conclusion") or job.get("status") or "unknown"),
                    start=start,
                    end=end,
                    duration=(end - start).total_seconds() if start and end else None,
                    try_number=attempt if isinstance(attempt, int) else None,
                    map_index=-1 if seen[name] == 1 else seen[name] - 1,
                )


def _changed_since(run: dict[str, Any], cutoff: datetime) -> bool:
    created, updated = parse_time(run.get("created_at")), parse_time(run.get("updated_at"))
    return any(t is not None and t >= cutoff for t in (created, updated))


def _workflow_path(run: dict[str, Any], workflow: dict[str, Any]) -> str:
    """The workflow file's path, without the `@ref` GitHub appends for some runs."""
    path = str(workflow.get("path") or run.get("path") or "")
    return path.split("@", 1)[0]
