"""The sprint review page in Chromium, on the session's demo world, and its PDF export.

The sprint shown is the one holding the demo's experiments (one supported, one refuted).
Its numbers are worked out here from the store's raw rows, not by the review's service:
committed and completed are the Sprint page's (`build_sprint`), the experiments' outcomes
the ledger's, the usage values the latest raw point at or before the start and the close
read by hand, the alerts the firing episodes whose start lies in the sprint.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import pandas as pd
import pytest
from waits import wait_true

from dashboard.components import format as fmt
from dashboard.services.ledger import experiment_ledger
from dashboard.services.sprint import build_sprint
from kpis.history import as_text
from store import queries
from store.records import SeriesKind

pytestmark = [pytest.mark.slow]
CHART = "#review-delivered-chart .js-plotly-plot"


def _experiment_sprint(demo_store: Any) -> tuple[str, str, pd.DataFrame]:
    """(product, sprint, its ledger rows) of the demo sprint with a supported and a refuted
    experiment."""
    cfg, store = demo_store
    now = datetime.now(UTC)
    for product in cfg.products:
        ledger = experiment_ledger(store, product, as_of=now)
        for sprint, rows in ledger.groupby(ledger["sprint"].map(as_text)):
            if {"supported", "refuted"} <= set(rows["outcome"]):
                return product.key, str(sprint), rows
    raise AssertionError("the demo world has no sprint with a supported and a refuted "
                         "experiment")


def _latest(points: pd.DataFrame, at: pd.Timestamp) -> float | None:
    """The newest non-NaN value at or before `at`, by a plain scan."""
    best: tuple[pd.Timestamp, float] | None = None
    for ts, value in zip(points["ts"], points["value"], strict=True):
        if ts <= at and not pd.isna(value) and (best is None or ts >= best[0]):
            best = (ts, float(value))
    return None if best is None else best[1]


@pytest.mark.browser
def test_review_of_the_experiments_sprint(open_page, demo_store) -> None:  # type: ignore[no-untyped-def]
    cfg, store = demo_store
    product, sprint, experiments = _experiment_sprint(demo_store)
    shown = build_sprint(store, cfg.product(product), sprint, as_of=datetime.now(UTC))
    row = shown.selected
    assert row is not None and row["state"] == "closed"
    page, errors = open_page(f"/review?product={product}&sprint={sprint}", CHART)
    assert page.inner_text("[data-testid=review-sprint-name]") == str(row["name"])
    # committed and completed as the Sprint page counts them; delivered adds up to completed
    assert page.inner_text("[data-testid=review-committed]") == fmt.points(row["commitment"])
    assert page.inner_text("[data-testid=review-completed]") == fmt.points(row["completed"])
    assert page.inner_text("[data-testid=review-delivered-total]") == fmt.points(
        row["completed"])
    kinds = [float(page.inner_text(f"[data-testid=review-kind-{k}]"))
             for k in ("increment", "delivery", "experiment")]
    assert sum(kinds) == pytest.approx(float(row["completed"]), abs=0.15)
    # the two experiments with the ledger's outcomes
    for key, outcome in zip(experiments["key"], experiments["outcome"], strict=True):
        assert page.inner_text(f"[data-testid=review-outcome-{key}]") == outcome
    outcomes = [page.inner_text(f"[data-testid=review-outcome-{k}]")
                for k in experiments["key"]]
    assert "supported" in outcomes and "refuted" in outcomes
    assert page.inner_text("[data-testid=review-experiment-count]") == str(len(experiments))
    # usage: the latest raw point at or before the sprint's start and its close
    sprints = queries.sprints(store, product).set_index(
        queries.sprints(store, product)["external_id"].map(as_text))
    start = sprints.loc[sprint, "start"]
    close = sprints.loc[sprint, "completed"] if pd.notna(sprints.loc[sprint, "completed"]) \
        else sprints.loc[sprint, "end"]
    catalog = queries.series_catalog(store, product, SeriesKind.USAGE)
    assert len(catalog), "the demo collects usage KPIs"
    for kpi in catalog["name"]:
        points = queries.series_points(store, product, SeriesKind.USAGE, kpi)
        first, last = _latest(points, start), _latest(points, close)
        assert page.inner_text(f"[data-testid=review-usage-start-{kpi}]") == fmt.number(first)
        assert page.inner_text(f"[data-testid=review-usage-end-{kpi}]") == fmt.number(last)
        change = "–" if not first or last is None else f"{(last - first) / abs(first):+.1%}"
        assert page.inner_text(f"[data-testid=review-usage-change-{kpi}]") == change
    # alerts: the firing episodes that started in (start, close]
    incidents = queries.alert_incidents(store, product)
    fired = sum(1 for ts in incidents["started"] if start < ts <= close)
    assert page.inner_text("[data-testid=review-alerts-fired]") == str(fired)
    # the goal rests on the items labelled sprint-goal (the demo's experiment and report),
    # read from the store's items: met when every one was done by the close
    items = queries.backlog_items(store, product)
    goal = items[[("sprint-goal" in (labels or [])) and as_text(s) == sprint
                  for labels, s in zip(items["labels"], items["sprint"], strict=True)]]
    assert len(goal) == 2
    assert all(pd.notna(r) and r <= close for r in goal["resolved"])
    assert page.inner_text("[data-testid=review-goal-status]") == "met"
    assert errors == []


@pytest.mark.browser
def test_the_latest_closed_sprint_by_default_and_the_selector(open_page, demo_store) -> None:  # type: ignore[no-untyped-def]
    cfg, store = demo_store
    product, sprint, _ = _experiment_sprint(demo_store)
    velocity = build_sprint(store, cfg.product(product), None, as_of=datetime.now(UTC)).velocity
    closed = velocity.loc[velocity["state"] == "closed"]
    page, errors = open_page(f"/review?product={product}", CHART)
    assert page.inner_text("[data-testid=review-sprint-name]") == str(closed["name"].iloc[-1])
    page.click("#review-select button")
    page.click(f"#review-option-{sprint}")
    page.wait_for_url(f"**sprint={sprint}")
    assert f"product={product}" in urlparse(page.url).query
    name = str(closed.loc[closed["external_id"].map(as_text) == sprint, "name"].iloc[0])
    wait_true(page, "(name) => document.querySelector("
              "'[data-testid=review-sprint-name]').innerText === name", name)
    page.wait_for_selector(CHART, timeout=30_000)
    assert page.get_attribute("#review-export-pdf", "href") == (
        f"/export/review.pdf?product={product}&sprint={sprint}")
    assert errors == []


@pytest.mark.browser
def test_the_pdf_export_holds_the_sprint_and_its_chart(demo_context, dashboard_url,  # type: ignore[no-untyped-def]
                                                      demo_store) -> None:
    from pypdf import PdfReader

    cfg, store = demo_store
    product, sprint, _ = _experiment_sprint(demo_store)
    row = build_sprint(store, cfg.product(product), sprint, as_of=datetime.now(UTC)).selected
    assert row is not None
    answer = demo_context.request.get(
        f"{dashboard_url.rstrip('/')}/export/review.pdf?product={product}&sprint={sprint}",
        timeout=90_000)
    assert answer.status == 200, answer.text()[:300]
    assert answer.headers["content-type"] == "application/pdf"
    body = answer.body()
    assert body.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(body))
    text = " ".join(p.extract_text() for p in reader.pages)
    assert str(row["name"]) in text  # the sprint's name
    assert fmt.points(row["completed"]) in text  # its delivered points
    # the chart: its bars' category labels and its axis title are drawn as text
    assert "committed" in text and "delivered" in text and "story points" in text
    assert len(reader.pages) <= 2
