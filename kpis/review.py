"""The sprint review pack's figures: what one closed sprint delivered and what changed.

A review looks back at a sprint that is over, so every figure is taken inside one window,
the sprint's: from its start to the instant it closed (`kpis.velocity.end_instant`: its
completion, else its planned end). Times are half-open like every window in dspo,
`(start, close]`: a promotion or an alert at the start instant belongs to the sprint
before, one at the close instant to this one (the carry-over moves at the close are this
sprint's too).

* **Delivered**: the items `kpis.sprint_report.sprint_items` counts *completed* (in the
  sprint at the close, done then, last done after the start), with their estimate at the
  close, so their points add up to the Sprint page's "completed" (`kpis.velocity`).
  Each item is an *increment* (a feature, a fix), an *intermediate delivery* (a report,
  a prototype, an analysis: work that informs the product without being deployed) or an
  *experiment*, by its type; all three count in the totals.
* **Goal**: met when every item carrying the goal label that was in the sprint at its
  close was done then; not met when one was not; not assessed when no item of the sprint
  carries the label (a goal written as prose alone cannot be judged from data). Labels
  are the items' current ones: trackers keep no history of them. An item the team took
  out of the sprint before the close no longer counts towards its goal.
* **Promotions**: every real move of a model alias in the window (`kpis.dora.alias_moves`:
  a move to the version it already held is none), with the version it left.
* **Health**: each objective judged at the start and at the close; whether it got better
  or worse compares the statuses (green < amber < red), never the raw values, whose good
  direction depends on the objective.
* **Alerts**: firing episodes (`store.queries.alert_incidents`) that fired or resolved in
  the window, with the ticket the alert filed for that episode.
* **Usage**: each usage KPI's latest value at or before the start and the close, and
  the change between them in percent of the value at the start.

Pure: frames and results in, frames out; no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from kpis._time import utc_timestamp
from kpis.burndown import sprint_row
from kpis.dora import alias_moves
from kpis.health import ObjectiveResult, Status
from kpis.history import as_text
from kpis.item_kinds import DELIVERY, EXPERIMENT, ItemKinds, kind_of
from kpis.velocity import end_instant

INCREMENT = "increment"  # any type that is neither an experiment nor a delivery
KIND_ORDER = (INCREMENT, DELIVERY, EXPERIMENT)
KIND_LABELS = {INCREMENT: "Increments", DELIVERY: "Intermediate deliveries",
               EXPERIMENT: "Experiments"}
MET, NOT_MET, NOT_ASSESSED = "met", "not met", "not assessed"
BETTER, WORSE, SAME, UNKNOWN = "better", "worse", "same", "unknown"
NATIVE_SINK = "backlog"  # dspo's own backlog (alerts.sinks.backlog), preferred for a ticket

DELIVERED_COLUMNS = ["key", "title", "type", "kind", "points", "url"]
BY_TYPE_COLUMNS = ["kind", "type", "items", "points"]
GOAL_ITEM_COLUMNS = ["key", "title", "done"]
PROMOTION_COLUMNS = ["model", "alias", "from_version", "to_version", "ts", "kind"]
HEALTH_COLUMNS = ["objective", "kind", "start_value", "start_status", "end_value",
                  "end_status", "trend"]
ALERT_COLUMNS = ["fingerprint", "rule", "started", "resolved", "fired_in_sprint",
                 "resolved_in_sprint", "ticket_key", "ticket_sink", "ticket_url"]
USAGE_COLUMNS = ["kpi", "start_value", "start_ts", "end_value", "end_ts", "change_pct"]


@dataclass(frozen=True)
class SprintWindow:
    """A closed sprint's `(start, close]`."""

    sprint_id: str
    name: str
    start: pd.Timestamp
    close: pd.Timestamp

    def holds(self, ts: pd.Series) -> pd.Series:
        """Which instants fall in the window (NaT never does)."""
        return (ts > self.start) & (ts <= self.close)


def sprint_window(sprints: pd.DataFrame, sprint: str, *, as_of: datetime) -> SprintWindow:
    """The window of `sprint`; a ValueError if it had not closed by `as_of` (a review is
    of a sprint that is over)."""
    row = sprint_row(sprints, sprint)
    close, closed = end_instant(row, utc_timestamp(as_of))
    if not closed:
        raise ValueError(f"sprint {sprint!r} is not closed as of {as_of}")
    sprint_id = as_text(row["external_id"])
    assert sprint_id is not None  # sprint_row found it by this id
    return SprintWindow(sprint_id, str(row["name"]), pd.Timestamp(row["start"]), close)


# ---------------------------------------------------------------- delivered and goal


def item_kind(item_type: object, kinds: ItemKinds) -> str:
    """An item type's kind in the pack (`kpis.item_kinds`, increments for the rest)."""
    return kind_of(item_type, kinds) or INCREMENT


