"""Alerts end to end: the demo's drift fires a rule whose backlog item the overview shows;
a PO acknowledges and silences from the Alerts page, and the store records both."""

from __future__ import annotations

import pytest

from store import queries

pytestmark = [pytest.mark.slow]
RULE = "churn-drift-high"


def _alert(demo_store) -> dict:  # type: ignore[no-untyped-def, type-arg]
    _, store = demo_store
    found = queries.alerts(store, "churn")
    return found[found["rule"] == RULE].iloc[0].to_dict()


def test_demo_drift_filed_a_backlog_item(demo_store) -> None:  # type: ignore[no-untyped-def]
    _, store = demo_store
    alert = _alert(demo_store)
    assert alert["state"] == "firing" and alert["backlog_key"] == "ALERT-1"
    items = queries.backlog_items(store, "churn")
    item = items[items["key"] == "ALERT-1"].iloc[0]
    assert item["origin"] == "alert" and "drift" in item["title"].lower()
    quiet = queries.alerts(store, "demand")
    assert (quiet["state"] == "normal").all()


@pytest.mark.browser
def test_overview_shows_the_firing_alert_and_its_item(open_page) -> None:  # type: ignore[no-untyped-def]
    page, errors = open_page("/?product=churn", "[data-testid=firing-alerts]")
    assert "ALERT-1" in page.inner_text(f"[data-testid=firing-item-{RULE}]")
    page.click("text=All alerts")
    page.wait_for_selector("#alerts-active")
    assert errors == []


@pytest.mark.browser
def test_acknowledge_and_silence_from_the_page(open_page, demo_store) -> None:  # type: ignore[no-untyped-def]
    _, store = demo_store
    page, errors = open_page("/alerts?product=churn", "#alerts-active")
    assert page.inner_text("[data-testid=alerts-count-firing]") == "1"
    assert page.inner_text(f"[data-testid=alert-item-{RULE}]") == "ALERT-1"
    page.get_by_role("button", name="Acknowledge").click()  # no name: refused
    page.wait_for_selector("#alerts-feedback:has-text('Type your name')")
    assert _alert(demo_store)["acknowledged_by"] is None
    page.fill("#alerts-user", "Ana")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector("#alerts-feedback:has-text('Acknowledged by Ana')")
    assert _alert(demo_store)["acknowledged_by"] == "Ana"
    page.click("#alerts-silence-rule")
    page.keyboard.type(RULE)
    page.keyboard.press("Enter")
    page.fill("#alerts-silence-reason", "retraining on post-drift data")
    page.click("#alerts-silence-submit")
    page.wait_for_selector("[data-testid=alerts-silences-table]")
    silences = queries.silences(store, "churn")
    assert silences["reason"].tolist() == ["retraining on post-drift data"]
    assert page.inner_text("[data-testid=alerts-count-silenced]") == "1"
    assert errors == []
