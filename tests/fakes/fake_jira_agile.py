"""A fake Jira (Cloud or Data Center) with the Agile API, issue search and changelogs, for
the `jira` collector's tests. The alert sink's fake (`fake_jira.py`) stays as it is; this one
borrows its error shape and time format.

Modelled honestly where the collector depends on it:
- auth: Cloud takes HTTP basic with the account e-mail and API token
  (https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/), Data
  Center a personal access token as a bearer token
  (https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html);
- search: Cloud serves only /search/jql (nextPageToken pages, `isLast`), answers 410 on the
  removed /search; Data Center serves /search (startAt, maxResults, total). JQL is really
  parsed (project, labels, issuetype, `updated >= "yyyy-MM-dd HH:mm"` read in the *user's*
  time zone, parentheses, ORDER BY created); anything else is a 400 as Jira gives;
- changelog: Cloud's search embeds at most `embedded_histories` histories with the true
  `total`; the rest only comes from GET /issue/{key}/changelog (paged). Data Center's
  expand=changelog holds every history;
- page sizes are capped as the real servers cap them (`max_results`).
"""

from __future__ import annotations

import base64
import re
import time
from datetime import UTC, datetime
from datetime import timedelta as td
from typing import Any
from zoneinfo import ZoneInfo

from fake_http import FakeServer, Recorded, Reply
from fake_jira import errors, jira_time

SPRINT_FIELD = "customfield_10020"
EPIC_LINK_FIELD = "customfield_10014"
STATUSES = {  # name → (status id, statusCategory key, statusCategory id, category name)
    "To Do": ("10000", "new", 2, "To Do"),
    "In Progress": ("3", "indeterminate", 4, "In Progress"),
    "In Review": ("10002", "indeterminate", 4, "In Progress"),
    "Ready for release": ("10003", "indeterminate", 4, "In Progress"),
    "Done": ("10001", "done", 3, "Done"),
}
SPRINT_TIME = "%Y-%m-%dT%H:%M:%S.000Z"


