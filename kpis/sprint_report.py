"""A tracker's own sprint report beside dspo's reconstruction, and why they differ, per item.

dspo rebuilds a closed sprint from item history with the rules of `kpis.velocity` (see its
docstring); here every item gets the same treatment one by one, so each figure has a key
list to hold against the tracker's:

* **committed**: in the sprint at its start, not done then; its estimate at the start.
* **completed**: in the sprint at the close, done then, and last moved to done after the
  start; its estimate at the close.
* **not completed**: in the sprint at the close and not done then; its estimate at the close.
  These are dspo's carry-over (`kpis.carry_over`) and its sum the burndown's remaining at
  the close (`kpis.burndown`), whatever happened to the items after the close.
* **removed**: in the sprint at the start or later, and no longer at the close (moves at
  the close itself are the carry-over, not removals); its estimate when it left.
* **added**: in the sprint after the start but not at it; its estimate when it joined.

So `committed` and `completed` are `sprint_velocity`'s commitment and completed. Jira's
figures come from its sprint report (`SprintReport`: sums and key lists; committed as
documented in `collectors/jira_sprints.py`). For each figure, the keys only one side counts
get a reason built from the item's own history: when it joined or left the sprint, its
status and category at the close, when it was done. Where both sides count the same items
but the points differ, the estimates are the cause and the items re-estimated during the
sprint are named. Re-estimates are also listed as notes: they are why committed and
completed + not completed + removed - added do not add up, on either side.

Times in reasons are UTC. Pure: frames in, frames out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from kpis._time import utc_timestamp
from kpis.burndown import sprint_row
from kpis.history import DONE, POINTS, SPRINT, STATUS, STATUS_CATEGORY, ItemHistory, as_text
from kpis.velocity import end_instant

FIGURES = ("committed", "completed", "not_completed", "removed", "added")
LABELS = {"committed": "committed", "completed": "completed",
          "not_completed": "not completed", "removed": "removed", "added": "added"}
FIGURE_COLUMNS = ["figure", "jira", "dspo", "difference"]
ITEM_COLUMNS = ["item_key", "figure", "kind", "jira", "dspo", "why", "reason"]
DIFFERENCE, NOTE = "difference", "note"
_TOLERANCE = 1e-9


def _when(ts: Any) -> str:
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%a %d %b %H:%M UTC")


def _pts(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class SprintComparison:
    """Jira's and dspo's figures side by side, and the reasons behind each difference."""

    figures: pd.DataFrame  # FIGURE_COLUMNS, one row per figure in FIGURES order
    items: pd.DataFrame  # ITEM_COLUMNS: differences first (by figure, key), then notes
    # `why` is the cause alone; `reason` the sentence naming the item and who counts it
    dspo_items: pd.DataFrame  # sprint_items(): dspo's per-item view

    @property
    def agree(self) -> bool:
        return bool((self.figures["difference"].abs() < _TOLERANCE).all()) and not (
            self.items["kind"] == DIFFERENCE).any()


# ---------------------------------------------------------------- dspo, per item


class _Sprint:
    """One closed sprint's window and its items' history, asked the questions of FIGURES."""

    def __init__(self, sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame,
                 sprint: str, as_of: datetime) -> None:
        row = sprint_row(sprints, sprint)
        self.id = as_text(row["external_id"])
        self.start = pd.Timestamp(row["start"])
        self.close, self.closed = end_instant(row, as_of)
        self.items = items
        self.events = events if not events.empty else pd.DataFrame(
            columns=["item_key", "ts", "field", "from_value", "to_value"])
        self.history = ItemHistory(items, self.events)
        moves = self.events.loc[self.events["field"] == SPRINT]
        self.moves = pd.DataFrame({
            "item_key": moves["item_key"], "ts": moves["ts"],
            "from_id": moves["from_value"].map(as_text), "to_id": moves["to_value"].map(as_text),
        }).sort_values("ts", kind="stable")

    def moves_of(self, key: str, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
        m = self.moves
        return m.loc[(m["item_key"] == key) & (m["ts"] > lo) & (m["ts"] <= hi)]

    def field_at(self, field: str, key: str, at: pd.Timestamp) -> Any:
        values = self.history.value_at(field, at)
        return values[self.history.keys.get_loc(key)]

    def status_at(self, key: str, at: pd.Timestamp) -> str | None:
        """The status name at `at` (the history keeps categories; names come from events)."""
        e = self.events
        mine = e.loc[(e["item_key"] == key) & (e["field"] == STATUS)].sort_values(
            "ts", kind="stable")
        before, after = mine.loc[mine["ts"] <= at], mine.loc[mine["ts"] > at]
        if len(before):
            return as_text(before["to_value"].iloc[-1])
        if len(after):
            return as_text(after["from_value"].iloc[0])
        current = self.items.loc[self.items["key"] == key, "status"]
        return as_text(current.iloc[0]) if len(current) else None

    def done_moves(self, key: str) -> list[pd.Timestamp]:
        e = self.events
        done = e.loc[(e["item_key"] == key) & (e["field"] == STATUS_CATEGORY)
                     & (e["to_value"].map(as_text) == DONE), "ts"]
        return sorted(pd.Timestamp(t) for t in done)

    def re_estimates(self, key: str) -> pd.DataFrame:
        e = self.events
        return e.loc[(e["item_key"] == key) & (e["field"] == POINTS) & (e["ts"] > self.start)
                     & (e["ts"] <= self.close)].sort_values("ts", kind="stable")


def _points(values: np.ndarray) -> pd.Series:
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").fillna(0.0)


def _sprint_items(s: _Sprint) -> pd.DataFrame:
    h, start, close = s.history, s.start, s.close
    at_start = h.state_at(start).set_index("key")
    at_end = h.state_at(close).set_index("key")
    in_at_start = at_start["exists"] & (at_start[SPRINT] == s.id)
    committed = in_at_start & (at_start[STATUS_CATEGORY] != DONE)

    moves = s.moves.loc[(s.moves["ts"] > start) & (s.moves["ts"] <= close)]
    from_here, to_here = moves["from_id"] == s.id, moves["to_id"] == s.id
    in_at_end = at_end["exists"] & (at_end[SPRINT] == s.id)
    if s.closed:
        carried = moves.loc[from_here & (moves["ts"] == close), "item_key"]
        in_at_end = in_at_end | at_end.index.isin(carried)
    done_at_end = at_end[STATUS_CATEGORY] == DONE
    completed = in_at_end & done_at_end & (h.last_done_at(close) > start)
    during = in_at_end | at_end.index.isin(moves.loc[from_here | to_here, "item_key"])
    added = during & ~in_at_start
    removed = (in_at_start | added) & ~in_at_end

    frame = pd.DataFrame({
        "in_at_start": in_at_start, "in_at_end": in_at_end,
        "committed": committed, "committed_points": at_start[POINTS].fillna(0.0),
        "completed": completed, "completed_points": at_end[POINTS].fillna(0.0),
        "not_completed": in_at_end & ~done_at_end,
        "not_completed_points": at_end[POINTS].fillna(0.0),
        "removed": removed, "added": added,
    })
    frame["removed_points"] = _instant_points(s, frame.index[removed], leaving=True)
    frame["added_points"] = _instant_points(s, frame.index[added], leaving=False)
    for figure in FIGURES:
        frame[f"{figure}_points"] = frame[f"{figure}_points"].where(frame[figure], 0.0)
    return frame


def _instant_points(s: _Sprint, keys: pd.Index, *, leaving: bool) -> pd.Series:
    """Each item's estimate when it joined (`leaving` False) or left the sprint."""
    out = pd.Series(0.0, index=s.history.keys)
    for key in keys:
        moves = s.moves_of(key, s.start, s.close)
        if leaving:
            left = moves.loc[moves["from_id"] == s.id, "ts"]
            at = pd.Timestamp(left.iloc[-1]) - pd.Timedelta(1, "ns") if len(left) else s.close
        else:
            joined = moves.loc[moves["to_id"] == s.id, "ts"]
            created = s.items.loc[s.items["key"] == key, "created"].iloc[0]
            at = pd.Timestamp(joined.iloc[0]) if len(joined) else pd.Timestamp(created)
        out[key] = float(_points(np.array([s.field_at(POINTS, key, at)]))[0])
    return out


