"""A fake GitHub REST API (as GitHub Enterprise serves it, under /api/v3) holding one
repository's issues in memory.

Request and response shapes follow https://docs.github.com/en/rest/issues; each handler
cites its page. Modelled honestly where the sink depends on it: the list filters by every
label in `labels` and by `state` (default open) and sorts by `sort`/`direction`; it lists
pull requests too, as GitHub does; unknown labels are created on issue creation; a close
records `state_reason` and `closed_at`; a token is required ("token X" or "Bearer X"); the
objects' `url` fields point back at the fake, since PyGithub follows them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fake_http import FakeServer, Recorded, Reply

PREFIX = "/api/v3"
STATE_REASONS = {"completed", "not_planned", "duplicate", "reopened", None}
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def gh_time(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def message(status: int, text: str, doc: str, **extra: Any) -> Reply:
    """GitHub's error body: {"message", "documentation_url", "status"}."""
    return Reply(status, {"message": text, "documentation_url": doc, "status": str(status),
                          **extra})


class FakeGithub(FakeServer):
    def __init__(self, *, token: str, repo: str = "acme/churn") -> None:
        super().__init__()
        self.token, self.repo = token, repo
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[str]] = {}
        self.labels: dict[str, dict[str, Any]] = {}
        self._clock = T0
        base = PREFIX + "/repos/" + re.escape(repo) + "/issues"
        self.route("GET", base, self.list_issues)
        self.route("POST", base, self.create_issue)
        self.route("GET", base + r"/(?P<n>\d+)", self.get_issue)
        self.route("PATCH", base + r"/(?P<n>\d+)", self.update_issue)
        self.route("POST", base + r"/(?P<n>\d+)/comments", self.create_comment)

    @property
    def api_url(self) -> str:
        return self.url + PREFIX

    # ------------------------------------------------------------ auth

    def authorized(self, request: Recorded) -> bool:
        """https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api"""
        auth = request.headers.get("authorization", "")
        return auth in (f"token {self.token}", f"Bearer {self.token}")

    def unauthorized(self) -> Reply:
        return message(401, "Bad credentials", "https://docs.github.com/rest")

    # ------------------------------------------------------------ helpers for tests

    def close_by_hand(self, number: int, state_reason: str) -> None:
        """What a person does on github.com: close as completed or as not planned."""
        issue = self.issues[number]
        issue.update(state="closed", state_reason=state_reason, closed_at=gh_time(self._tick()))

    def add_pull_request(self, labels: list[str]) -> int:
        """A pull request: the issues endpoints list it too, with a `pull_request` key."""
        number = self._new(f"PR {len(self.issues) + 1}", "", labels)
        issue = self.issues[number]
        html = f"https://github.com/{self.repo}/pull/{number}"
        issue["html_url"] = html
        issue["pull_request"] = {
            "url": f"{self.api_url}/repos/{self.repo}/pulls/{number}", "html_url": html,
            "diff_url": html + ".diff", "patch_url": html + ".patch", "merged_at": None}
        return number

    def _tick(self) -> datetime:
        self._clock += timedelta(minutes=1)
        return self._clock

    def _label(self, name: str) -> dict[str, Any]:
        if name not in self.labels:
            number = len(self.labels) + 1
            self.labels[name] = {
                "id": 208045946 + number, "node_id": f"MDU6TGFiZWwy{number}",
                "url": f"{self.api_url}/repos/{self.repo}/labels/{name}", "name": name,
                "description": None, "color": "ededed", "default": False}
        return self.labels[name]

    def _new(self, title: str, body: str, labels: list[str]) -> int:
        number = len(self.issues) + 1
        url = f"{self.api_url}/repos/{self.repo}/issues/{number}"
        now = gh_time(self._tick())
        self.issues[number] = {
            "id": 1000 + number, "node_id": f"MDU6SXNzdWUx{number}", "url": url,
            "repository_url": f"{self.api_url}/repos/{self.repo}",
            "labels_url": url + "/labels{/name}", "comments_url": url + "/comments",
            "events_url": url + "/events",
            "html_url": f"https://github.com/{self.repo}/issues/{number}",
            "number": number, "state": "open", "state_reason": None, "title": title,
            "body": body, "user": {"login": "dspo-bot", "id": 1, "type": "Bot"},
            "labels": [self._label(name) for name in labels], "assignee": None,
            "assignees": [], "milestone": None, "locked": False, "active_lock_reason": None,
            "comments": 0, "closed_at": None, "created_at": now, "updated_at": now,
            "closed_by": None, "author_association": "NONE",
        }
        self.comments[number] = []
        return number

    def _not_found(self, doc: str) -> Reply:
        return message(404, "Not Found", doc)

    # ------------------------------------------------------------ endpoints

    def list_issues(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://docs.github.com/en/rest/issues/issues#list-repository-issues"""
        q = {name: values[0] for name, values in request.query.items()}
        state = q.get("state", "open")
        found = [i for i in self.issues.values() if state == "all" or i["state"] == state]
        for label in filter(None, q.get("labels", "").split(",")):
            found = [i for i in found if label in {lab["name"] for lab in i["labels"]}]
        key = {"created": "created_at", "updated": "updated_at", "comments": "comments"}
        sort = key.get(q.get("sort", "created"), "created_at")
        found.sort(key=lambda i: (i[sort], i["number"]), reverse=q.get("direction") != "asc")
        per_page = min(int(q.get("per_page", 30)), 100)
        page = int(q.get("page", 1))
        return Reply(200, found[(page - 1) * per_page: page * per_page])

    def create_issue(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://docs.github.com/en/rest/issues/issues#create-an-issue: 201 with the issue;
        labels given by name are created when missing; 422 on a missing title."""
        body = request.body or {}
        if not body.get("title"):
            return message(422, "Validation Failed",
                           "https://docs.github.com/rest/issues/issues#create-an-issue",
                           errors=[{"resource": "Issue", "code": "missing_field",
                                    "field": "title"}])
        labels = [lab if isinstance(lab, str) else lab["name"] for lab in body.get("labels", [])]
        number = self._new(body["title"], body.get("body") or "", labels)
        return Reply(201, self.issues[number],
                     headers={"Location": self.issues[number]["url"]})

    def get_issue(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://docs.github.com/en/rest/issues/issues#get-an-issue"""
        issue = self.issues.get(int(match["n"]))
        if issue is None:
            return self._not_found("https://docs.github.com/rest/issues/issues#get-an-issue")
        return Reply(200, issue)

    def update_issue(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://docs.github.com/en/rest/issues/issues#update-an-issue: `state` open or
        closed, `state_reason` completed, not_planned, duplicate, reopened or null."""
        issue = self.issues.get(int(match["n"]))
        if issue is None:
            return self._not_found("https://docs.github.com/rest/issues/issues#update-an-issue")
        body = request.body or {}
        state, reason = body.get("state", issue["state"]), body.get("state_reason")
        if state not in ("open", "closed") or reason not in STATE_REASONS:
            return message(422, "Validation Failed",
                           "https://docs.github.com/rest/issues/issues#update-an-issue")
        if state == "closed":
            closed_at = issue["closed_at"] if issue["state"] == "closed" else gh_time(self._tick())
            issue.update(state="closed", state_reason=reason or "completed", closed_at=closed_at,
                         closed_by={"login": "dspo-bot", "id": 1, "type": "Bot"})
        else:
            issue.update(state="open", state_reason=reason, closed_at=None, closed_by=None)
        issue["updated_at"] = gh_time(self._tick())
        return Reply(200, issue)

    def create_comment(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://docs.github.com/en/rest/issues/comments#create-an-issue-comment: 201."""
        number = int(match["n"])
        issue = self.issues.get(number)
        if issue is None:
            return self._not_found(
                "https://docs.github.com/rest/issues/comments#create-an-issue-comment")
        text = (request.body or {}).get("body")
        if not text:
            return message(422, "Validation Failed",
                           "https://docs.github.com/rest/issues/comments#create-an-issue-comment")
        self.comments[number].append(text)
        issue["comments"] += 1
        comment_id = 1_000_000 + sum(len(c) for c in self.comments.values())
        now = gh_time(self._tick())
        return Reply(201, {
            "id": comment_id, "node_id": f"MDEyOklzc3VlQ29tbWVudDE{comment_id}",
            "url": f"{self.api_url}/repos/{self.repo}/issues/comments/{comment_id}",
            "html_url": f"{issue['html_url']}#issuecomment-{comment_id}", "body": text,
            "user": {"login": "dspo-bot", "id": 1, "type": "Bot"}, "created_at": now,
            "updated_at": now, "issue_url": issue["url"], "author_association": "NONE"})