def agile_time(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime(SPRINT_TIME)


class FakeJiraAgile(FakeServer):
    def __init__(self, *, deployment: str = "Cloud", email: str = "po@example.com",
                 token: str = "secret-token-123", time_zone: str = "UTC",
                 points_id: str = "customfield_10016", max_results: int = 100,
                 embedded_histories: int = 40) -> None:
        super().__init__()
        self.deployment, self.email, self.token = deployment, email, token
        self.time_zone, self.points_id = time_zone, points_id
        self.max_results, self.embedded_histories = max_results, embedded_histories
        self.issues: dict[str, dict[str, Any]] = {}
        self.boards: dict[int, dict[str, Any]] = {}
        self.sprints: dict[int, list[dict[str, Any]]] = {}
        self.reports: dict[int, dict[str, Any]] = {}
        self.times: list[float] = []  # arrival of each request (time.monotonic)
        self.reports_refused = False  # a site whose internal sprint report API says no
        self.garbled: str | None = None  # a path pattern answered once with broken JSON
        api, agile = r"/rest/api/(?:2|3)", r"/rest/agile/1\.0"
        self.route("GET", api + "/myself", self.myself)
        self.route("GET", api + "/field", self.fields)
        self.route("GET", api + "/status", self.statuses)
        self.route("GET", api + "/search/jql", self.search_jql)
        self.route("GET", api + "/search", self.search)
        self.route("GET", api + r"/issue/(?P<key>[A-Z]+-\d+)/changelog", self.changelog)
        self.route("GET", api + r"/issue/(?P<key>[A-Z]+-\d+)", self.issue)
        self.route("GET", agile + "/board", self.board_list)
        self.route("GET", agile + r"/board/(?P<board>\d+)/sprint", self.sprint_list)
        self.route("GET", r"/rest/greenhopper/1\.0/rapid/charts/sprintreport", self.report)

    @property
    def cloud(self) -> bool:
        return self.deployment == "Cloud"

    def handle(self, request: Recorded) -> Reply:
        self.times.append(time.monotonic())
        if self.garbled and re.fullmatch(self.garbled, request.path):
            self.garbled = None
            self.requests.append(request)
            return Reply(200, '{"issues": [{"key": "DS-1", "fields": {"summ')  # cut short
        return super().handle(request)

    # ------------------------------------------------------------ auth

    def authorized(self, request: Recorded) -> bool:
        header = request.headers.get("authorization", "")
        if self.cloud:
            expected = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
            return header == f"Basic {expected}"
        return header == f"Bearer {self.token}"

    def unauthorized(self) -> Reply:
        return errors(401, "You are not authenticated. Authentication required to perform "
                      "this operation.")

    # ------------------------------------------------------------ building the world

    def add_issue(self, key: str, created: datetime, *, summary: str = "", kind: str = "Story",
                  status: str = "To Do", points: float | None = None,
                  sprints: list[int] | None = None, labels: list[str] | None = None,
                  parent: str | None = None, epic_link: str | None = None,
                  resolved: datetime | None = None,
                  description: str | None = None) -> dict[str, Any]:
        number = len(self.issues) + 10001
        fields: dict[str, Any] = {
            "summary": summary or f"Issue {key}", "labels": list(labels or []),
            "description": description,
            "issuetype": {"id": "10001", "name": kind, "subtask": kind == "Sub-task",
                          "hierarchyLevel": -1 if kind == "Sub-task" else 0},
            "project": {"id": "10000", "key": key.split("-")[0]},
            "created": jira_time(created), "updated": jira_time(created),
            "resolutiondate": jira_time(resolved) if resolved else None,
            self.points_id: points, SPRINT_FIELD: None,
            "parent": None if parent is None else {
                "id": "20000", "key": parent,
                "fields": {"summary": "Parent", "issuetype": {"name": "Epic",
                                                              "hierarchyLevel": 1}}},
        }
        if not self.cloud:
            fields[EPIC_LINK_FIELD] = epic_link
        issue = {"id": str(number), "key": key, "fields": fields, "histories": []}
        self.issues[key] = issue
        self.set_status(key, status)
        self.set_sprints(key, sprints or [])
        return issue

    def set_status(self, key: str, status: str) -> None:
        sid, cat_key, cat_id, cat_name = STATUSES[status]
        self.issues[key]["fields"]["status"] = {
            "self": f"{self.url}/rest/api/2/status/{sid}", "id": sid, "name": status,
            "statusCategory": {"id": cat_id, "key": cat_key, "colorName": "blue-gray",
                               "name": cat_name}}

    def set_sprints(self, key: str, ids: list[int]) -> None:
        """The Sprint field: objects on Cloud, Greenhopper's strings on Data Center."""
        known = {s["id"]: s for board in self.sprints.values() for s in board}
        values: list[Any] = []
        for i in ids:
            s = known.get(i, {"id": i, "name": f"Sprint {i}", "state": "future",
                              "originBoardId": 1, "goal": ""})
            if self.cloud:
                values.append({k: s.get(k) for k in ("id", "name", "state", "boardId",
                                                     "goal", "startDate", "endDate",
                                                     "completeDate")})
            else:
                values.append(
                    f"com.atlassian.greenhopper.service.sprint.Sprint@5e{i}[id={i},"
                    f"rapidViewId={s.get('originBoardId')},state={str(s['state']).upper()},"
                    f"name={s['name']},startDate={s.get('startDate') or '<null>'},"
                    f"endDate={s.get('endDate') or '<null>'},"
                    f"completeDate={s.get('completeDate') or '<null>'},sequence={i},"
                    f"goal={s.get('goal') or ''}]")
        self.issues[key]["fields"][SPRINT_FIELD] = values or None

    def change(self, key: str, at: datetime, field: str, before: Any, after: Any) -> None:
        """Record a change in the issue's changelog and apply it. `field` is status (names),
        points (numbers) or sprint (lists of sprint ids)."""
        issue = self.issues[key]
        if field == "status":
            item = {"field": "status", "fieldtype": "jira", "fieldId": "status",
                    "from": STATUSES[before][0] if before else None, "fromString": before,
                    "to": STATUSES[after][0], "toString": after}
            self.set_status(key, after)
        elif field == "points":
            item = {"field": self.field_name(self.points_id), "fieldtype": "custom",
                    "fieldId": self.points_id, "from": None,
                    "fromString": None if before is None else str(before),
                    "to": None, "toString": None if after is None else str(after)}
            issue["fields"][self.points_id] = after
        else:
            item = {"field": "Sprint", "fieldtype": "custom", "fieldId": SPRINT_FIELD,
                    "from": ", ".join(map(str, before)), "fromString": "",
                    "to": ", ".join(map(str, after)), "toString": ""}
            self.set_sprints(key, list(after))
        if not self.cloud:
            item.pop("fieldId")  # Data Center's changelog names fields, without their id
        history = {"id": str(30000 + sum(len(i["histories"]) for i in self.issues.values())),
                   "author": {"displayName": "Ana"}, "created": jira_time(at), "items": [item]}
        issue["histories"].append(history)
        issue["fields"]["updated"] = jira_time(at)

    def add_board(self, board: int, project: str, kind: str = "scrum") -> None:
        self.boards[board] = {"id": board, "self": f"{self.url}/rest/agile/1.0/board/{board}",
                              "name": f"{project} board {board}", "type": kind,
                              "location": {"projectKey": project, "projectId": 10000}}
        self.sprints.setdefault(board, [])

    def add_sprint(self, board: int, sprint: int, state: str, start: datetime | None = None,
                   end: datetime | None = None, completed: datetime | None = None,
                   goal: str = "") -> None:
        self.sprints[board].append({
            "id": sprint, "self": f"{self.url}/rest/agile/1.0/sprint/{sprint}", "state": state,
            "name": f"Sprint {sprint}", "startDate": agile_time(start),
            "endDate": agile_time(end), "completeDate": agile_time(completed),
            "createdDate": agile_time(start), "originBoardId": board, "goal": goal})

    def remove_sprint(self, sprint: int) -> None:
        for board in self.sprints.values():
            board[:] = [s for s in board if s["id"] != sprint]

    def set_report(self, sprint: int, *, completed: dict[str, tuple[float, float]],
                   not_completed: dict[str, tuple[float, float]] | None = None,
                   punted: dict[str, tuple[float, float]] | None = None,
                   added: tuple[str, ...] = (), stat: str | None = None) -> None:
        """The sprint report's contents: per list, key -> (estimate at start or when added,
        estimate at the close)."""
        stat = stat or self.points_id

        def issue(key: str, est: tuple[float, float], done: bool) -> dict[str, Any]:
            return {"id": int(self.issues[key]["id"]) if key in self.issues else 1,
                    "key": key, "hidden": False, "typeName": "Story", "summary": key,
                    "done": done, "statusName": "Done" if done else "In Progress",
                    "estimateStatistic": {"statFieldId": stat,
                                          "statFieldValue": {"value": est[0]}},
                    "currentEstimateStatistic": {"statFieldId": stat,
                                                 "statFieldValue": {"value": est[1]}}}

        def total(group: dict[str, tuple[float, float]], at: int) -> dict[str, Any]:
            if not group:
                return {"text": "null"}
            value = float(sum(v[at] for v in group.values()))
            return {"value": value, "text": f"{value:g}"}

        nc, pu = not_completed or {}, punted or {}
        self.reports[sprint] = {
            "completedIssues": [issue(k, v, True) for k, v in completed.items()],
            "issuesNotCompletedInCurrentSprint": [issue(k, v, False) for k, v in nc.items()],
            "puntedIssues": [issue(k, v, False) for k, v in pu.items()],
            "issuesCompletedInAnotherSprint": [],
            "completedIssuesInitialEstimateSum": total(completed, 0),
            "completedIssuesEstimateSum": total(completed, 1),
            "issuesNotCompletedInitialEstimateSum": total(nc, 0),
            "issuesNotCompletedEstimateSum": total(nc, 1),
            "allIssuesEstimateSum": total({**completed, **nc}, 1),
            "puntedIssuesInitialEstimateSum": total(pu, 0),
            "puntedIssuesEstimateSum": total(pu, 1),
            "issuesCompletedInAnotherSprintInitialEstimateSum": {"text": "null"},
            "issuesCompletedInAnotherSprintEstimateSum": {"text": "null"},
            "issueKeysAddedDuringSprint": dict.fromkeys(added, True),
        }

    def field_name(self, field_id: str) -> str:
        return {"customfield_10016": "Story point estimate",
                "customfield_10028": "Story Points"}.get(field_id, field_id)

    # ------------------------------------------------------------ JQL

    def _matching(self, jql: str) -> list[dict[str, Any]] | Reply:
        parts = re.split(r"\s+ORDER\s+BY\s+", jql, maxsplit=1, flags=re.I)
        where, order = parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")
        if order and not re.fullmatch(r"created\s+(ASC|DESC)", order, re.I):
            return errors(400, f"Error in the JQL Query: cannot order by {order!r}.")
        found = list(self.issues.values())
        for clause in _top_level_and(where) if where else []:
            test = self._clause(clause)
            if isinstance(test, Reply):
                return test
            found = [i for i in found if test(i)]
        found.sort(key=lambda i: (i["fields"]["created"], int(i["id"])),
                   reverse=bool(order and order.upper().endswith("DESC")))
        return found

    def _clause(self, clause: str) -> Any:
        clause = clause.strip()
        while clause.startswith("(") and clause.endswith(")"):
            clause = clause[1:-1].strip()
        value = r'(?:"((?:[^"\\]|\\.)*)"|([\w.-]+))'
        m = re.fullmatch(rf"(project|labels|issuetype)\s*(=|!=)\s*{value}", clause, re.I)
        if m:
            name, op, wanted = m.group(1).lower(), m.group(2), m.group(3) or m.group(4)

            def has(i: dict[str, Any]) -> bool:
                f = i["fields"]
                got = {"project": [f["project"]["key"]], "labels": f["labels"],
                       "issuetype": [f["issuetype"]["name"]]}[name]
                return (wanted in got) == (op == "=")
            return has
        m = re.fullmatch(r'updated\s*>=\s*"(\d{4}[-/]\d\d[-/]\d\d \d\d:\d\d)"', clause, re.I)
        if m:  # JQL dates are in the searching user's time zone
            since = datetime.strptime(m.group(1).replace("/", "-"), "%Y-%m-%d %H:%M").replace(
                tzinfo=ZoneInfo(self.time_zone))
            return lambda i: _parse(i["fields"]["updated"]) >= since
        return errors(400, f"Error in the JQL Query: cannot parse {clause!r}.")

    # ------------------------------------------------------------ views

    def _view(self, issue: dict[str, Any], wanted: list[str], expand: str,
              embedded: int | None) -> dict[str, Any]:
        fields = issue["fields"]
        if "*all" not in wanted:
            fields = {k: v for k, v in fields.items() if k in wanted}
        out = {"expand": "renderedFields,names,schema,operations,editmeta,changelog",
               "id": issue["id"], "self": f"{self.url}/rest/api/2/issue/{issue['id']}",
               "key": issue["key"], "fields": fields}
        if "changelog" in expand.split(","):
            histories = issue["histories"]
            shown = histories if embedded is None else histories[:embedded]
            out["changelog"] = {"startAt": 0, "maxResults": len(shown),
                                "total": len(histories), "histories": shown}
        return out

    def _params(self, request: Recorded) -> tuple[str, list[str], str, int]:
        q = request.query
        jql = (q.get("jql") or [""])[0]
        wanted = [n for v in q.get("fields") or [] for n in v.split(",") if n]
        expand = (q.get("expand") or [""])[0]
        limit = min(int((q.get("maxResults") or ["50"])[0]), self.max_results)
        return jql, wanted, expand, limit

    # ------------------------------------------------------------ endpoints

    def myself(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-myself/#api-rest-api-2-myself-get
        https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/myself-getUser"""
        me: dict[str, Any] = {"self": f"{self.url}/rest/api/2/myself", "emailAddress": self.email,
                              "displayName": "Product Owner", "active": True,
                              "timeZone": self.time_zone, "locale": "en_US"}
        if self.cloud:
            me.update(accountId="5b10a2844c20165700ede21g", accountType="atlassian")
        else:
            me.update(key="JIRAUSER10100", name="po")
        return Reply(200, me)

    def fields(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-fields/#api-rest-api-2-field-get"""
        def system(i: str, name: str) -> dict[str, Any]:
            return {"id": i, "key": i, "name": name, "custom": False, "orderable": True,
                    "navigable": True, "searchable": True, "clauseNames": [i]}

        def custom(i: str, name: str, schema: str, kind: str) -> dict[str, Any]:
            number = i.split("_")[1]
            return {"id": i, "key": i, "name": name, "custom": True, "orderable": True,
                    "navigable": True, "searchable": True,
                    "clauseNames": [f"cf[{number}]", name],
                    "schema": {"type": kind, "custom": schema, "customId": int(number)}}

        out = [system(i, n) for i, n in (("summary", "Summary"), ("status", "Status"),
                                         ("created", "Created"), ("updated", "Updated"),
                                         ("labels", "Labels"), ("issuetype", "Issue Type"),
                                         ("parent", "Parent"),
                                         ("resolutiondate", "Resolved"))]
        out += [
            custom("customfield_10016", "Story point estimate",
                   "com.pyxis.greenhopper.jira:jsw-story-points", "number"),
            custom("customfield_10028", "Story Points",
                   "com.atlassian.jira.plugin.system.customfieldtypes:float", "number"),
            custom(SPRINT_FIELD, "Sprint", "com.pyxis.greenhopper.jira:gh-sprint", "array"),
        ]
        if not self.cloud:
            out.append(custom(EPIC_LINK_FIELD, "Epic Link",
                              "com.pyxis.greenhopper.jira:gh-epic-link", "any"))
        return Reply(200, out)

    def statuses(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-workflow-statuses/#api-rest-api-2-status-get"""
        return Reply(200, [
            {"self": f"{self.url}/rest/api/2/status/{sid}", "description": "", "name": name,
             "id": sid, "statusCategory": {"id": cat_id, "key": key, "colorName": "blue-gray",
                                           "name": cat_name}}
            for name, (sid, key, cat_id, cat_name) in STATUSES.items()])

    def search_jql(self, request: Recorded, match: re.Match[str]) -> Reply:
        """Enhanced search, Cloud only:
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-search/#api-rest-api-2-search-jql-get
        `fields` defaults to id only; pages by `nextPageToken`; `isLast` says the end."""
        if not self.cloud:
            return errors(404, "null for uri: /rest/api/2/search/jql")
        jql, wanted, expand, limit = self._params(request)
        found = self._matching(jql)
        if isinstance(found, Reply):
            return found
        token = (request.query.get("nextPageToken") or [""])[0]
        start = int(base64.b64decode(token).decode()) if token else 0
        page = found[start:start + limit]
        body: dict[str, Any] = {"issues": [self._view(i, wanted or ["id"], expand,
                                                      self.embedded_histories) for i in page],
                                "isLast": start + limit >= len(found)}
        if not body["isLast"]:
            body["nextPageToken"] = base64.b64encode(str(start + limit).encode()).decode()
        return Reply(200, body)

    def search(self, request: Recorded, match: re.Match[str]) -> Reply:
        """Data Center's search (startAt/maxResults/total), removed from Cloud:
        https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/search-searchUsingSearchRequest
        https://developer.atlassian.com/changelog/#CHANGE-2046"""
        if self.cloud:
            return errors(410, "The requested API has been removed. Please migrate to the "
                          "/rest/api/3/search/jql API.")
        jql, wanted, expand, limit = self._params(request)
        found = self._matching(jql)
        if isinstance(found, Reply):
            return found
        start = int((request.query.get("startAt") or ["0"])[0])
        page = found[start:start + limit]
        return Reply(200, {"expand": "schema,names", "startAt": start, "maxResults": limit,
                           "total": len(found),
                           "issues": [self._view(i, wanted or ["*all"], expand, None)
                                      for i in page]})

    def changelog(self, request: Recorded, match: re.Match[str]) -> Reply:
        """Cloud only, PageBeanChangelog:
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-changelog-get"""
        issue = self.issues.get(match["key"])
        if not self.cloud or issue is None:
            return errors(404, "Issue does not exist or you do not have permission to see it.")
        start = int((request.query.get("startAt") or ["0"])[0])
        limit = min(int((request.query.get("maxResults") or ["100"])[0]), 100)
        histories = issue["histories"]
        values = histories[start:start + limit]
        return Reply(200, {"self": f"{self.url}/rest/api/2/issue/{issue['key']}/changelog",
                           "maxResults": limit, "startAt": start, "total": len(histories),
                           "isLast": start + limit >= len(histories), "values": values})

    def issue(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-get"""
        issue = self.issues.get(match["key"])
        if issue is None:
            return errors(404, "Issue does not exist or you do not have permission to see it.")
        _jql, wanted, expand, _limit = self._params(request)
        return Reply(200, self._view(issue, wanted or ["*all"], expand, None))

    def board_list(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://developer.atlassian.com/cloud/jira/software/rest/api-group-board/#api-rest-agile-1-0-board-get"""
        q = request.query
        project = (q.get("projectKeyOrId") or [None])[0]
        kind = (q.get("type") or [None])[0]
        boards = [b for b in self.boards.values()
                  if (project is None or b["location"]["projectKey"] == project)
                  and (kind is None or b["type"] == kind)]
        return Reply(200, self._paged(request, boards, 50, total=True))

    def sprint_list(self, request: Recorded, match: re.Match[str]) -> Reply:
        """https://developer.atlassian.com/cloud/jira/software/rest/api-group-board/#api-rest-agile-1-0-board-boardid-sprint-get"""
        board = self.boards.get(int(match["board"]))
        if board is None:
            return errors(404, "Board does not exist or you do not have permission to see it.")
        if board["type"] != "scrum":
            return errors(400, "The board does not support sprints")
        return Reply(200, self._paged(request, self.sprints[board["id"]], 50, total=False))

    def _paged(self, request: Recorded, values: list[Any], cap: int, *, total: bool
               ) -> dict[str, Any]:
        start = int((request.query.get("startAt") or ["0"])[0])
        limit = min(int((request.query.get("maxResults") or ["50"])[0]), cap)
        body: dict[str, Any] = {"maxResults": limit, "startAt": start,
                                "isLast": start + limit >= len(values),
                                "values": values[start:start + limit]}
        if total:
            body["total"] = len(values)
        return body

    def report(self, request: Recorded, match: re.Match[str]) -> Reply:
        """The board's Sprint Report data (Jira's internal greenhopper API; the shape the
        `jira` library's `removed_issues` reads: {contents: {completedIssues, ...}, sprint})."""
        sprint_id = int((request.query.get("sprintId") or ["0"])[0])
        board_id = int((request.query.get("rapidViewId") or ["0"])[0])
        sprint = next((s for s in self.sprints.get(board_id, []) if s["id"] == sprint_id), None)
        if sprint is None or self.reports_refused:
            return errors(404, f"Could not find sprint with id {sprint_id} on this board")
        contents = self.reports.get(sprint_id) or {}
        return Reply(200, {"contents": contents,
                           "sprint": {"id": sprint_id, "name": sprint["name"],
                                      "state": str(sprint["state"]).upper(),
                                      "goal": sprint["goal"]},
                           "lastUserToClose": "Ana", "supportsPages": True})


def _top_level_and(where: str) -> list[str]:
    """Split on AND outside quotes and parentheses."""
    parts, depth, quoted, current = [], 0, False, ""
    tokens = re.split(r'(\s+AND\s+|"|\(|\))', where, flags=re.I)
    for token in tokens:
        if token == '"':
            quoted = not quoted
        elif not quoted and token == "(":
            depth += 1
        elif not quoted and token == ")":
            depth -= 1
        if not quoted and depth == 0 and re.fullmatch(r"\s+AND\s+", token, re.I):
            parts.append(current)
            current = ""
        else:
            current += token
    return [*parts, current]


def _parse(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


# ---------------------------------------------------------------- the tests' shared world

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday: sprint 12 starts, sprint 11 closed
S11_START = datetime(2026, 2, 16, 9, 0, tzinfo=UTC)
S11_CLOSE = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def seed_team(fake: FakeJiraAgile, project: str = "DS") -> None:
    """One scrum board, a closed sprint 11 with Jira's report, active 12, future 13, and
    issues whose changelogs hold what the Sprint page explains (items by number):

    1 done in sprint 11; 2 re-estimated 5 -> 8, carried over to 12 at the close; 3 added
    mid-sprint and done; 4 removed mid-sprint; 5 'Ready for release' at the close (Jira's
    done column, category in progress) and Done after it; 6 a sub-task of 1; 7 in epic 100
    (Cloud: its parent) or 101 (Data Center: its Epic Link).
    """
    k = [f"{project}-{n}" for n in range(8)]
    fake.add_board(1, project)
    fake.add_board(2, project, kind="kanban")
    fake.add_sprint(1, 11, "closed", S11_START, S11_CLOSE + td(minutes=30), S11_CLOSE,
                    goal="Ship the scorer")
    fake.add_sprint(1, 12, "active", T0, T0 + td(days=14))
    fake.add_sprint(1, 13, "future")
    day = S11_START
    fake.add_issue(k[1], day - td(days=6), points=3, sprints=[11], parent=f"{project}-100")
    fake.change(k[1], day + td(days=1), "status", "To Do", "In Progress")
    fake.change(k[1], day + td(days=4), "status", "In Progress", "Done")
    fake.add_issue(k[2], day - td(days=6), points=5, sprints=[11])
    fake.change(k[2], day + td(days=2), "points", 5, 8)
    fake.change(k[2], day + td(days=3), "status", "To Do", "In Progress")
    fake.change(k[2], S11_CLOSE + td(milliseconds=200), "sprint", [11], [11, 12])
    fake.add_issue(k[3], day + td(days=2), kind="Bug", points=2, labels=["ml"],
                   description="Hypothesis: h\nSuccess criterion: auc > champion")
    fake.change(k[3], day + td(days=2, hours=1), "sprint", [], [11])
    fake.change(k[3], day + td(days=9), "status", "To Do", "Done")
    fake.add_issue(k[4], day - td(days=6), points=1, sprints=[11])
    fake.change(k[4], day + td(days=4), "sprint", [11], [])
    fake.add_issue(k[5], day - td(days=4), points=2, sprints=[11])
    fake.change(k[5], day + td(days=8), "status", "To Do", "Ready for release")
    fake.change(k[5], S11_CLOSE + td(days=1), "status", "Ready for release", "Done")
    fake.add_issue(k[6], day - td(days=5), kind="Sub-task", parent=k[1])
    # Data Center: the company-managed Epic Link field, Cloud: the parent
    epic = {"parent": f"{project}-100"} if fake.cloud else {"epic_link": f"{project}-101"}
    fake.add_issue(k[7], T0 + td(hours=1), points=3, sprints=[12], **epic)
    fake.set_report(11, completed={k[1]: (3, 3), k[3]: (2, 2), k[5]: (2, 2)},
                    not_completed={k[2]: (5, 8)}, punted={k[4]: (1, 1)}, added=(k[3],))