def sprint_items(sprints: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame,
                 sprint: str, *, as_of: datetime) -> pd.DataFrame:
    """dspo's view of one sprint per item (index: key): for each figure a bool column and
    `<figure>_points` (0 where the item does not count). Module docstring for the rules."""
    return _sprint_items(_Sprint(sprints, items, events, sprint, utc_timestamp(as_of)))


# ---------------------------------------------------------------- the comparison


def _jira_keys(report: Mapping[str, Any]) -> dict[str, set[str]]:
    def keys(name: str) -> set[str]:
        value = report.get(f"{name}_keys")
        return {str(k) for k in value} if value is not None else set()

    completed, not_completed, removed, added = (
        keys("completed"), keys("not_completed"), keys("removed"), keys("added"))
    return {"committed": (completed | not_completed | removed) - added,
            "completed": completed, "not_completed": not_completed,
            "removed": removed, "added": added}


def compare_sprint(report: Mapping[str, Any], sprints: pd.DataFrame, items: pd.DataFrame,
                   events: pd.DataFrame, sprint: str, *, as_of: datetime
                   ) -> SprintComparison:
    """Jira's `report` (figures and *_keys lists) against dspo's reconstruction of `sprint`."""
    s = _Sprint(sprints, items, events, sprint, utc_timestamp(as_of))
    mine = _sprint_items(s)
    jira = _jira_keys(report)
    figures, rows = [], []
    for figure in FIGURES:
        theirs = _number(report.get(figure))
        ours = float(mine[f"{figure}_points"].sum())
        figures.append({"figure": figure, "jira": theirs, "dspo": ours,
                        "difference": ours - theirs if theirs is not None else np.nan})
        ours_keys = set(mine.index[mine[figure]].astype(str))
        differing = sorted(jira[figure] ^ ours_keys)
        for key in differing:
            in_jira = key in jira[figure]
            why = _why(s, mine, jira, key, figure, in_jira)
            rows.append({"item_key": key, "figure": figure, "kind": DIFFERENCE,
                         "jira": in_jira, "dspo": not in_jira, "why": why,
                         "reason": _sentence(key, [(figure, in_jira)], why)})
        if not differing and theirs is not None and abs(ours - theirs) > _TOLERANCE:
            why = _estimates_differ(s, sorted(ours_keys), figure)
            rows.append({"item_key": None, "figure": figure, "kind": DIFFERENCE,
                         "jira": True, "dspo": True, "why": why,
                         "reason": f"{LABELS[figure].capitalize()}: {why}"})
    rows += _notes(s, mine, jira)
    return SprintComparison(pd.DataFrame(figures, columns=FIGURE_COLUMNS),
                            pd.DataFrame(rows, columns=ITEM_COLUMNS), mine)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(number) else number


