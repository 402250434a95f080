"""Flow metrics: cumulative flow, WIP, throughput, cycle and lead time, ageing."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from kpis_frames import ev, events_frame, item, items_frame, t

from kpis.flow import (
    AGEING_COLUMNS,
    CFD_COLUMNS,
    FLOW_TIME_COLUMNS,
    THROUGHPUT_COLUMNS,
    cumulative_flow,
    flow_times,
    percentiles,
    started_from_created,
    throughput,
    wip,
    wip_ageing,
)


def status(key: str, ts: str, old: str, new: str) -> dict[str, Any]:
    return ev(key, ts, "status_category", old, new)


# 2024-03-01 is a Friday. All moves at midnight.
# P created 03-01, in progress 03-04, done 03-06                 -> cycle 2, lead 5
# Q created 03-02, in progress 03-03, done 03-07                 -> cycle 4, lead 5
# R created 03-01, in progress 03-04, done 03-06, reopened 03-08, done again 03-09
#                                                                -> cycle 5, lead 8
# S created 03-01, no history at all, resolved 03-05             -> cycle = lead = 4
# T created 03-02, straight from todo to done 03-08              -> cycle 0, lead 6
# U created 03-01, in progress since 03-05, still in progress
# V created 03-03, todo
ITEMS = items_frame([
    item("P", points=1, category="done", created="2024-03-01 00:00"),
    item("Q", points=2, category="done", created="2024-03-02 00:00"),
    item("R", points=3, category="done", created="2024-03-01 00:00"),
    item("S", points=5, category="done", created="2024-03-01 00:00",
         resolved="2024-03-05 00:00"),
    item("T", points=None, category="done", created="2024-03-02 00:00"),
    item("U", points=8, category="in_progress", created="2024-03-01 00:00"),
    item("V", points=3, category="todo", created="2024-03-03 00:00"),
])  # fmt: skip
EVENTS = events_frame([
    status("P", "2024-03-04 00:00", "todo", "in_progress"),
    status("P", "2024-03-06 00:00", "in_progress", "done"),
    status("Q", "2024-03-03 00:00", "todo", "in_progress"),
    status("Q", "2024-03-07 00:00", "in_progress", "done"),
    status("R", "2024-03-04 00:00", "todo", "in_progress"),
    status("R", "2024-03-06 00:00", "in_progress", "done"),
    status("R", "2024-03-08 00:00", "done", "in_progress"),
    status("R", "2024-03-09 00:00", "in_progress", "done"),
    status("T", "2024-03-08 00:00", "todo", "done"),
    status("U", "2024-03-05 00:00", "todo", "in_progress"),
])  # fmt: skip
START, END = t("2024-03-01 00:00"), t("2024-03-10 00:00")


def test_cumulative_flow() -> None:
    # State at the end of each day (an event at midnight belongs to the day it starts):
    frame = cumulative_flow(ITEMS, EVENTS, start=START, end=END)
    assert list(frame.columns) == CFD_COLUMNS
    assert list(frame["day"]) == [t(f"2024-03-{d:02d} 00:00") for d in range(1, 10)]
    assert [tuple(r) for r in frame[["todo", "in_progress", "done"]].itertuples(index=False)] == [
        (4, 0, 0),  # 03-01: P R S U exist (S, no history, counts todo until resolved)
        (6, 0, 0),  # 03-02: + Q T
        (6, 1, 0),  # 03-03: + V; Q in progress
        (4, 3, 0),  # 03-04: P R in progress
        (2, 4, 1),  # 03-05: S resolved; U in progress
        (2, 2, 3),  # 03-06: P R done
        (2, 1, 4),  # 03-07: Q done
        (1, 2, 4),  # 03-08: T done; R reopened
        (1, 1, 5),  # 03-09: R done again
    ]


def test_cumulative_flow_skips_days_before_the_first_item() -> None:
    # A range from 2023 starts at the first item's day, 03-01: still 9 rows.
    frame = cumulative_flow(ITEMS, EVENTS, start=t("2023-01-01 00:00"), end=END)
    assert len(frame) == 9 and frame["day"].iloc[0] == START


def test_wip_now() -> None:
    # at 03-10: only U is in progress; at 03-08 12:00: U and the reopened R
    assert wip(ITEMS, EVENTS, as_of=END) == 1
    assert wip(ITEMS, EVENTS, as_of=t("2024-03-08 12:00")) == 2


def test_cycle_and_lead_times() -> None:
    frame = flow_times(ITEMS, EVENTS, start=START, end=END)
    assert list(frame.columns) == FLOW_TIME_COLUMNS
    # ordered by finish: S 03-05, P 03-06, Q 03-07, T 03-08, R 03-09
    got = [tuple(r) for r in frame[["key", "cycle_days", "lead_days", "from_history"]]
           .itertuples(index=False)]
    assert got == [
        ("S", 4.0, 4.0, False),  # no history: created 03-01 -> resolved 03-05
        ("P", 2.0, 5.0, True),
        ("Q", 4.0, 5.0, True),
        ("T", 0.0, 6.0, True),  # todo -> done directly
        ("R", 5.0, 8.0, True),  # first in progress 03-04 -> LAST done 03-09
    ]


def test_items_counted_from_creation() -> None:
    # of the five finished items only S has no status history (see above)
    assert started_from_created(flow_times(ITEMS, EVENTS, start=START, end=END)) == 1
    assert started_from_created(flow_times(ITEMS.iloc[:0], EVENTS, start=START, end=END)) == 0


def test_reopened_item_not_done_again_is_not_finished() -> None:
    # As of 03-08 12:00 R is in progress again: it is not among the finished items.
    frame = flow_times(ITEMS, EVENTS, start=START, end=t("2024-03-08 12:00"))
    assert list(frame["key"]) == ["S", "P", "Q", "T"]


def test_finish_outside_the_range_is_left_out() -> None:
    # From 03-07: only Q (03-07), T (03-08) and R (03-09) finished in the range.
    frame = flow_times(ITEMS, EVENTS, start=t("2024-03-07 00:00"), end=END)
    assert list(frame["key"]) == ["Q", "T", "R"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # sorted 1 2 3 4 10; position = p/100 * (n-1) = p/100 * 4:
        # p50 -> 2.0 -> 3; p85 -> 3.4 -> 4 + 0.4*(10-4) = 6.4; p95 -> 3.8 -> 4 + 0.8*6 = 8.8
        pytest.param([10, 1, 3, 2, 4], {50: 3.0, 85: 6.4, 95: 8.8}, id="five-values"),
        # cycle days of the scenario: 0 2 4 4 5 -> p50 4; p85 4 + 0.4*1 = 4.4; p95 4.8
        pytest.param([4, 2, 4, 0, 5], {50: 4.0, 85: 4.4, 95: 4.8}, id="cycle-days"),
        # lead days: 4 5 5 6 8 -> p50 5; p85 6 + 0.4*2 = 6.8; p95 6 + 0.8*2 = 7.6
        pytest.param([5, 5, 8, 4, 6], {50: 5.0, 85: 6.8, 95: 7.6}, id="lead-days"),
        # one value: every percentile is that value; NaN is ignored
        pytest.param([7, None], {50: 7.0, 85: 7.0, 95: 7.0}, id="single-value"),
        pytest.param([], {50: None, 85: None, 95: None}, id="empty"),
    ],
)
def test_percentiles(values: list, expected: dict) -> None:
    got = percentiles(pd.Series(values, dtype=float))
    assert got.keys() == expected.keys()
    for level, value in expected.items():
        assert got[level] == (None if value is None else pytest.approx(value))


def test_scenario_percentiles_come_from_flow_times() -> None:
    frame = flow_times(ITEMS, EVENTS, start=START, end=END)
    assert percentiles(frame["cycle_days"])[85] == pytest.approx(4.4)
    assert percentiles(frame["lead_days"])[95] == pytest.approx(7.6)


def test_throughput_per_week() -> None:
    # weeks start Monday: 02-26 (holds Fri 03-01 .. Sun 03-03) and 03-04.
    # Finished in week 03-04: S 5, P 1, Q 2, T (no estimate) 0, R 3 -> 5 items, 11 points.
    frame = throughput(ITEMS, EVENTS, start=START, end=END)
    assert list(frame.columns) == THROUGHPUT_COLUMNS
    assert [tuple(r) for r in frame.itertuples(index=False)] == [
        (t("2024-02-26 00:00"), 0, 0.0),
        (t("2024-03-04 00:00"), 5, 11.0),
    ]


def test_wip_ageing() -> None:
    # at 03-10: U in progress since 03-05 -> 5 days. At 03-08 12:00: R (in progress since
    # its FIRST move, 03-04: 4.5 days) and U (3.5 days), oldest first.
    frame = wip_ageing(ITEMS, EVENTS, as_of=END)
    assert list(frame.columns) == AGEING_COLUMNS
    assert [tuple(r) for r in frame[["key", "age_days"]].itertuples(index=False)] == [("U", 5.0)]
    earlier = wip_ageing(ITEMS, EVENTS, as_of=t("2024-03-08 12:00"))
    assert [tuple(r) for r in earlier[["key", "age_days"]].itertuples(index=False)] == [
        ("R", 4.5), ("U", 3.5)]


def test_ageing_without_history_counts_from_created() -> None:
    # W: in progress now, no events, created 03-01 -> 9 days at 03-10.
    items = items_frame([item("W", category="in_progress", created="2024-03-01 00:00")])
    frame = wip_ageing(items, events_frame([]), as_of=END)
    assert frame["age_days"].tolist() == [9.0]


def test_empty_backlog() -> None:
    items, events = items_frame([]), events_frame([])
    assert cumulative_flow(items, events, start=START, end=END).empty
    assert flow_times(items, events, start=START, end=END).empty
    assert wip(items, events, as_of=END) == 0
    assert wip_ageing(items, events, as_of=END).empty
    weeks = throughput(items, events, start=START, end=END)
    assert weeks["items"].tolist() == [0, 0]


def test_range_must_not_be_empty() -> None:
    with pytest.raises(ValueError, match="after start"):
        flow_times(ITEMS, EVENTS, start=END, end=START)
