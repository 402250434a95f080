"""A fake Jira Cloud (REST API v2, and v3 for search) holding issues in memory.

Request and response shapes follow Atlassian's reference; each handler cites its page.
Only what the sink touches is modelled, but that part is modelled honestly: the search
really filters by the project and label clauses of the JQL (and rejects JQL it does not
understand), returns only the fields asked for (enhanced search returns just the id by
default), the removed /search endpoint answers 410 on Cloud as it does since 2025, a
transition to a done status sets the resolution and one out of it clears it, and every
request must carry Basic auth with the configured user and token.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fake_http import FakeServer, Recorded, Reply

POINTS_FIELD = "customfield_10016"
ISSUE_TYPES = ("Bug", "Task", "Story")
STATUSES = {  # name → (status id, statusCategory key, statusCategory id, category name)
    "To Do": ("10000", "new", 2, "To Do"),
    "In Progress": ("3", "indeterminate", 4, "In Progress"),
    "Done": ("10001", "done", 3, "Done"),
}
# A simplified workflow: every status can be reached from any other ("global" transitions).
TRANSITIONS = {"11": "To Do", "21": "In Progress", "31": "Done"}
REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def jira_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def errors(status: int, *messages: str, **field_errors: str) -> Reply:
    """Jira's ErrorCollection: {"errorMessages": [...], "errors": {field: message}}.

    https://developer.atlassian.com/cloud/jira/platform/rest/v2/intro/#status-codes
    """
    return Reply(status, {"errorMessages": list(messages), "errors": field_errors})


class FakeJira(FakeServer):
    def __init__(self, *, user: str, token: str, project: str = "CHURN",
                 deployment: str = "Cloud") -> None:
        super().__init__()
        self.user, self.token, self.project, self.deployment = user, token, project, deployment
        self.issues: dict[str, dict[str, Any]] = {}  # key → stored issue
        self.comments: dict[str, list[str]] = {}
        self._clock = T0
        api = r"/rest/api/(?:2|3)"
        issue = api + r"/issue/(?P<key>[A-Z]+-\d+)"
        self.route("GET", api + "/serverInfo", self.server_info)
        self.route("GET", api + "/field", self.fields)
        self.route("GET", api + "/search/jql", self.search_jql)
        self.route("GET", api + "/search", self.search_legacy)
        self.route("POST", api + "/issue", self.create_issue)
        self.route("GET", issue, self.get_issue)
        self.route("POST", issue + "/comment", self.add_comment)
        self.route("GET", issue + "/transitions", self.get_transitions)
        self.route("POST", issue + "/transitions", self.do_transition)

    # ------------------------------------------------------------ auth

    def authorized(self, request: Recorded) -> bool:
        """Basic auth with e-mail and API token.

        https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
        """
        expected = base64.b64encode(f"{self.user}:{self.token}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def unauthorized(self) -> Reply:
        return errors(401, "You are not authenticated. Authentication required to perform "
                      "this operation.")

    # ------------------------------------------------------------ helpers for tests

    def close_by_hand(self, key: str, resolution: str) -> None:
        """What a person does in Jira's UI: move the issue to Done with a resolution."""
        self._set_status(self.issues[key], "Done", resolution)

    def _tick(self) -> datetime:
        self._clock += timedelta(minutes=1)
        return self._clock

    def _set_status(self, issue: dict[str, Any], status: str, resolution: str | None) -> None:
        fields = issue["fields"]
        sid, cat_key, cat_id, cat_name = STATUSES[status]
        fields["status"] = {
            "self": f"{self.url}/rest/api/2/status/{sid}", "id": sid, "name": status,
            "statusCategory": {"self": f"{self.url}/rest/api/2/statuscategory/{cat_id}",
                               "id": cat_id, "key": cat_key, "colorName": "blue-gray",
                               "name": cat_name},
        }
        if cat_key == "done":
            fields["resolution"] = {"self": f"{self.url}/rest/api/2/resolution/1", "id": "1",
                                    "name": resolution or "Done", "description": ""}
            fields["resolutiondate"] = jira_time(self._tick())
        else:
            fields["resolution"] = None
            fields["resolutiondate"] = None

    def _view(self, issue: dict[str, Any], wanted: list[str] | None) -> dict[str, Any]:
        """An issue as the API returns it, with only the `wanted` fields (None/*all: all)."""
        fields = issue["fields"]
        if wanted is not None and "*all" not in wanted:
            fields = {name: value for name, value in fields.items() if name in wanted}
        return {"expand": "renderedFields,names,schema,operations,editmeta,changelog",
                "id": issue["id"], "self": f"{self.url}/rest/api/2/issue/{issue['id']}",
                "key": issue["key"], "fields": fields}

    def _matching(self, jql: str) -> list[dict[str, Any]] | Reply:
        """Issues matching `clause AND clause ... ORDER BY created DESC|ASC`.

        Clauses understood: project = X and labels = X (values quoted or bare); anything
        else is a 400, as Jira answers JQL it cannot parse.
        """
        parts = re.split(r"\s+ORDER\s+BY\s+", jql, maxsplit=1, flags=re.I)
        where, order = parts[0], (parts[1] if len(parts) > 1 else "")
        result = list(self.issues.values())
        for clause in re.split(r"\s+AND\s+", where.strip(), flags=re.I):
            m = re.fullmatch(r'(project|labels)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([\w.-]+))',
                             clause.strip(), flags=re.I)
            if not m:
                return errors(400, f"Error in the JQL Query: cannot parse {clause!r}.")
            name, value = m.group(1).lower(), (m.group(2) or m.group(3)).replace('\\"', '"')
            if name == "project":
                result = [i for i in result if i["fields"]["project"]["key"] == value]
            else:
                result = [i for i in result if value in i["fields"]["labels"]]
        descending = not order or re.fullmatch(r"created\s+DESC", order.strip(), re.I)
        result.sort(key=lambda i: (i["fields"]["created"], int(i["id"])), reverse=bool(descending))
        return result

    @staticmethod
    def _wanted(request: Recorded, default: list[str] | None) -> list[str] | None:
        values = request.query.get("fields")
        if not values:
            return default
        return [name for value in values for name in value.split(",") if name]

    # ------------------------------------------------------------ endpoints

    def server_info(self, request: Recorded, match: re.Match[str]) -> Reply:
        """
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-server-info/#api-rest-api-2-serverinfo-get"""
        return Reply(200, {"baseUrl": self.url, "version": "1001.0.0-SNAPSHOT",
                           "versionNumbers": [1001, 0, 0], "deploymentType": self.deployment,
                           "buildNumber": 100280, "buildDate": "2025-03-01T00:00:00.000+0000",
                           "serverTime": jira_time(self._clock), "scmInfo": "0" * 40,
                           "serverTitle": "Jira"})

    def fields(self, request: Recorded, match: re.Match[str]) -> Reply:
        """
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-fields/#api-rest-api-2-field-get"""
        names = ["summary", "description", "status", "resolution", "resolutiondate",
                 "labels", "created", "project", "issuetype"]
        out: list[dict[str, Any]] = [
            {"id": n, "key": n, "name": n.title(), "custom": False, "orderable": True,
             "navigable": True, "searchable": True, "clauseNames": [n]} for n in names
        ]
        out.append({"id": POINTS_FIELD, "key": POINTS_FIELD, "name": "Story point estimate",
                    "custom": True, "orderable": True, "navigable": True, "searchable": True,
                    "clauseNames": ["cf[10016]", "Story point estimate"],
                    "schema": {"type": "number", "custom": "com.pyxis.greenhopper.jira:"
                               "jsw-story-points", "customId": 10016}})
        return Reply(200, out)

    def search_jql(self, request: Recorded, match: re.Match[str]) -> Reply:
        """Enhanced search: https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-search/#api-rest-api-2-search-jql-get
        (v3: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get).
        `fields` defaults to `id` only; pages by `nextPageToken`; `isLast` says the end."""
        jql = (request.query.get("jql") or [""])[0]
        found = self._matching(jql)
        if isinstance(found, Reply):
            return found
        limit = int((request.query.get("maxResults") or ["50"])[0])
        wanted = self._wanted(request, ["id"])
        page = [self._view(i, wanted) for i in found[:limit]]
        return Reply(200, {"issues": page, "isLast": len(found) <= limit})

    def search_legacy(self, request: Recorded, match: re.Match[str]) -> Reply:
        """The legacy search, removed from Cloud, still served by Data Center:
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-search/#api-rest-api-2-search-get
        https://developer.atlassian.com/changelog/#CHANGE-2046
        """
        if self.deployment == "Cloud":
            return errors(410, REMOVED_SEARCH)
        found = self._matching((request.query.get("jql") or [""])[0])
        if isinstance(found, Reply):
            return found
        start = int((request.query.get("startAt") or ["0"])[0])
        limit = int((request.query.get("maxResults") or ["50"])[0])
        wanted = self._wanted(request, None)
        page = [self._view(i, wanted) for i in found[start:start + limit]]
        return Reply(200, {"expand": "schema,names", "startAt": start, "maxResults": limit,
                           "total": len(found), "issues": page})

    def create_issue(self, request: Recorded, match: re.Match[str]) -> Reply:
        """Answers 201 {id, key, self}:
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-post
        """
        fields = (request.body or {}).get("fields") or {}
        project = (fields.get("project") or {}).get("key")
        issuetype = (fields.get("issuetype") or {}).get("name")
        if project != self.project:
            return errors(400, project="valid project is required")
        if issuetype not in ISSUE_TYPES:
            return errors(400, issuetype="Specify a valid issue type")
        if not fields.get("summary"):
            return errors(400, summary="You must specify a summary of the issue.")
        for label in fields.get("labels", []):
            if " " in label:
                return errors(400, labels=f"The label '{label}' contains spaces which is invalid.")
        known = {"project", "issuetype", "summary", "description", "labels", POINTS_FIELD}
        for name in set(fields) - known:
            return errors(400, **{name: f"Field '{name}' cannot be set. It is not on the "
                                  "appropriate screen, or unknown."})
        if POINTS_FIELD in fields and not isinstance(fields[POINTS_FIELD], int | float):
            return errors(400, **{POINTS_FIELD: "Operation value must be a number"})
        number = len(self.issues) + 1
        issue_id, key = str(10000 + number), f"{project}-{number}"
        stored: dict[str, Any] = {"id": issue_id, "key": key, "fields": {
            "summary": fields["summary"], "description": fields.get("description"),
            "labels": list(fields.get("labels", [])),
            "project": {"id": "10000", "key": project, "name": project.title()},
            "issuetype": {"id": str(ISSUE_TYPES.index(issuetype) + 1), "name": issuetype},
            "created": jira_time(self._tick()), POINTS_FIELD: fields.get(POINTS_FIELD),
        }}
        self._set_status(stored, "To Do", None)
        self.issues[key] = stored
        self.comments[key] = []
        return Reply(201, {"id": issue_id, "key": key,
                           "self": f"{self.url}/rest/api/2/issue/{issue_id}"})

    def get_issue(self, request: Recorded, match: re.Match[str]) -> Reply:
        """
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-get"""
        issue = self.issues.get(match["key"])
        if issue is None:
            return errors(404, "Issue does not exist or you do not have permission to see it.")
        return Reply(200, self._view(issue, self._wanted(request, None)))

    def add_comment(self, request: Recorded, match: re.Match[str]) -> Reply:
        """
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-comments/#api-rest-api-2-issue-issueidorkey-comment-post"""
        key = match["key"]
        if key not in self.issues:
            return errors(404, "Issue does not exist or you do not have permission to see it.")
        body = (request.body or {}).get("body")
        if not isinstance(body, str) or not body:
            return errors(400, body="Comment body can not be empty!")
        self.comments[key].append(body)
        comment_id = str(20000 + sum(len(c) for c in self.comments.values()))
        author = {"accountId": "5b10a2844c20165700ede21g", "displayName": self.user,
                  "active": True}
        now = jira_time(self._tick())
        return Reply(201, {"self": f"{self.url}/rest/api/2/issue/{key}/comment/{comment_id}",
                           "id": comment_id, "author": author, "body": body,
                           "updateAuthor": author, "created": now, "updated": now,
                           "jsdPublic": True})

    def get_transitions(self, request: Recorded, match: re.Match[str]) -> Reply:
        """
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-transitions-get"""
        issue = self.issues.get(match["key"])
        if issue is None:
            return errors(404, "Issue does not exist or you do not have permission to see it.")
        current = issue["fields"]["status"]["name"]
        out = []
        for tid, status in TRANSITIONS.items():
            if status == current:
                continue
            sid, cat_key, cat_id, cat_name = STATUSES[status]
            out.append({"id": tid, "name": status, "hasScreen": False, "isGlobal": True,
                        "isInitial": False, "isAvailable": True, "isConditional": False,
                        "isLooped": False,
                        "to": {"self": f"{self.url}/rest/api/2/status/{sid}", "id": sid,
                               "name": status, "statusCategory": {"id": cat_id,
                                                                  "key": cat_key,
                                                                  "name": cat_name}}})
        return Reply(200, {"expand": "transitions", "transitions": out})

    def do_transition(self, request: Recorded, match: re.Match[str]) -> Reply:
        """Body
        {"transition": {"id": "31"}, "fields": {...}}; answers 204 without a body:
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-transitions-post
        """
        issue = self.issues.get(match["key"])
        if issue is None:
            return errors(404, "Issue does not exist or you do not have permission to see it.")
        body = request.body or {}
        tid = str((body.get("transition") or {}).get("id"))
        if tid not in TRANSITIONS or TRANSITIONS[tid] == issue["fields"]["status"]["name"]:
            return errors(400, f"Transition id '{tid}' is not valid for this issue.")
        resolution = ((body.get("fields") or {}).get("resolution") or {}).get("name")
        self._set_status(issue, TRANSITIONS[tid], resolution)
        return Reply(204)