# ---------------------------------------------------------------- reasons


def _sentence(key: str, counted: list[tuple[str, bool]], why: str) -> str:
    """"DS-5: Jira counts it completed, dspo counts it not completed: <why>"."""
    jira = [LABELS[f] for f, in_jira in counted if in_jira]
    dspo = [LABELS[f] for f, in_jira in counted if not in_jira]
    sides = [f"{who} counts it {' and '.join(figures)}"
             for who, figures in (("Jira", jira), ("dspo", dspo)) if figures]
    if not dspo:
        sides.append("dspo does not")
    if not jira:
        sides.append("Jira does not")
    return f"{key}: {', '.join(sides)}: {why}"


def explained(items: pd.DataFrame) -> list[str]:
    """One sentence per item and cause: the figures an item differs in for one reason are
    named together (DS-5 completed in Jira and not completed in dspo, for one cause)."""
    differences = items.loc[items["kind"] == DIFFERENCE]
    groups: dict[tuple[Any, str], list[tuple[str, bool]]] = {}
    for r in differences.itertuples(index=False):
        groups.setdefault((r.item_key, r.why), []).append((r.figure, bool(r.jira)))
    out = []
    for (key, why), counted in groups.items():
        if key is None:  # same items, other estimates: one row per figure already
            out += [f"{LABELS[f].capitalize()}: {why}" for f, _ in counted]
        else:
            out.append(_sentence(str(key), counted, why))
    return out


