"""Backlog progress: how much of the backlog, by type and by points, is done.

Counted from the items' current rows (no history needed). Items without an estimate count
as 0 points but still count as items, so a backlog that is never estimated still shows
progress by count.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kpis.history import CATEGORIES, DONE

PROGRESS_COLUMNS = ["type", "status_category", "items", "points"]
CONTAINER_TYPES = frozenset({"epic", "initiative", "theme"})


def work_items(items: pd.DataFrame) -> pd.DataFrame:
    """The items work is done on: epics and other containers are left out.

    A container is finished when its children are; counting it too would count the same
    work twice (and, unestimated, dilute "items done").
    """
    if items.empty:
        return items
    is_container = items["type"].fillna("").str.strip().str.lower().isin(CONTAINER_TYPES)
    return items[~is_container].reset_index(drop=True)


def backlog_progress(items: pd.DataFrame) -> pd.DataFrame:
    """Items and points per (type, status_category): columns [type, status_category, items, points].

    Every type that occurs is paired with every category (the three standard ones, plus any
    other that occurs), zero-filled, so a stacked chart always has the same series and a
    type with nothing done yet still shows a `done` row of 0. Rows are ordered by type, then
    todo, in_progress, done. `items` is int, `points` float (NaN estimates count 0).
    """
    if items.empty:
        return pd.DataFrame(columns=PROGRESS_COLUMNS).astype({"items": int, "points": float})
    frame = items.assign(points=pd.to_numeric(items["points"], errors="coerce").fillna(0.0))
    grouped = frame.groupby(["type", "status_category"], dropna=False).agg(
        items=("points", "size"), points=("points", "sum")
    )
    extra = [c for c in frame["status_category"].dropna().unique() if c not in CATEGORIES]
    categories = [*CATEGORIES, *sorted(map(str, extra))]
    types = sorted(frame["type"].dropna().unique(), key=str)
    if frame["type"].isna().any():
        types.append(None)
    full = pd.MultiIndex.from_product([types, categories], names=["type", "status_category"])
    result = grouped.reindex(full, fill_value=0).reset_index()
    return result.astype({"items": int, "points": float})[PROGRESS_COLUMNS]


def progress_summary(items: pd.DataFrame) -> dict[str, Any]:
    """Totals for a progress tile.

    Keys: items, points, done_items, done_points, share_done_points (0..1, None when the
    backlog has no points at all, so "0 % done" is never shown for an unestimated backlog),
    by_category ({category: item count}, the three standard categories always present) and
    points_by_category (same, in points).
    """
    points = pd.to_numeric(items["points"], errors="coerce").fillna(0.0)
    category = items["status_category"]
    done = category == DONE
    total_points = float(points.sum())
    counts = {c: 0 for c in CATEGORIES} | {
        str(k): int(v) for k, v in category.value_counts().items()
    }
    points_by = {c: 0.0 for c in CATEGORIES} | {
        str(k): float(v) for k, v in points.groupby(category).sum().items()
    }
    return {
        "items": len(items),
        "points": total_points,
        "done_items": int(done.sum()),
        "done_points": float(points[done].sum()),
        "share_done_points": float(points[done].sum()) / total_points if total_points else None,
        "by_category": counts,
        "points_by_category": points_by,
    }