def _rows_of(items: pd.DataFrame, keys: pd.Index) -> pd.DataFrame:
    return items.drop_duplicates("key").set_index("key").reindex(keys)


def delivered_items(per_item: pd.DataFrame, items: pd.DataFrame, kinds: ItemKinds
                    ) -> pd.DataFrame:
    """The items the sprint completed (`per_item`: `kpis.sprint_report.sprint_items`),
    each with its kind and its points at the close; by kind (KIND_ORDER), type, key."""
    done = per_item.loc[per_item["completed"]]
    rows = _rows_of(items, done.index)
    frame = pd.DataFrame({
        "key": done.index.astype(str),
        "title": rows["title"].fillna("").astype(str).to_numpy(),
        "type": rows["type"].fillna("").astype(str).to_numpy(),
        "kind": [item_kind(t, kinds) for t in rows["type"]],
        "points": done["completed_points"].astype(float).to_numpy(),
        "url": [as_text(u) for u in rows["url"]],
    }, columns=DELIVERED_COLUMNS)
    order = frame["kind"].map(KIND_ORDER.index)
    return (frame.assign(_order=order).sort_values(["_order", "type", "key"], kind="stable")
            .drop(columns="_order").reset_index(drop=True))


def delivered_by_type(delivered: pd.DataFrame) -> pd.DataFrame:
    """[kind, type, items, points] of `delivered_items`, in its order."""
    if delivered.empty:
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in
                             zip(BY_TYPE_COLUMNS, ("object", "object", "int64", "float64"),
                                 strict=True)})
    grouped = delivered.groupby(["kind", "type"], sort=False).agg(
        items=("key", "size"), points=("points", "sum")).reset_index()
    return grouped.astype({"items": "int64", "points": "float64"})[BY_TYPE_COLUMNS]


def points_by_kind(delivered: pd.DataFrame) -> dict[str, float]:
    """Delivered points per kind, every kind present (0.0 when none)."""
    sums = delivered.groupby("kind")["points"].sum() if len(delivered) else pd.Series()
    return {kind: float(sums.get(kind, 0.0)) for kind in KIND_ORDER}


@dataclass(frozen=True)
class GoalCheck:
    """Whether the sprint met its goal, and the labelled items that say so."""

    status: str  # MET, NOT_MET or NOT_ASSESSED
    label: str
    items: pd.DataFrame  # GOAL_ITEM_COLUMNS, by key

    @property
    def done(self) -> int:
        return int(self.items["done"].sum())


def _labelled(labels: object, label: str) -> bool:
    if isinstance(labels, str):
        return label in {p.strip() for p in labels.split(",")}
    if isinstance(labels, Collection):
        return label in {str(x) for x in labels}
    return False


def goal_check(per_item: pd.DataFrame, items: pd.DataFrame, label: str) -> GoalCheck:
    """The goal as the module docstring defines it, from `sprint_items`'s view."""
    at_close = per_item.index[per_item["in_at_end"]]
    rows = _rows_of(items, at_close)
    mine = rows.loc[[_labelled(x, label) for x in rows["labels"]]]
    done = ~per_item.loc[mine.index, "not_completed"]
    frame = pd.DataFrame({"key": mine.index.astype(str),
                          "title": mine["title"].fillna("").astype(str).to_numpy(),
                          "done": done.astype(bool).to_numpy()}, columns=GOAL_ITEM_COLUMNS)
    frame = frame.sort_values("key", kind="stable").reset_index(drop=True)
    if frame.empty:
        return GoalCheck(NOT_ASSESSED, label, frame)
    return GoalCheck(MET if bool(frame["done"].all()) else NOT_MET, label, frame)


# ---------------------------------------------------------------- models, health, alerts


def promotions(alias_events: pd.DataFrame, window: SprintWindow) -> pd.DataFrame:
    """Every real move of every alias in the window, oldest first (PROMOTION_COLUMNS;
    `kind` is kpis.dora's: promotion, rollback, removal, redeploy)."""
    aliases = sorted(alias_events["alias"].dropna().unique()) if len(alias_events) else []
    moves = [alias_moves(alias_events, alias=a) for a in aliases]
    frames = [m.loc[window.holds(m["ts"])] for m in moves if len(m)]
    if not frames:
        return pd.DataFrame({c: pd.Series([], dtype="datetime64[ns, UTC]" if c == "ts"
                                          else "object") for c in PROMOTION_COLUMNS})
    found = pd.concat(frames, ignore_index=True).rename(
        columns={"previous": "from_version", "version": "to_version"})
    return found.sort_values(["ts", "model", "alias"], kind="stable",
                             ignore_index=True)[PROMOTION_COLUMNS]