def _why(s: _Sprint, mine: pd.DataFrame, jira: dict[str, set[str]], key: str, figure: str,
         in_jira: bool) -> str:
    if key not in mine.index:
        return ("dspo has no such item (outside the source's project or JQL, or deleted "
                "since)")
    if figure in ("committed", "added"):
        return _why_start(s, jira, key, figure, in_jira)
    if figure == "removed":
        return _why_removed(s, mine, jira, key, in_jira)
    return _why_close(s, mine, jira, key, figure, in_jira)


def _joined(s: _Sprint, key: str) -> pd.Timestamp | None:
    moves = s.moves_of(key, s.start, s.close)
    joined = moves.loc[moves["to_id"] == s.id, "ts"]
    if len(joined):
        return pd.Timestamp(joined.iloc[0])
    created = pd.Timestamp(s.items.loc[s.items["key"] == key, "created"].iloc[0])
    return created if created > s.start else None


def _why_start(s: _Sprint, jira: dict[str, set[str]], key: str, figure: str,
               in_jira: bool) -> str:
    """committed and added hinge on whether the item was in the sprint at its start."""
    at_start = as_text(s.field_at(SPRINT, key, s.start)) == s.id
    category = as_text(s.field_at(STATUS_CATEGORY, key, s.start))
    joined = _joined(s, key)
    planned = (figure == "committed") == in_jira  # the side counting it says: at the start
    if planned:  # that side has it at the start; dspo's history says otherwise
        if at_start and category == DONE:
            return (f"it was already done at the start ({_when(s.start)}), and dspo leaves "
                    "finished work out of the commitment")
        if joined is not None:
            return (f"dspo sees it join the sprint on {_when(joined)}, after the start "
                    f"({_when(s.start)}); Jira counts it as planned at the start")
        return f"dspo has it outside the sprint at the start ({_when(s.start)})"
    listed = "added during the sprint" if key in jira["added"] else "not in the sprint"
    return (f"dspo has it in the sprint at the start ({_when(s.start)}), Jira counts it "
            f"{listed}")


def _why_removed(s: _Sprint, mine: pd.DataFrame, jira: dict[str, set[str]], key: str,
                 in_jira: bool) -> str:
    if in_jira:
        if bool(mine.loc[key, "in_at_end"]):
            return f"dspo has it in the sprint at the close ({_when(s.close)})"
        return "dspo never sees it in the sprint"
    moves = s.moves_of(key, s.start, s.close)
    left = moves.loc[moves["from_id"] == s.id]
    where = ""
    if len(left):
        to = as_text(left["to_id"].iloc[-1])
        where = f" on {_when(left['ts'].iloc[-1])}" + (f" (to sprint {to})" if to else
                                                        " (to the backlog)")
    other = next((LABELS[f] for f in ("completed", "not_completed") if key in jira[f]),
                 "not in its report")
    return f"dspo sees it leave the sprint{where}, before the close; Jira has it {other}"


