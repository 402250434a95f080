"""The airflow collector against a fake Airflow REST API (tests/fakes/fake_airflow.py), as
Airflow 3 (/api/v2 through apache-airflow-client, JWT) and Airflow 2 (/api/v1, basic auth).

Every test that can runs for both majors: the same records must come out of either API.
The real Airflow 3 is exercised in tests/airflow_it/test_airflow_collector.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_airflow import T0, FakeAirflow
from fake_http import free_port

from collectors.airflow import AirflowCollector
from collectors.base import FatalSourceError, RetriableSourceError, reconcile_due
from collectors.runner import run_sources
from config.sources.airflow import AirflowSource
from config.sources.files import FilesSource
from store import queries
from store.db import Store
from store.records import PipelineRun, PipelineTask, Point, Present, Record

PASSWORD = "pw-Vq7c1-never-shown"
TOKEN = "tok-Zx81d-never-shown"
NOW = datetime.now(UTC)
ITEMS = ("key,title,type,status,status_category,points,created\n"
         "A-1,One,Story,Done,done,3,2026-02-01T10:00:00Z\n")


@pytest.fixture(params=["3", "2"], ids=["airflow3", "airflow2"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeAirflow]:
    with FakeAirflow(major=request.param, password=PASSWORD, token=TOKEN) as server:
        yield server


def settings(fake: FakeAirflow, **kw: Any) -> AirflowSource:
    base: dict[str, Any] = {"name": "airflow-prod", "kind": "airflow", "product": "churn",
                            "url": fake.url, "username": "admin", "password": PASSWORD,
                            "retries": 2}
    if "token" in kw:
        base.pop("username"), base.pop("password")
    return AirflowSource(**{**base, **kw})


def collect(source: AirflowSource, since: datetime | None = None) -> list[Record]:
    return list(AirflowCollector(source).collect(since, datetime.now(UTC)))


def of(records: list[Record], kind: type) -> list[Any]:
    return [r for r in records if isinstance(r, kind)]


def files_source(tmp_path: Path) -> FilesSource:
    items = tmp_path / "items.csv"
    items.write_text(ITEMS)
    return FilesSource(name="backlog", kind="files", product="churn", items=items)


def ml_world(fake: FakeAirflow) -> None:
    """etl (listed), ml_train (matches ^ml_), ml_paused (paused), other (neither)."""
    fake.add_run("etl", seconds=90.0, tasks=[("extract", "success"), ("load", "success"),
                                            ("check", "success")])
    fake.add_run("ml_train", state="failed", run_type="manual", start=T0 + timedelta(hours=1),
                 seconds=40.0, tasks=[("extract", "success"), ("train", "failed"),
                                      ("publish", "upstream_failed")])
    fake.add_run("ml_train", state="queued", start=T0 + timedelta(hours=2), tasks=[])
    fake.add_dag("ml_paused", paused=True)
    fake.add_run("ml_paused")
    fake.add_run("other")


# ------------------------------------------------------------ what is read


def test_runs_tasks_and_durations_reach_the_store(store: Store, fake: FakeAirflow) -> None:
    ml_world(fake)
    source = settings(fake, dags=["etl"], dag_pattern="^ml_")
    [first] = run_sources(store, [source])
    assert first.status == "ok", first.error

    runs = queries.pipeline_runs(store, "churn").set_index("run_id")
    etl = "etl/scheduled__2026-03-02T08:00:00+00:00"
    failed = "ml_train/manual__2026-03-02T09:00:00+00:00"
    queued = "ml_train/scheduled__2026-03-02T10:00:00+00:00"
    assert sorted(runs.index) == [etl, failed, queued]  # paused and unselected DAGs unread
    assert runs.loc[etl, "state"] == "success" and runs.loc[failed, "state"] == "failed"
    assert runs.loc[queued, "state"] == "queued"
    # Not started yet: it stands at its queued_at (Airflow 3) or logical date (Airflow 2).
    queued_at = T0 + timedelta(hours=2, seconds=-1 if fake.major == "3" else 0)
    assert runs.loc[queued, "start"] == queued_at
    assert runs.loc[failed, "run_type"] == "manual" and runs.loc[etl, "run_type"] == "scheduled"
    if fake.major == "3":  # Airflow 3's own duration; Airflow 2 reports none
        assert runs.loc[etl, "duration"] == 90.0 and runs.loc[failed, "duration"] == 40.0
    else:
        assert runs["duration"].isna().all()
    assert runs.loc[etl, "url"].startswith(fake.url + "/dags/etl/")

    tasks = queries.pipeline_tasks(store, "churn", T0, T0 + timedelta(days=1))
    mine = tasks[tasks["run_id"] == failed].set_index("task_id")
    assert mine["state"].to_dict() == {"extract": "success", "train": "failed",
                                       "publish": "upstream_failed"}
    assert mine.loc["train", "duration"] == pytest.approx(40.0 / 3)
    assert mine.loc["train", "start"] == T0 + timedelta(hours=1, seconds=40.0 / 3)
    publish = mine.loc["publish"]  # never ran: no times, although Airflow stamps some
    assert pd_isna(publish["start"]) and pd_isna(publish["end"]) and pd_isna(publish["duration"])
    assert publish["try_number"] == 0
    points = queries.series_points(store, "churn", "pipeline", "duration_seconds")
    assert points["value"].tolist() == [90.0]  # successful runs only

    [second] = run_sources(store, [source])
    assert (second.status, second.rows) == ("ok", 0)


def pd_isna(value: Any) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_a_run_deleted_in_airflow_leaves_the_store(store: Store, fake: FakeAirflow) -> None:
    kept = fake.add_run("etl")
    gone = fake.add_run("etl", start=T0 + timedelta(hours=1))
    source = settings(fake, reconcile_every="0s")
    assert run_sources(store, [source])[0].status == "ok"
    fake.delete_run("etl", gone.run_id)
    [result] = run_sources(store, [source])
    assert result.status == "ok" and result.rows == 1  # the run; its tasks go with it
    assert queries.pipeline_runs(store, "churn")["run_id"].tolist() == [f"etl/{kept.run_id}"]
    tasks = queries.pipeline_tasks(store, "churn", T0, T0 + timedelta(days=1))
    assert set(tasks["run_id"]) == {f"etl/{kept.run_id}"}


def test_pagination_over_three_pages(fake: FakeAirflow) -> None:
    for i in range(250):
        fake.add_run("etl", start=T0 + timedelta(minutes=i))
    records = collect(settings(fake, page_size=100))
    assert len(of(records, PipelineRun)) == 250
    assert len(of(records, PipelineTask)) == 500
    assert len({r.run_id for r in of(records, PipelineRun)}) == 250
    [present] = of(records, Present)
    assert len(present.keys) == 250 and present.scope == {"pipeline": "etl"}
    pages = fake.sent("GET", r"/api/v./dags/etl/dagRuns")
    assert len(pages) == 3
    assert len(fake.sent("POST", r"/api/v./dags/~/dagRuns/~/taskInstances/list")) >= 5


def test_an_airflow_3_without_cursor_paging_is_read_by_offset() -> None:
    with FakeAirflow(major="3", password=PASSWORD) as fake:
        fake.cursor_paging = False
        for i in range(250):
            fake.add_run("etl", start=T0 + timedelta(minutes=i))
        records = collect(settings(fake, version="3", tasks=False))
        assert len({r.run_id for r in of(records, PipelineRun)}) == 250
        offsets = [r.query.get("offset", ["-"])[0]
                   for r in fake.sent("GET", "/api/v2/dags/etl/dagRuns")]
        assert offsets == ["-", "100", "200"]


def test_many_dags_are_listed_in_one_go(fake: FakeAirflow) -> None:
    for i in range(25):
        fake.add_run(f"dag_{i:02d}")
    records = collect(settings(fake))
    assert len(of(records, PipelineRun)) == 25
    assert len(fake.sent("GET", r"/api/v./dags/~/dagRuns")) == 1
    assert fake.sent("GET", r"/api/v./dags/dag_00/dagRuns") == []


def test_incremental_reads_from_the_watermark_minus_the_overlap(fake: FakeAirflow) -> None:
    fake.add_run("etl", updated_at=NOW - timedelta(hours=3))
    recent = fake.add_run("etl", start=T0 + timedelta(hours=1),
                          updated_at=NOW - timedelta(minutes=5))
    records = collect(settings(fake, overlap="10m"), since=NOW)
    assert [r.run_id for r in of(records, PipelineRun)] == [f"etl/{recent.run_id}"]
    sent = fake.sent("GET", r"/api/v./dags/etl/dagRuns")[0].query["updated_at_gte"][0]
    assert datetime.fromisoformat(sent.replace("Z", "+00:00")) == NOW - timedelta(minutes=10)


def test_history_limits_the_first_run(fake: FakeAirflow) -> None:
    fake.add_run("etl", updated_at=NOW - timedelta(days=100))
    fake.add_run("etl", start=T0 + timedelta(hours=1), updated_at=NOW - timedelta(days=1))
    records = collect(settings(fake, history="30d"))
    assert len(of(records, PipelineRun)) == 1


@pytest.mark.parametrize(("since", "until", "due"), [
    (None, datetime(2026, 3, 2, 10, 5, tzinfo=UTC), True),  # first run
    (datetime(2026, 3, 2, 10, 5, tzinfo=UTC), datetime(2026, 3, 2, 10, 20, tzinfo=UTC), False),
    (datetime(2026, 3, 2, 10, 50, tzinfo=UTC), datetime(2026, 3, 2, 11, 5, tzinfo=UTC), True),
], ids=["first-run", "same-hour", "hour-crossed"])
def test_reconciliation_is_due_once_per_period(since: datetime | None, until: datetime,
                                               due: bool) -> None:
    assert reconcile_due(since, until, timedelta(hours=1)) is due


def test_no_tasks_when_switched_off(fake: FakeAirflow) -> None:
    fake.add_run("etl")
    records = collect(settings(fake, tasks=False))
    assert len(of(records, PipelineRun)) == 1 and of(records, PipelineTask) == []
    assert fake.sent("POST", r".*/taskInstances/list") == []
    assert of(records, Point)[0].labels == {"pipeline": "etl"}


def test_pipeline_name_template(fake: FakeAirflow) -> None:
    fake.add_run("etl")
    records = collect(settings(fake, pipeline_name="prod/{dag_id}"))
    assert of(records, PipelineRun)[0].pipeline == "prod/etl"
    assert of(records, Present)[0].scope == {"pipeline": "prod/etl"}


# ------------------------------------------------------------ failures


def test_a_500_then_success(store: Store, fake: FakeAirflow) -> None:
    fake.add_run("etl")
    fake.fail_next(500, {"detail": "Internal Server Error"})
    [result] = run_sources(store, [settings(fake, version=fake.major)])
    assert result.status == "ok" and result.records > 0
    assert fake.requests[0].path == fake.requests[1].path  # the same call, tried again


def test_a_429_waits_for_retry_after(fake: FakeAirflow) -> None:
    fake.add_run("etl")
    fake.fail_next(429, {"detail": "slow down"}, headers={"Retry-After": "2"})
    started = time.monotonic()
    records = collect(settings(fake, version=fake.major, token=TOKEN))
    waited = time.monotonic() - started
    assert len(of(records, PipelineRun)) == 1
    assert 2.0 <= waited < 6.0, f"waited {waited:.1f} s for a Retry-After of 2 s"


def test_a_dripping_answer_is_cut_by_the_deadline(
    store: Store, fake: FakeAirflow, tmp_path: Path
) -> None:
    fake.add_run("etl")
    fake.drip(0.05)  # every answer a byte per 50 ms: each read well within read_timeout
    source = settings(fake, version=fake.major, token=TOKEN, deadline="3s", read_timeout="2s")
    started = time.monotonic()
    results = {r.source: r for r in run_sources(store, [source, files_source(tmp_path)])}
    elapsed = time.monotonic() - started
    assert results["backlog"].status == "ok"
    airflow = results["airflow-prod"]
    assert airflow.status == "failed" and "deadline of 3s exceeded" in (airflow.error or "")
    assert "'airflow-prod'" in (airflow.error or "") and fake.url in (airflow.error or "")
    assert elapsed < 7, f"a 3 s deadline held the run for {elapsed:.1f} s"


def test_malformed_json_fails_clearly(fake: FakeAirflow) -> None:
    fake.fail_next(200, '{"dags": [')
    with pytest.raises(FatalSourceError) as caught:
        collect(settings(fake, version=fake.major, token=TOKEN))
    message = str(caught.value)
    assert "'airflow-prod'" in message and fake.url in message
    assert "/dags" in message
    expected = "not what apache-airflow-client expects" if fake.major == "3" else "not JSON"
    assert expected in message


@pytest.mark.parametrize("auth", ["password", "token"])
def test_a_401_names_source_url_and_credentials_but_never_the_secret(
    fake: FakeAirflow, caplog: pytest.LogCaptureFixture, auth: str
) -> None:
    fake.add_run("etl")
    fake.password, fake.static_token = "another-password", None  # ours is now wrong
    caplog.set_level(logging.DEBUG)
    kw = {"token": TOKEN} if auth == "token" else {}
    with pytest.raises(FatalSourceError) as caught:
        collect(settings(fake, version=fake.major, **kw))
    message = str(caught.value)
    assert "'airflow-prod'" in message and fake.url in message
    assert "HTTP 401" in message and "credentials" in message
    for secret in (PASSWORD, TOKEN):
        assert secret not in message and secret not in caplog.text


def test_the_version_is_detected(fake: FakeAirflow) -> None:
    fake.add_run("etl")
    records = collect(settings(fake))  # version: auto
    assert len(of(records, PipelineRun)) == 1
    probes = [r.path for r in fake.requests if r.path.endswith("/version")]
    assert probes == (["/api/v2/version"] if fake.major == "3"
                      else ["/api/v2/version", "/api/v1/version"])


def test_a_url_without_airflow_fails_clearly() -> None:
    from fake_http import FakeServer

    with FakeServer() as nothing:
        source = AirflowSource(name="airflow-prod", kind="airflow", product="p", url=nothing.url)
        with pytest.raises(FatalSourceError, match="neither /api/v2/version"):
            collect(source)


def test_a_stopped_airflow_is_a_retriable_failure_and_others_still_collect(
    store: Store, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    source = AirflowSource(name="airflow-prod", kind="airflow", product="churn", url=url,
                           retries=1)
    results = {r.source: r for r in run_sources(store, [source, files_source(tmp_path)])}
    assert results["backlog"].status == "ok"
    error = results["airflow-prod"].error or ""
    assert results["airflow-prod"].status == "failed"
    assert "'airflow-prod'" in error and url in error and "cannot connect" in error
    with pytest.raises(RetriableSourceError):
        collect(source.model_copy(update={"retries": 0}))


# ------------------------------------------------------------ Airflow 3's JWT


def test_a_revoked_jwt_is_renewed_once() -> None:
    with FakeAirflow(major="3", password=PASSWORD) as fake:
        fake.add_run("etl")
        fake.revoke_tokens_after("/api/v2/dags")
        records = collect(settings(fake, version="3"))
        assert len(of(records, PipelineRun)) == 1
        assert len(fake.sent("POST", "/auth/token")) == 2
        statuses = [r.path for r in fake.requests]
        assert statuses.count("/api/v2/dags/etl/dagRuns") == 2  # refused, then renewed


def test_a_jwt_near_its_expiry_is_renewed_before_the_call() -> None:
    with FakeAirflow(major="3", password=PASSWORD, token_lifetime=30) as fake:
        fake.add_run("etl")
        collect(settings(fake, version="3"))
        calls = [r for r in fake.requests if r.path.startswith("/api/v2/dags")]
        assert len(fake.sent("POST", "/auth/token")) == len(calls)  # one per call


def test_a_renewed_jwt_refused_again_fails() -> None:
    with FakeAirflow(major="3", password=PASSWORD) as fake:
        fake.add_run("etl")
        fake.authorized = lambda request: request.path == "/auth/token"  # type: ignore[method-assign]
        with pytest.raises(FatalSourceError, match="HTTP 401"):
            collect(settings(fake, version="3"))
        assert len(fake.sent("POST", "/auth/token")) == 2


# ------------------------------------------------------------ settings


@pytest.mark.parametrize(("change", "message"), [
    ({"pipeline_name": "etl"}, "must contain {dag_id}"),
    ({"pipeline_name": "{dag}"}, "only {dag_id} may be used"),
    ({"dag_pattern": "ml_("}, "not a regular expression"),
    ({"token": "t"}, "either token or username and password"),
    ({"password": None}, "username and password go together"),
    ({"overlap": -1}, "must not be negative"),
])
def test_settings_are_checked(change: dict[str, Any], message: str) -> None:
    base = {"name": "a", "kind": "airflow", "product": "p", "url": "http://x",
            "username": "u", "password": "p"}
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        AirflowSource(**{**base, **change})
