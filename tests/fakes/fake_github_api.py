"""A fake GitHub REST and GraphQL API (as GitHub Enterprise serves it: REST under /api/v3,
GraphQL at /api/graphql) for the `github_actions` and `github_issues` collectors.

Each handler cites the documented endpoint it answers, with the documented response shape.
Modelled where the collectors depend on it: `per_page`/`page` pagination with `Link`
headers (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api),
rate-limit headers on every answer with a budget that runs down
(https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api), runs
listed newest first, issues filtered by `state` and `since` and sorted by `sort`/
`direction`, pull requests listed among issues, timelines that record what the helpers did
(labels, milestones, assignees, closing with a reason, reopening) plus events the
collectors must skip (comments, cross-references, commits without `created_at`), GraphQL
cursor pages. A token is required. `FakeGithub` (the alert sink's fake) is left as it is;
its helpers for times and error bodies are shared.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fake_github import PREFIX, gh_time, message
from fake_http import FakeServer, Recorded, Reply

REPO = r"(?P<repo>[^/]+/[^/]+)"
GRAPHQL = "/api/graphql"
USER = {"login": "octocat", "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User",
        "site_admin": False}


def user(login: str) -> dict[str, Any]:
    return {**USER, "login": login, "id": sum(map(ord, login)) * 7919}


@dataclass
class Repo:
    workflows: dict[int, dict[str, Any]] = field(default_factory=dict)
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    timelines: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    milestones: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Project:
    iteration_field: str
    iterations: list[dict[str, Any]]
    completed: list[dict[str, Any]]
    items: list[dict[str, Any]] = field(default_factory=list)


class FakeGithubApi(FakeServer):
    def __init__(self, *, token: str, rate_limit: int = 5000) -> None:
        super().__init__()
        # Headers and body leave in two writes: with Nagle's algorithm on, the body waits
        # for the client's delayed ACK (~40 ms a request), which would time the fake rather
        # than the collectors.
        handler = self._server.RequestHandlerClass
        self._server.RequestHandlerClass = type(  # type: ignore[assignment]
            "NoDelayHandler", (handler,), {"disable_nagle_algorithm": True})
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.projects: dict[tuple[str, str, int], Project] = {}
        self.rate_limit = rate_limit
        self.rate_remaining = rate_limit
        self.rate_reset = int(time.time()) + 3600
        self._ids = 1000
        base = PREFIX + "/repos/" + REPO
        self.route("GET", base + "/actions/workflows", self.list_workflows)
        self.route("GET", base + "/actions/runs", self.list_runs)
        self.route("GET", base + r"/actions/runs/(?P<id>\d+)/jobs", self.list_jobs)
        self.route("GET", base + "/issues", self.list_issues)
        self.route("GET", base + r"/issues/(?P<n>\d+)/timeline", self.list_timeline)
        self.route("GET", base + "/milestones", self.list_milestones)
        self.route("POST", GRAPHQL, self.graphql)

    @property
    def api_url(self) -> str:
        return self.url + PREFIX

    def repo(self, name: str) -> Repo:
        return self.repos.setdefault(name, Repo())

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    # ------------------------------------------------------------ auth and rate limits

    def authorized(self, request: Recorded) -> bool:
        """https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api"""
        auth = request.headers.get("authorization", "")
        return auth in (f"token {self.token}", f"Bearer {self.token}")

    def unauthorized(self) -> Reply:
        return message(401, "Bad credentials", "https://docs.github.com/rest")

    def handle(self, request: Recorded) -> Reply:
        """Every answer carries the rate-limit headers; each request spends one."""
        reply = super().handle(request)
        self.rate_remaining = max(0, self.rate_remaining - 1)
        for name, value in (("x-ratelimit-limit", self.rate_limit),
                            ("x-ratelimit-remaining", self.rate_remaining),
                            ("x-ratelimit-reset", self.rate_reset),
                            ("x-ratelimit-used", self.rate_limit - self.rate_remaining),
                            ("x-ratelimit-resource", "core")):
            if name.lower() not in {k.lower() for k in reply.headers}:
                reply.headers[name] = str(value)
        return reply

    # ------------------------------------------------------------ pagination

    def _paged(self, request: Recorded, items: list[Any], key: str | None = None) -> Reply:
        """https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api:
        `per_page` (default 30, at most 100), `page` from 1, `Link` with next/last."""
        q = {k: v[0] for k, v in request.query.items()}
        per_page = min(int(q.get("per_page", 30)), 100)
        page = int(q.get("page", 1))
        chunk = items[(page - 1) * per_page: page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []
        for rel, number in (("next", page + 1), ("last", last)):
            if number <= last and (rel == "last" or page < last):
                links.append(f'<{self.url}{request.path}?{urlencode({**q, "page": number})}>; '
                             f'rel="{rel}"')
        headers = {"Link": ", ".join(links)} if links else {}
        body: Any = chunk if key is None else {"total_count": len(items), key: chunk}
        return Reply(200, body, headers)

    @staticmethod
    def _query(request: Recorded) -> dict[str, str]:
        return {k: v[0] for k, v in request.query.items()}

    def _no_repo(self) -> Reply:
        return message(404, "Not Found", "https://docs.github.com/rest/repos/repos#get-a-repository")

    # ------------------------------------------------------------ Actions

    def add_workflow(self, repo: str, name: str, path: str) -> int:
        wid = self._id()
        self.repo(repo).workflows[wid] = {
            "id": wid, "node_id": f"W_{wid}", "name": name, "path": path, "state": "active",
            "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
            "url": f"{self.api_url}/repos/{repo}/actions/workflows/{wid}",
            "html_url": f"https://github.com/{repo}/blob/main/{path}",
            "badge_url": f"https://github.com/{repo}/workflows/{name}/badge.svg"}
        return wid

    def add_run(self, repo: str, workflow: int, *, created: datetime, status: str = "completed",
                conclusion: str | None = "success", minutes: float = 5, branch: str = "main",
                event: str = "push", actor: str = "octocat", attempt: int = 1) -> int:
        """A workflow run in the shape of https://docs.github.com/en/rest/actions/workflow-runs
        #get-a-workflow-run; a completed one was last updated `minutes` after it started."""
        rid = self._id()
        wf = self.repo(repo).workflows[workflow]
        done = status == "completed"
        url = f"{self.api_url}/repos/{repo}/actions/runs/{rid}"
        self.repo(repo).runs[rid] = {
            "id": rid, "name": wf["name"], "node_id": f"WFR_{rid}", "check_suite_id": rid * 7,
            "head_branch": branch, "head_sha": f"{rid:040x}", "path": wf["path"],
            "display_title": f"Commit {rid}", "run_number": len(self.repo(repo).runs) + 1,
            "event": event, "status": status, "conclusion": conclusion if done else None,
            "workflow_id": workflow, "url": url,
            "html_url": f"https://github.com/{repo}/actions/runs/{rid}",
            "pull_requests": [], "created_at": gh_time(created),
            "updated_at": gh_time(created + timedelta(minutes=minutes if done else 0)),
            "actor": user(actor), "triggering_actor": user(actor), "run_attempt": attempt,
            "run_started_at": gh_time(created), "jobs_url": url + "/jobs",
            "logs_url": url + "/logs", "check_suite_url": f"{self.api_url}/check-suites/{rid}",
            "cancel_url": url + "/cancel", "rerun_url": url + "/rerun",
            "workflow_url": wf["url"], "head_commit": {"id": f"{rid:040x}", "message": "change"},
            "repository": {"id": 1, "full_name": repo}, "head_repository": {"id": 1,
                                                                            "full_name": repo},
        }
        return rid

    def add_job(self, repo: str, run: int, name: str, conclusion: str, started: datetime,
                minutes: float = 2) -> None:
        """https://docs.github.com/en/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run"""
        jid = self._id()
        self.repo(repo).jobs.setdefault(run, []).append({
            "id": jid, "run_id": run, "run_attempt": self.repo(repo).runs[run]["run_attempt"],
            "name": name, "status": "completed", "conclusion": conclusion,
            "created_at": gh_time(started), "started_at": gh_time(started),
            "completed_at": gh_time(started + timedelta(minutes=minutes)),
            "head_sha": f"{run:040x}", "html_url": f"https://github.com/{repo}/actions/runs/{run}/job/{jid}",
            "steps": [], "labels": ["ubuntu-latest"], "runner_name": "GitHub Actions 2",
            "workflow_name": self.repo(repo).runs[run]["name"], "head_branch": "main"})

    def delete_run(self, repo: str, run: int) -> None:
        """https://docs.github.com/en/rest/actions/workflow-runs#delete-a-workflow-run"""
        del self.repo(repo).runs[run]
        self.repo(repo).jobs.pop(run, None)

    def list_workflows(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://docs.github.com/en/rest/actions/workflows#list-repository-workflows"""
        if match["repo"] not in self.repos:
            return self._no_repo()
        return self._paged(request, list(self.repos[match["repo"]].workflows.values()),
                           "workflows")

    def list_runs(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-repository:
        {"total_count", "workflow_runs"}, newest first."""
        if match["repo"] not in self.repos:
            return self._no_repo()
        runs = sorted(self.repos[match["repo"]].runs.values(),
                      key=lambda r: (r["created_at"], r["id"]), reverse=True)
        return self._paged(request, runs, "workflow_runs")

    def list_jobs(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://docs.github.com/en/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run:
        {"total_count", "jobs"}; `filter=latest` (the default) gives the last attempt's."""
        repo = self.repos.get(match["repo"])
        if repo is None or int(match["id"]) not in repo.runs:
            return message(404, "Not Found",
                           "https://docs.github.com/rest/actions/workflow-jobs")
        return self._paged(request, repo.jobs.get(int(match["id"]), []), "jobs")

    # ------------------------------------------------------------ issues

    def add_milestone(self, repo: str, title: str, due_on: datetime | None, *,
                      state: str = "open", closed_at: datetime | None = None,
                      description: str = "") -> int:
        """https://docs.github.com/en/rest/issues/milestones#get-a-milestone"""
        number = len(self.repo(repo).milestones) + 1
        while number in self.repo(repo).milestones:
            number += 1
        self.repo(repo).milestones[number] = {
            "url": f"{self.api_url}/repos/{repo}/milestones/{number}",
            "html_url": f"https://github.com/{repo}/milestone/{number}",
            "labels_url": f"{self.api_url}/repos/{repo}/milestones/{number}/labels",
            "id": self._id(), "node_id": f"MI_{number}", "number": number, "title": title,
            "description": description, "creator": USER, "open_issues": 0, "closed_issues": 0,
            "state": state, "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z", "due_on": gh_time(due_on),
            "closed_at": gh_time(closed_at)}
        return number

    def add_issue(self, repo: str, title: str, *, created: datetime,
                  labels: tuple[str, ...] = (), milestone: str | None = None,
                  assignees: tuple[str, ...] = (), issue_type: str | None = None,
                  parent: int | None = None, pull_request: bool = False,
                  body: str | None = "") -> int:
        """https://docs.github.com/en/rest/issues/issues#get-an-issue. What is set at
        creation is in the timeline at that instant, as GitHub records it."""
        r = self.repo(repo)
        number = max([*r.issues, 0]) + 1
        url = f"{self.api_url}/repos/{repo}/issues/{number}"
        kind = "pull" if pull_request else "issues"
        r.issues[number] = {
            "id": self._id(), "node_id": f"I_{number}", "url": url,
            "repository_url": f"{self.api_url}/repos/{repo}", "labels_url": url + "/labels{/name}",
            "comments_url": url + "/comments", "events_url": url + "/events",
            "html_url": f"https://github.com/{repo}/{kind}/{number}", "number": number,
            "state": "open", "state_reason": None, "title": title, "body": body,
            "user": USER, "labels": [], "assignee": None, "assignees": [], "milestone": None,
            "locked": False, "comments": 0, "closed_at": None, "created_at": gh_time(created),
            "updated_at": gh_time(created), "closed_by": None, "author_association": "MEMBER",
            "type": {"id": 1, "name": issue_type} if issue_type else None,
            "parent_issue_url": f"{self.api_url}/repos/{repo}/issues/{parent}" if parent else None,
        }
        if pull_request:
            r.issues[number]["pull_request"] = {
                "url": f"{self.api_url}/repos/{repo}/pulls/{number}",
                "html_url": r.issues[number]["html_url"], "merged_at": None}
        r.timelines[number] = []
        for name in labels:
            self.label(repo, number, name, created)
        if milestone:
            self.set_milestone(repo, number, milestone, created)
        for login in assignees:
            self.assign(repo, number, login, created)
        self._event(repo, number, "commented", created + timedelta(seconds=30), body="+1")
        return number

    def _event(self, repo: str, number: int, kind: str, at: datetime, **extra: Any) -> None:
        """https://docs.github.com/en/rest/issues/timeline#list-timeline-events-for-an-issue"""
        eid = self._id()
        self.repo(repo).timelines[number].append({
            "id": eid, "node_id": f"E_{eid}",
            "url": f"{self.api_url}/repos/{repo}/issues/events/{eid}", "actor": USER,
            "event": kind, "commit_id": None, "commit_url": None,
            "created_at": gh_time(at), "performed_via_github_app": None, **extra})
        issue = self.repo(repo).issues[number]
        issue["updated_at"] = max(issue["updated_at"], gh_time(at) or "")

    def label(self, repo: str, number: int, name: str, at: datetime) -> None:
        issue = self.repo(repo).issues[number]
        issue["labels"].append({"id": self._id(), "name": name, "color": "ededed",
                                "default": False, "description": None})
        self._event(repo, number, "labeled", at, label={"name": name, "color": "ededed"})

    def unlabel(self, repo: str, number: int, name: str, at: datetime) -> None:
        issue = self.repo(repo).issues[number]
        issue["labels"] = [x for x in issue["labels"] if x["name"] != name]
        self._event(repo, number, "unlabeled", at, label={"name": name, "color": "ededed"})

    def assign(self, repo: str, number: int, login: str, at: datetime) -> None:
        issue = self.repo(repo).issues[number]
        issue["assignees"].append(user(login))
        issue["assignee"] = issue["assignees"][0]
        self._event(repo, number, "assigned", at, assignee=user(login), assigner=USER)

    def set_milestone(self, repo: str, number: int, title: str | None, at: datetime) -> None:
        """Changing a milestone records demilestoned (old) and milestoned (new), at once."""
        r = self.repo(repo)
        issue = r.issues[number]
        if issue["milestone"] is not None:
            self._event(repo, number, "demilestoned", at,
                        milestone={"title": issue["milestone"]["title"]})
        issue["milestone"] = next((m for m in r.milestones.values() if m["title"] == title),
                                  None)
        if title is not None:
            self._event(repo, number, "milestoned", at, milestone={"title": title})

    def close(self, repo: str, number: int, at: datetime, reason: str = "completed") -> None:
        issue = self.repo(repo).issues[number]
        issue.update(state="closed", state_reason=reason, closed_at=gh_time(at), closed_by=USER)
        self._event(repo, number, "closed", at, state_reason=reason)

    def reopen(self, repo: str, number: int, at: datetime) -> None:
        issue = self.repo(repo).issues[number]
        issue.update(state="open", state_reason="reopened", closed_at=None, closed_by=None)
        self._event(repo, number, "reopened", at)

    def cross_reference(self, repo: str, number: int, at: datetime) -> None:
        """Events the collector must pass over: a cross-reference (no id) and a commit (no
        created_at)."""
        self.repo(repo).timelines[number] += [
            {"event": "cross-referenced", "actor": USER, "created_at": gh_time(at),
             "updated_at": gh_time(at), "source": {"type": "issue", "issue": {"number": 1}}},
            {"event": "committed", "sha": "ab" * 20, "message": "fix",
             "author": {"name": "o", "email": "o@example.com", "date": gh_time(at)}},
        ]

    def delete_issue(self, repo: str, number: int) -> None:
        """What an admin's "Delete issue" (or a transfer to another repository) does to
        this repository's lists."""
        del self.repo(repo).issues[number]
        del self.repo(repo).timelines[number]

    def list_issues(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://docs.github.com/en/rest/issues/issues#list-repository-issues: `state`
        (open, closed, all; default open), `since` (updated at or after), `sort` (created,
        updated, comments; default created), `direction` (default desc); lists pull requests."""
        if match["repo"] not in self.repos:
            return self._no_repo()
        q = self._query(request)
        state = q.get("state", "open")
        found = [i for i in self.repos[match["repo"]].issues.values()
                 if state == "all" or i["state"] == state]
        if "since" in q:
            found = [i for i in found if i["updated_at"] >= q["since"]]
        key = {"created": "created_at", "updated": "updated_at", "comments": "comments"}
        sort = key.get(q.get("sort", "created"), "created_at")
        found.sort(key=lambda i: (i[sort], i["number"]), reverse=q.get("direction") != "asc")
        return self._paged(request, found)

    def list_timeline(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://docs.github.com/en/rest/issues/timeline#list-timeline-events-for-an-issue"""
        repo = self.repos.get(match["repo"])
        if repo is None or int(match["n"]) not in repo.timelines:
            return message(410, "This issue was deleted",
                           "https://docs.github.com/rest/issues/timeline")
        return self._paged(request, repo.timelines[int(match["n"])])

    def list_milestones(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://docs.github.com/en/rest/issues/milestones#list-milestones: `state` (open,
        closed, all; default open), `sort` (due_on, completeness), `direction` (default asc)."""
        if match["repo"] not in self.repos:
            return self._no_repo()
        q = self._query(request)
        state = q.get("state", "open")
        found = [m for m in self.repos[match["repo"]].milestones.values()
                 if state == "all" or m["state"] == state]
        found.sort(key=lambda m: (m["due_on"] is None, m["due_on"] or "", m["number"]),
                   reverse=q.get("direction") == "desc")
        return self._paged(request, found)

    # ------------------------------------------------------------ GraphQL

    def add_project(self, owner_type: str, login: str, number: int, *, iteration_field: str,
                    iterations: list[dict[str, Any]], completed: list[dict[str, Any]]) -> None:
        self.projects[(owner_type, login, number)] = Project(iteration_field, iterations,
                                                             completed)

    def set_item(self, owner_type: str, login: str, number: int, repo: str, issue: int,
                 **values: Any) -> None:
        """Put an issue on a project with field values: name=iteration id, number, or
        single-select option, as {"Iteration": "it1", "Estimate": 3, "Status": "Done"}."""
        project = self.projects[(owner_type, login, number)]
        nodes: list[dict[str, Any]] = []
        for name, value in values.items():
            name = name.replace("_", " ")
            common = {"field": {"name": name}}
            if name == project.iteration_field:
                nodes.append({"iterationId": value, **common})
            elif isinstance(value, int | float):
                nodes.append({"number": value, **common})
            else:
                nodes.append({"name": value, **common})
        nodes.append({})  # a value of a field type the query does not ask about
        project.items.append({"content": {"number": issue, "repository": {"nameWithOwner": repo}},
                              "fieldValues": {"nodes": nodes}})

    def graphql(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://docs.github.com/en/graphql/guides/forming-calls-with-graphql: POST
        {"query", "variables"} -> {"data": ...} or {"errors": [...]}. Two queries are
        answered: a repository's issue numbers and a project's items."""
        body = request.body if isinstance(request.body, dict) else {}
        query, variables = str(body.get("query", "")), body.get("variables") or {}
        if "projectV2" in query:
            return self._project(query, variables)
        if "issues(" in query:
            return self._issue_numbers(variables)
        return Reply(200, {"errors": [{"message": "unknown query"}]})

    @staticmethod
    def _cursor_page(items: list[Any], after: str | None,
                     first: int = 100) -> tuple[list[Any], dict[str, Any]]:
        """https://docs.github.com/en/graphql/guides/using-pagination-in-the-graphql-api"""
        start = int(base64.b64decode(after).decode().split(":")[1]) if after else 0
        chunk = items[start:start + first]
        end = base64.b64encode(f"cursor:{start + len(chunk)}".encode()).decode()
        return chunk, {"hasNextPage": start + first < len(items), "endCursor": end,
                       "hasPreviousPage": start > 0, "startCursor": after}

    def _issue_numbers(self, variables: dict[str, Any]) -> Reply:
        """https://docs.github.com/en/graphql/reference/objects#repository (issues: pull
        requests are not issues there)."""
        repo = self.repos.get(f"{variables.get('owner')}/{variables.get('name')}")
        if repo is None:
            return Reply(200, {"data": {"repository": None}, "errors": [
                {"type": "NOT_FOUND", "path": ["repository"],
                 "message": "Could not resolve to a Repository."}]})
        numbers = [{"number": n} for n, i in sorted(repo.issues.items()) if "pull_request" not in i]
        nodes, info = self._cursor_page(numbers, variables.get("cursor"))
        return Reply(200, {"data": {"repository": {"issues": {
            "totalCount": len(numbers), "pageInfo": info, "nodes": nodes}}}})

    def _project(self, query: str, variables: dict[str, Any]) -> Reply:
        """https://docs.github.com/en/graphql/reference/objects#projectv2"""
        owner_type = "organization" if "organization(" in query else "user"
        key = (owner_type, str(variables.get("login")), int(variables.get("number", 0)))
        project = self.projects.get(key)
        if project is None:
            return Reply(200, {"data": {owner_type: {"projectV2": None}}, "errors": [
                {"type": "NOT_FOUND", "path": [owner_type, "projectV2"],
                 "message": f"Could not resolve to a ProjectV2 with the number {key[2]}."}]})
        nodes, info = self._cursor_page(project.items, variables.get("cursor"))
        fields = [{"name": "Title"}, {"name": project.iteration_field, "configuration": {
            "duration": 14, "startDay": 1, "iterations": project.iterations,
            "completedIterations": project.completed}}]
        return Reply(200, {"data": {owner_type: {"projectV2": {
            "fields": {"nodes": fields},
            "items": {"totalCount": len(project.items), "pageInfo": info, "nodes": nodes}}}}})