def _why_close(s: _Sprint, mine: pd.DataFrame, jira: dict[str, set[str]], key: str,
               figure: str, in_jira: bool) -> str:
    """completed and not completed hinge on membership and status at the close."""
    close = s.close
    in_at_end = bool(mine.loc[key, "in_at_end"])
    status = s.status_at(key, close)
    category = as_text(s.field_at(STATUS_CATEGORY, key, close))
    named = f"'{status}' ({category})" if status else f"({category})"
    done_at = s.done_moves(key)
    if not in_at_end:
        if key in jira["removed"] or mine.loc[key, "removed"]:
            return f"dspo sees it leave the sprint before the close ({_when(close)})"
        return f"dspo has it outside the sprint at the close ({_when(close)})"
    if not in_jira and key in jira["removed"]:
        return f"Jira counts it removed; dspo has it in the sprint at the close ({_when(close)})"
    if not in_jira and not any(key in jira[f] for f in ("completed", "not_completed")):
        return (f"Jira's report does not list it; dspo has it in the sprint at the close "
                f"({_when(close)})")
    if category == DONE and not bool(mine.loc[key, "completed"]):
        before = [t for t in done_at if t <= s.start]
        when = f" ({_when(before[-1])})" if before else ""
        return f"dspo has it done before the sprint started{when}: completed outside it"
    jira_done = (figure == "completed") == in_jira
    if jira_done:  # Jira says done, dspo's category at the close is not done
        later = [t for t in done_at if t > close]
        text = (f"at the close ({_when(close)}) its status was {named}, which Jira's board "
                "counts as done (its last column)")
        if later:
            text += f"; its done event came after the sprint's end ({_when(later[0])})"
        return text
    return (f"at the close ({_when(close)}) dspo has it done, status {named}, but Jira's "
            f"board does not count '{status}' as done (not in its last column)")


def _estimates_differ(s: _Sprint, keys: list[str], figure: str) -> str:
    changed = [f"{k} ({_re_estimate_text(s, k)})" for k in keys
               if k in s.history.keys and len(s.re_estimates(k))]
    basis = "at the sprint's start" if figure in ("committed", "added") else "at the close"
    text = (f"the same items on both sides, with other estimates: both use the estimate "
            f"{basis}")
    if changed:
        return text + "; re-estimated during the sprint: " + ", ".join(changed)
    return text + "; check that points_field is the field the board estimates with"


def _re_estimate_text(s: _Sprint, key: str) -> str:
    changes = s.re_estimates(key)
    return ", ".join(f"{as_text(r.from_value) or '–'} → {as_text(r.to_value) or '–'} on "
                     f"{_when(r.ts)}" for r in changes.itertuples(index=False))


def _notes(s: _Sprint, mine: pd.DataFrame, jira: dict[str, set[str]]) -> list[dict[str, Any]]:
    """Items of the sprint re-estimated during it: the commitment takes their estimate at
    the start, completed and not completed the one at the close (in Jira as in dspo)."""
    counted = mine[list(FIGURES)].any(axis=1)
    listed = jira["completed"] | jira["not_completed"] | jira["removed"]
    rows = []
    for key in sorted(set(mine.index[counted].astype(str)) | listed):
        if key not in s.history.keys or not len(s.re_estimates(key)):
            continue
        start = _points(np.array([s.field_at(POINTS, key, s.start)]))[0]
        close = _points(np.array([s.field_at(POINTS, key, s.close)]))[0]
        rows.append({"item_key": key, "figure": "committed", "kind": NOTE, "jira": None,
                     "dspo": None, "why": None,
                     "reason": (f"{key}: points re-estimated mid-sprint "
                                f"({_re_estimate_text(s, key)}): the commitment uses the "
                                f"estimate at the sprint's start ({_pts(start)}), completed "
                                f"and not completed the estimate at the close "
                                f"({_pts(close)}), in Jira as in dspo")})
    return rows