def trend(start: Status, end: Status) -> str:
    """Better, worse or the same by status; unknown when either end is unknown."""
    if Status.UNKNOWN in (start, end):
        return SAME if start == end else UNKNOWN
    if start == end:
        return SAME
    return BETTER if end.rank < start.rank else WORSE


def health_change(at_start: Sequence[ObjectiveResult], at_end: Sequence[ObjectiveResult]
                  ) -> pd.DataFrame:
    """One row per objective (in the product's order): its value and status at each end."""
    if len(at_start) != len(at_end):
        raise ValueError("each objective needs a result at the start and at the close")
    rows = [{"objective": a.name, "kind": a.kind, "start_value": a.value,
             "start_status": a.status.value, "end_value": b.value,
             "end_status": b.status.value, "trend": trend(a.status, b.status)}
            for a, b in zip(at_start, at_end, strict=True)]
    return pd.DataFrame(rows, columns=HEALTH_COLUMNS).astype(
        {"start_value": "float64", "end_value": "float64"})


def _ticket(tickets: pd.DataFrame, started: pd.Timestamp, until: pd.Timestamp
            ) -> pd.Series | None:
    """The episode's ticket: one opened while it fired (dspo's own backlog first); else one
    opened before and still open when it fired (a ticket reused by a re-firing alert)."""
    if tickets.empty:
        return None
    opened = tickets.loc[(tickets["opened_at"] >= started) & (tickets["opened_at"] <= until)]
    if opened.empty:
        reused = (tickets["opened_at"] < started) & (
            tickets["closed_at"].isna() | (tickets["closed_at"] > started))
        opened = tickets.loc[reused].iloc[::-1]
    if opened.empty:
        return None
    native = opened.loc[opened["sink"] == NATIVE_SINK]
    return (native if len(native) else opened).iloc[0]


def sprint_alerts(incidents: pd.DataFrame, tickets: pd.DataFrame, window: SprintWindow
                  ) -> pd.DataFrame:
    """Firing episodes that fired or resolved in the window, oldest first, with their
    ticket (ALERT_COLUMNS). `tickets`: `store.queries.alert_tickets`, oldest first."""
    fired = window.holds(incidents["started"])
    resolved = window.holds(incidents["resolved"])
    mine = incidents.assign(fired_in_sprint=fired, resolved_in_sprint=resolved).loc[
        fired | resolved].sort_values("started", kind="stable")
    rows = []
    for r in mine.itertuples(index=False):
        end = window.close if pd.isna(r.resolved) else min(pd.Timestamp(r.resolved),
                                                           window.close)
        own = tickets.loc[tickets["fingerprint"] == r.fingerprint] if len(tickets) else tickets
        ticket = _ticket(own, pd.Timestamp(r.started), end)
        rows.append({
            "fingerprint": r.fingerprint, "rule": r.rule, "started": r.started,
            "resolved": r.resolved, "fired_in_sprint": bool(r.fired_in_sprint),
            "resolved_in_sprint": bool(r.resolved_in_sprint),
            "ticket_key": None if ticket is None else as_text(ticket["key"]),
            "ticket_sink": None if ticket is None else as_text(ticket["sink"]),
            "ticket_url": None if ticket is None else as_text(ticket["url"]),
        })
    frame = pd.DataFrame(rows, columns=ALERT_COLUMNS)
    for column in ("started", "resolved"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.astype({"fired_in_sprint": bool, "resolved_in_sprint": bool})


# ---------------------------------------------------------------- usage


def _latest(points: pd.DataFrame, at: pd.Timestamp) -> tuple[pd.Timestamp, float] | None:
    upto = points.loc[(points["ts"] <= at) & points["value"].notna()] if len(points) else points
    if upto.empty:
        return None
    row = upto.sort_values("ts", kind="stable").iloc[-1]
    return pd.Timestamp(row["ts"]), float(row["value"])


def change_pct(start: float | None, end: float | None) -> float | None:
    """(end - start) / |start| in percent; None without both values or from 0."""
    if start is None or end is None or start == 0:
        return None
    return (end - start) / abs(start) * 100.0


def usage_change(kpi: str, points: pd.DataFrame, window: SprintWindow) -> dict[str, object]:
    """One USAGE_COLUMNS row: the KPI's latest value at or before the start and the close."""
    first, last = _latest(points, window.start), _latest(points, window.close)
    start_value = None if first is None else first[1]
    end_value = None if last is None else last[1]
    return {"kpi": kpi, "start_value": start_value,
            "start_ts": None if first is None else first[0],
            "end_value": end_value, "end_ts": None if last is None else last[0],
            "change_pct": change_pct(start_value, end_value)}


def usage_changes(rows: Sequence[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=USAGE_COLUMNS)
    for column in ("start_ts", "end_ts"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.astype({"start_value": "float64", "end_value": "float64",
                         "change_pct": "float64"})
