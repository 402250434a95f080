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


EPIC_COLUMNS = ["epic", "title", "items", "done_items", "points", "done_points", "share_done"]
ALERT = "alert"
_NO_EPIC = "\0no epic"  # a group key no tracker uses


def epic_progress(items: pd.DataFrame) -> pd.DataFrame:
    """Progress per epic: [epic, title, items, done_items, points, done_points, share_done].

    Counts the work items (`work_items`) linked to each epic key. The title is that of the
    Epic item with that key when the backlog holds it (else None). Epics present as items
    but without children are listed with zeros, so an empty epic is visible. Items without
    an epic form a last row with epic None. `share_done` = done_points / points, NaN when
    nothing under the epic is estimated (unknown, not 0 %). Ordered by epic key.
    """
    if items.empty:
        return pd.DataFrame(columns=EPIC_COLUMNS)
    kind = items["type"].fillna("").str.strip().str.lower()
    epics = items.loc[kind == "epic"].drop_duplicates("key").set_index("key")["title"]
    work = work_items(items)
    points = pd.to_numeric(work["points"], errors="coerce").fillna(0.0)
    done = work["status_category"] == DONE
    frame = pd.DataFrame({
        "epic": work["epic"].map(lambda v: _NO_EPIC if v is None or pd.isna(v) else str(v)),
        "items": 1, "done_items": done.astype(int),
        "points": points, "done_points": points.where(done, 0.0),
    })
    grouped = frame.groupby("epic", sort=False).sum()
    keys = sorted({*map(str, epics.index), *(k for k in grouped.index if k != _NO_EPIC)})
    if _NO_EPIC in grouped.index:
        keys.append(_NO_EPIC)
    sums = grouped.reindex(keys, fill_value=0)
    share = (sums["done_points"] / sums["points"]).where(sums["points"] > 0)
    result = pd.DataFrame({
        "epic": [None if k == _NO_EPIC else k for k in keys],
        "title": [None if k == _NO_EPIC else epics.get(k) for k in keys],
        "items": sums["items"].to_numpy(),
        "done_items": sums["done_items"].to_numpy(),
        "points": sums["points"].to_numpy(),
        "done_points": sums["done_points"].to_numpy(),
        "share_done": share.to_numpy(),
    }, columns=EPIC_COLUMNS)
    return result.astype({"items": int, "done_items": int, "points": float,
                          "done_points": float, "share_done": float})


OPEN_COLUMNS = ["epic", "title", "items", "open_items"]


def open_items_by_epic(items: pd.DataFrame) -> pd.DataFrame:
    """[epic, title, items, open_items]: each epic that has work items, with how many of
    them are not done (the product map labels an epic with it). Same counting as
    `epic_progress`: work items only, title from the Epic item when the backlog holds it;
    epics without children and items without an epic are left out. By epic key."""
    progress = epic_progress(items)
    if progress.empty:
        return pd.DataFrame(columns=OPEN_COLUMNS).astype({"items": int, "open_items": int})
    linked = progress.loc[progress["epic"].notna() & (progress["items"] > 0)]
    return pd.DataFrame({
        "epic": linked["epic"], "title": linked["title"], "items": linked["items"],
        "open_items": linked["items"] - linked["done_items"],
    }, columns=OPEN_COLUMNS).reset_index(drop=True).astype({"items": int, "open_items": int})


def alert_items(items: pd.DataFrame) -> pd.DataFrame:
    """The items the alert engine created (origin 'alert'): product problems turned work."""
    if items.empty:
        return items
    return items.loc[items["origin"].astype(str) == ALERT].reset_index(drop=True)


def items_by(items: pd.DataFrame, column: str) -> pd.DataFrame:
    """Items and points (none = 0) per value of `column` ('status', 'type', ...).

    Columns [<column>, items, points], most items first (then by value); missing values
    are grouped as None.
    """
    if items.empty:
        return pd.DataFrame(columns=[column, "items", "points"]).astype(
            {"items": int, "points": float})
    frame = pd.DataFrame({
        column: items[column].astype(object).where(items[column].notna(), None),
        "points": pd.to_numeric(items["points"], errors="coerce").fillna(0.0),
    })
    grouped = frame.groupby(column, dropna=False, sort=False).agg(
        items=("points", "size"), points=("points", "sum")).reset_index()
    grouped["_name"] = grouped[column].map(lambda v: "" if v is None or pd.isna(v) else str(v))
    grouped = grouped.sort_values(["items", "_name"], ascending=[False, True], kind="stable")
    return grouped.drop(columns="_name").reset_index(drop=True).astype(
        {"items": int, "points": float})
