"""Builders for the small, hand-written frames the KPI tests reason about.

The frames have the columns and dtypes the store's query functions return (datetime
columns timezone-aware UTC), so the KPIs are tested on the shapes they will see.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

ITEM_COLUMNS = [
    "source", "key", "title", "type", "status", "status_category", "points", "epic",
    "sprint", "created", "resolved", "labels", "url", "origin",
]  # fmt: skip
EVENT_COLUMNS = ["item_key", "ts", "field", "from_value", "to_value"]
SPRINT_COLUMNS = ["source", "external_id", "name", "state", "start", "end", "completed", "goal"]
RUN_COLUMNS = ["system", "pipeline", "run_id", "state", "start", "end", "trigger", "url"]


def t(text: str | None) -> pd.Timestamp | None:
    """'2024-03-04 09:00' -> aware UTC Timestamp (None stays None)."""
    return None if text is None else pd.Timestamp(text, tz="UTC")


def _utc(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def item(
    key: str,
    *,
    points: float | None = None,
    sprint: str | None = None,
    category: str = "todo",
    created: str = "2024-02-01 09:00",
    resolved: str | None = None,
    type: str = "story",
) -> dict[str, Any]:
    """An item's *current* row."""
    return {
        "source": "jira",
        "key": key,
        "title": f"title of {key}",
        "type": type,
        "status": {"todo": "To Do", "in_progress": "In Progress", "done": "Done"}.get(
            category, category
        ),
        "status_category": category,
        "points": float("nan") if points is None else float(points),
        "epic": None,
        "sprint": sprint,
        "created": t(created),
        "resolved": t(resolved),
        "labels": "",
        "url": None,
        "origin": "imported",
    }


def ev(key: str, ts: str, field: str, from_value: str | None, to_value: str | None) -> dict:
    return {
        "item_key": key,
        "ts": t(ts),
        "field": field,
        "from_value": from_value,
        "to_value": to_value,
    }


def items_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return _utc(pd.DataFrame(rows, columns=ITEM_COLUMNS), "created", "resolved")


def events_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return _utc(pd.DataFrame(rows, columns=EVENT_COLUMNS), "ts")


def sprint(
    external_id: str,
    *,
    state: str,
    start: str | None,
    end: str | None,
    completed: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    return {
        "source": "jira",
        "external_id": external_id,
        "name": name or f"Sprint {external_id}",
        "state": state,
        "start": t(start),
        "end": t(end),
        "completed": t(completed),
        "goal": "",
    }


def sprints_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return _utc(pd.DataFrame(rows, columns=SPRINT_COLUMNS), "start", "end", "completed")


def run(
    run_id: str, state: str, end: str | None, *, pipeline: str = "train", start: str | None = None
) -> dict[str, Any]:
    return {
        "system": "airflow",
        "pipeline": pipeline,
        "run_id": run_id,
        "state": state,
        "start": t(start or end or "2024-03-01 00:00"),
        "end": t(end),
        "trigger": "schedule",
        "url": None,
    }


def runs_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return _utc(pd.DataFrame(rows, columns=RUN_COLUMNS), "start", "end")


def points_frame(rows: list[tuple[str, float | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [(t(ts), float("nan") if v is None else v) for ts, v in rows], columns=["ts", "value"]
    )
    return _utc(frame, "ts")
