"""Issue 9: what a request may put in and what an answer may let out.

In: SQL metacharacters, wildcards, unicode and a NUL in every query parameter every page
reads (found from the pages' `layout` signatures, so a parameter added later is sent too)
and in the KPI page's path, through Dash's page router: the answer is a page or a 4xx,
never a 500, and the store keeps every row. A repeated parameter (`?end=a&end=b`, which
Dash passes as a list) is no 500 either.

Out: the hostile world's config holds secrets (a source token, a database URL with its
password, a push token, sink tokens, the OIDC client secret; tests/world/hostile.py); none
appears in any page, `/_dash-layout`, `/_dash-dependencies`, error answer or log line of a
sweep through them, and an unexpected error answers only its id.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import dash
import pytest
from hostile_app import HostileApp, build, post, router
from sqlalchemy import func, select, table
from sqlalchemy import inspect as sql_inspect
from world import hostile

PAYLOADS = ("' OR 1=1 --", '"; DROP TABLE x; --', "%", "_", "ünï©ödé €😀 \u202eevil",
            "\x00")
COMBINED = "".join(PAYLOADS[:5])  # every metacharacter in one value
VALID = {"product": "shop", "start": "2026-02-16", "end": "2026-03-15"}
EXTRA = "run"  # a parameter no page names: it reaches the layout's **query
KNOWN = {"product", "start", "end", "sprint", "dataset", "model", "metric", "offset", "slug"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileApp]:
    yield from build(tmp_path_factory.mktemp("inputs"))


def page_parameters() -> dict[str, list[str]]:
    """Each page's path template -> the query parameters (and path variables) it reads."""
    found = {}
    for page in dash.page_registry.values():
        params = inspect.signature(page["layout"]).parameters.values()
        names = [p.name for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            names.append(EXTRA)
        found[page.get("path_template") or page["path"]] = names
    return found


def url(template: str, query: dict[str, str]) -> tuple[str, str]:
    """(pathname, search) of a page, its path variable taken from `query`."""
    query = dict(query)
    slug = query.pop("slug", "shop-review")
    return template.replace("<slug>", slug), "?" + urlencode(query)


def row_counts(app: HostileApp) -> dict[str, int]:
    engine = app.store.engine
    with engine.connect() as connection:
        return {name: connection.execute(select(func.count()).select_from(table(name)))
                .scalar_one() for name in sql_inspect(engine).get_table_names()}


def test_the_pages_parameters_are_found(app: HostileApp) -> None:
    """The discovery below sends what it should: every parameter pages are known to read."""
    found = page_parameters()
    assert {name for names in found.values() for name in names} >= KNOWN
    assert found["/kpi/<slug>"][:2] == ["slug", "end"] and EXTRA in found["/"]


def test_sql_metacharacters_in_every_parameter_are_text(app: HostileApp) -> None:
    client = app.client("ada")
    before = row_counts(app)
    sent = 0
    for template, names in page_parameters().items():
        # each payload in every parameter at once, then the combined payload in one
        # parameter at a time (the others valid, so none stops the page before it)
        queries = [dict.fromkeys(names, payload) for payload in PAYLOADS]
        queries += [{**VALID, name: COMBINED} for name in names]
        for query in queries:
            pathname, search = url(template, query)
            answer = router(client, pathname, search)
            assert answer.status_code < 500, (template, query, answer.get_data(as_text=True))
            if answer.status_code == 200:
                assert answer.get_json()["response"]["_pages_content"]["children"]
            sent += 1
    assert sent > 100
    assert row_counts(app) == before


def test_a_repeated_parameter_is_no_server_error(app: HostileApp) -> None:
    """Dash passes `?end=a&end=b` to the layout as a list; a page reads one string."""
    client = app.client("ada")
    for template, names in page_parameters().items():
        pathname, _ = url(template, {})
        search = "?" + urlencode([(n, v) for n in names for v in ("2026-03-01", "shop")])
        answer = router(client, pathname, search)
        assert answer.status_code == 200, (template, answer.get_data(as_text=True)[:300])


# ---------------------------------------------------------------- secrets


def secrets_of(app: HostileApp) -> list[str]:
    """Every secret the app knows, and the distinctive part of the webhook URL."""
    webhook = hostile.SECRETS["DSPO_HOSTILE_WEBHOOK_URL"]
    return [*hostile.SECRETS.values(), webhook.rsplit("/", 1)[1], app.server.secret_key]


def leaked(app: HostileApp, text: str) -> list[str]:
    plain = text.replace("\\u002f", "/").replace("\\/", "/")
    return [s for s in secrets_of(app) if s in plain]


def sweep(app: HostileApp) -> Iterator[tuple[str, Any]]:
    """(what, answer) of every page, the shell, and the error answers, as each person."""
    for user in ("ada", "ana", "sam", None):
        client = app.client(user)
        for path in ("/_dash-layout", "/_dash-dependencies", "/login", "/kpi/"):
            yield f"{user} GET {path}", client.get(path)
        for template in page_parameters():
            pathname, search = url(template, VALID)
            yield f"{user} page {pathname}", client.get(pathname + search)
            yield f"{user} router {pathname}", router(client, pathname, search)
        yield f"{user} no such page", router(client, "/no-such-page")
        yield f"{user} bad body", post(client, {"output": "alerts-body.children",
                                                "inputs": [], "state": []})
        yield f"{user} not json", client.post("/_dash-update-component", data="{",
                                                headers={"X-CSRFToken": "x"})
        yield f"{user} made-up callback", post(client, {"output": "nope.children",
                                                        "inputs": [], "changedPropIds": []})
        yield f"{user} missing report", client.get(f"/reports/{hostile.REPORT_SOURCE}/nope.html")
        yield f"{user} sso", client.get("/auth/oidc/login")  # its provider is down
        yield f"{user} sso callback", client.get("/auth/oidc/callback?code=x&state=y")
        yield f"{user} export", client.get("/export/kpi/shop-review.pdf")
        for token in ("wrong-token-0123456789", ""):
            yield f"{user} push", client.post(
                "/api/v1/sources/shop-push/metrics", json=[{"bad": "record"}],
                headers={"Authorization": f"Bearer {token}"})
        yield f"{user} push openapi", client.get("/api/v1/openapi.json")


def test_no_secret_in_any_answer_or_log(app: HostileApp, caplog: pytest.LogCaptureFixture,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import dashboard.export

    monkeypatch.setattr(dashboard.export, "CHROMIUM", "/nonexistent/chromium")
    caplog.set_level(logging.DEBUG)
    statuses = set()
    for what, answer in sweep(app):
        text = answer.get_data(as_text=True) + str(answer.headers)
        assert leaked(app, text) == [], what
        statuses.add(answer.status_code)
    assert {200, 302, 400, 401, 403, 404} <= statuses  # pages and errors were both seen
    # the sources carrying the secrets are on the page that lists sources
    shown = router(app.client("ada"), "/sources", "?product=shop").get_data(as_text=True)
    assert "shop-airflow" in shown and "shop-sql" in shown and "shop-push" in shown
    assert caplog.records, "the sweep logged nothing: is logging captured?"
    assert leaked(app, caplog.text) == []


def test_an_unexpected_error_answers_only_its_id(app: HostileApp,
                                                 caplog: pytest.LogCaptureFixture,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import dashboard.export
    import dashboard.pages.usage

    password = hostile.SECRETS["DSPO_HOSTILE_DB_PASSWORD"]

    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"could not connect to postgresql://reader:{password}@db/app")

    monkeypatch.setattr(dashboard.pages.usage, "build_usage", fail)
    monkeypatch.setattr(dashboard.export, "render", fail)
    client = app.client("ada")
    for answer in (router(client, "/usage", "?product=shop"),
                   client.get("/export/sprint.png?product=shop")):
        assert answer.status_code == 500
        text = answer.get_data(as_text=True)
        assert password not in text and "Traceback" not in text and "postgresql" not in text
        if answer.is_json:
            body = answer.get_json()
            assert set(body) == {"error", "error_id"}
            ident = body["error_id"]
        else:  # a person gets one line of text with the id
            assert answer.mimetype == "text/plain" and text.count("\n") == 1
            ident = text.split("error id ")[1].split(")")[0]
        assert len(ident) == 12 and f"error id {ident}" in text
        # the operator finds the cause in the log under the same id
        logged = [r for r in caplog.records if ident in r.getMessage()]
        assert logged and logged[0].exc_info is not None
