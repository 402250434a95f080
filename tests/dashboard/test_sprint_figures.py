"""The sprint page's burndown and burnup: step charts of the event frame, pure."""

from __future__ import annotations

import pandas as pd

from dashboard.figures.sprint import burndown_chart, burnup_chart, event_text


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# start 5; K done 10:00 (-3 -> 2); K reopened 16:00 (+3 -> 5); M added (+2 -> 7, scope 7);
# end. completed = scope - remaining.
EVENTS = pd.DataFrame({
    "ts": [_ts("2024-03-04 00:00"), _ts("2024-03-05 10:00"), _ts("2024-03-05 16:00"),
           _ts("2024-03-06 09:00"), _ts("2024-03-18 00:00")],
    "item_key": [None, "K", "K", "M", None],
    "event": ["start", "done", "reopened", "added", "end"],
    "change": [5.0, -3.0, 3.0, 2.0, 0.0],
    "remaining": [5.0, 2.0, 5.0, 7.0, 7.0],
    "scope": [5.0, 5.0, 5.0, 7.0, 7.0],
    "completed": [0.0, 3.0, 0.0, 0.0, 0.0],
})  # fmt: skip
IDEAL = pd.DataFrame({"ts": [_ts("2024-03-04 00:00"), _ts("2024-03-18 00:00")],
                      "ideal": [5.0, 0.0]})


def _trace(fig, name: str):  # type: ignore[no-untyped-def]
    [trace] = [t for t in fig.data if t.name == name]
    return trace


def test_burndown_steps_at_each_event_with_naive_utc_times() -> None:
    fig = burndown_chart(EVENTS, IDEAL)
    remaining = _trace(fig, "remaining")
    assert remaining.line.shape == "hv"  # level until the event, then straight down or up
    assert list(remaining.y) == [5.0, 2.0, 5.0, 7.0, 7.0]
    x = pd.to_datetime(pd.Series(remaining.x))
    assert x.dt.tz is None and x.iloc[1] == pd.Timestamp("2024-03-05 10:00")
    assert _trace(fig, "ideal").line.dash == "dash"


def test_scope_changes_are_marked_at_the_figure_after_them() -> None:
    # burndown: reopened K at remaining 5, added M at 7; burnup: M on the scope line (7),
    # the reopening on the completed line (0 after it)
    down = burndown_chart(EVENTS, IDEAL)
    assert (list(_trace(down, "reopened").y), list(_trace(down, "added").y)) == ([5.0], [7.0])
    up = burnup_chart(EVENTS, IDEAL)
    assert (list(_trace(up, "reopened").y), list(_trace(up, "added").y)) == ([0.0], [7.0])
    assert _trace(up, "scope").line.shape == _trace(up, "completed").line.shape == "hv"
    # the burnup's ideal climbs from 0 to the commitment (5)
    assert list(_trace(up, "ideal").y) == [0.0, 5.0]


def test_hover_text_names_the_item_and_the_change() -> None:
    assert event_text(EVENTS) == ["sprint start", "K done -3 pts", "K reopened +3 pts",
                                  "M added +2 pts", "sprint end"]


def test_an_empty_sprint_draws_without_error() -> None:
    empty = EVENTS.iloc[0:0]
    fig = burndown_chart(empty, IDEAL.iloc[0:0])
    assert [t.name for t in fig.data] == ["remaining"]
