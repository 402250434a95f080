"""The Pipelines page in Chromium names a failed run's failed tasks and lists its tasks, on a
store seeded through `write_records` with hand-made runs and task instances (as the airflow
collector writes them); a task id is text from a source and is shown as text, never HTML."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from signin import page_for, serving

from store import records as r
from store.db import Store
from store.writer import write_records

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HOSTILE = "<img src=x onerror=\"document.title='pwned'\">"
NOW = datetime.now(UTC).replace(microsecond=0)
FAILED_AT = NOW - timedelta(hours=2)  # train_model's failed run
OK_AT = NOW - timedelta(hours=5)  # its successful run
SCORE_AT = NOW - timedelta(hours=8)  # a run of a system that reports no duration
FAILED = "train_model/manual__2026-03-02T10:00:00+00:00"


def _world() -> list[r.Record]:
    def at(seconds: float) -> datetime:
        return FAILED_AT + timedelta(seconds=seconds)

    return [
        r.PipelineRun("p", "airflow", "train_model", "train_model/scheduled__1",
                      r.PipelineState.SUCCESS, OK_AT, OK_AT + timedelta(seconds=100),
                      run_type="scheduled", duration=90.0,
                      url="https://airflow.example.com/dags/train_model/runs/scheduled__1"),
        r.PipelineRun("p", "airflow", "train_model", FAILED, r.PipelineState.FAILED, FAILED_AT,
                      at(120), run_type="manual", duration=118.5, url="javascript:alert(1)"),
        r.PipelineRun("p", "mlflow", "score", "s-1", r.PipelineState.SUCCESS, SCORE_AT,
                      SCORE_AT + timedelta(seconds=600)),
        r.PipelineTask("p", FAILED, "extract", "success", at(0), at(30), 30.0, 1,
                       operator="BashOperator"),
        r.PipelineTask("p", FAILED, "train", "failed", at(30), at(75), 45.0, 2,
                       operator="PythonOperator"),
        r.PipelineTask("p", FAILED, HOSTILE, "failed", at(31), at(40), 9.0, 1, map_index=1),
        r.PipelineTask("p", FAILED, "publish", "upstream_failed", try_number=0),
    ]


@pytest.fixture(scope="module")
def pipelines_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("pipelines")
    db = folder / "dspo.db"
    config = folder / "dspo.yaml"
    config.write_text(f'store: {{url: "sqlite:///{db}"}}\n'
                      "products: [{key: p, name: Payments}]\n")
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    with store.session() as s:
        write_records(s, "airflow-prod", _world())
    store.dispose()
    with serving(config, {}, folder / "serve.log") as url:
        yield url


def test_failed_runs_name_their_failed_tasks(browser, pipelines_url: str) -> None:  # type: ignore[no-untyped-def]
    page = page_for(browser, pipelines_url, {"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(pipelines_url.rstrip("/") + "/pipelines?product=p")
    page.wait_for_selector("#pipelines-runs")

    def text(testid: str) -> str:
        return page.inner_text(f"[data-testid={testid}]").strip()

    # Recent runs, newest first: the failed run names its two failed tasks in start order
    # (train at +30 s, the mapped hostile task at +31 s); upstream_failed is not a cause.
    assert text("pipelines-run-failed-0") == f"train, {HOSTILE}[1]"
    failed_row = text("pipelines-run-0")
    assert "manual" in failed_row and "2.0 min *" in failed_row  # Airflow's 118.5 s
    ok_row = text("pipelines-run-1")
    assert "scheduled" in ok_row and "1.5 min *" in ok_row  # Airflow's 90 s, not 100 s
    assert text("pipelines-run-failed-1") == "–"
    assert "10.0 min" in text("pipelines-run-2") and "*" not in text("pipelines-run-2")

    # The failed run's every task, failed ones first by start, the one that never ran last.
    assert text("pipelines-failed-run-0-names") == f"train, {HOSTILE}[1]"
    rows = [text(f"pipelines-failed-run-0-task-{j}").split("\t") for j in range(4)]
    assert [row[:3] for row in rows] == [
        ["extract", "success", "1"], ["train", "failed", "2"], [f"{HOSTILE}[1]", "failed", "1"],
        ["publish", "upstream_failed", "0"]]
    assert rows[1][4] == "45 s" and rows[3][3] == "–" and rows[3][4] == "–"

    # Text from sources stays text; a javascript: URL is never a link.
    assert page.title() != "pwned"
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("a[href^='https://airflow.example.com']").count() == 1
    assert errors == []
    page.close()
