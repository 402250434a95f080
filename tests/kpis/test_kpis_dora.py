"""DORA for ML on hand-written alias histories.

The story most cases use (model `m`, window 2024-01-01 .. 2024-03-25, 12 weeks):

    2023-12-30 10:00  version 1's training run starts       (run r1)
    2024-01-01 10:00  champion -> 1   promotion (first)
    2024-02-10 10:00  version 2's training run starts       (run r2)
    2024-02-12 10:00  champion -> 2   promotion
    2024-02-14 10:00  champion -> 1   rollback (a bad release)
    2024-02-19 10:00  champion -> 2   promotion (re-released with a fix)
    2024-03-11 10:00  challenger -> 3 (not the production alias)
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from kpis_frames import t

from kpis.dora import (
    alias_moves,
    change_failure_rate,
    change_failures,
    deployment_frequency,
    dora,
    restore_times,
    weekly_moves,
)

START, END = t("2024-01-01 00:00"), t("2024-03-25 00:00")
H = timedelta(hours=1)
D = timedelta(days=1)


def events(*rows: tuple[str, str, str | None, str]) -> pd.DataFrame:
    """(model, alias, version, ts) rows -> an alias-events frame as the store returns it."""
    frame = pd.DataFrame(
        [{"model": m, "alias": a, "version": v, "ts": t(ts), "origin": "tag"}
         for m, a, v, ts in rows],
        columns=["model", "alias", "version", "ts", "origin"],
    )
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def versions(*rows: tuple[str, str, str | None]) -> pd.DataFrame:
    return pd.DataFrame([{"model": m, "version": v, "run_id": r, "aliases": []}
                         for m, v, r in rows],
                        columns=["model", "version", "run_id", "aliases"])


def runs(*rows: tuple[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame([{"run_id": r, "start": t(s)} for r, s in rows],
                         columns=["run_id", "start"])
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    return frame


def alerts(*rows: tuple[str, str | None]) -> pd.DataFrame:
    frame = pd.DataFrame([{"started": t(s), "resolved": t(r)} for s, r in rows],
                         columns=["started", "resolved"])
    for column in ("started", "resolved"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


STORY = events(
    ("m", "champion", "1", "2024-01-01 10:00"),
    ("m", "champion", "2", "2024-02-12 10:00"),
    ("m", "champion", "1", "2024-02-14 10:00"),
    ("m", "champion", "2", "2024-02-19 10:00"),
    ("m", "challenger", "3", "2024-03-11 10:00"),
)
VERSIONS = versions(("m", "1", "r1"), ("m", "2", "r2"), ("m", "3", "r3"))
RUNS = runs(("r1", "2023-12-30 10:00"), ("r2", "2024-02-10 10:00"))
NO_ALERTS = alerts()


# (id, events, expected kinds of champion's moves)
MOVES = [
    ("story: promotion, promotion, rollback, promotion", STORY,
     ["promotion", "promotion", "rollback", "promotion"]),
    # a move tagged by the job and observed by dspo later is one move
    ("tagged then observed is one move", events(("m", "champion", "1", "2024-01-01 10:00"),
                                                ("m", "champion", "1", "2024-01-01 10:15")),
     ["promotion"]),
    # removed, then set back to the version it held: neither promotion nor rollback
    ("removal then redeploy", events(("m", "champion", "4", "2024-01-01 10:00"),
                                     ("m", "champion", None, "2024-01-02 10:00"),
                                     ("m", "champion", "4", "2024-01-03 10:00")),
     ["promotion", "removal", "redeploy"]),
    # after a removal, a lower version than the last one held is still a rollback
    ("removal then lower version", events(("m", "champion", "4", "2024-01-01 10:00"),
                                          ("m", "champion", None, "2024-01-02 10:00"),
                                          ("m", "champion", "3", "2024-01-03 10:00")),
     ["promotion", "removal", "rollback"]),
    # versions are numbers: 9 -> 10 is a promotion, not a rollback by text order
    ("numeric order", events(("m", "champion", "9", "2024-01-01 10:00"),
                             ("m", "champion", "10", "2024-01-08 10:00")),
     ["promotion", "promotion"]),
    ("other aliases ignored", events(("m", "challenger", "3", "2024-01-01 10:00")), []),
    ("nothing at all", events(), []),
]


@pytest.mark.parametrize(("frame", "kinds"), [c[1:] for c in MOVES], ids=[c[0] for c in MOVES])
def test_alias_moves_classify(frame: pd.DataFrame, kinds: list[str]) -> None:
    assert alias_moves(frame)["kind"].tolist() == kinds


def test_alias_moves_keep_previous_version() -> None:
    moves = alias_moves(STORY)
    assert moves["previous"].tolist() == [None, "1", "2", "1"]
    assert moves["version"].tolist() == ["1", "2", "1", "2"]


# (id, events, versions, runs, alerts, expected promotions, frequency per week, lead time
#  p50, change failure rate, time to restore p50)
CASES = [
    # 3 promotions in 12 weeks = 0.25 per week. Lead times: 01-01 10:00 - 12-30 10:00 = 48 h;
    # 02-12 10:00 - 02-10 10:00 = 48 h; 02-19 10:00 - 02-10 10:00 = 216 h; median 48 h.
    # The rollback on 02-14 comes 2 days after the 02-12 promotion (<= 7): 1 of 3 failed.
    # Restore: rollback 02-14 10:00 -> next promotion 02-19 10:00 = 5 days.
    ("story with a rollback", STORY, VERSIONS, RUNS, NO_ALERTS, 3, 0.25, 48 * H, 1 / 3, 5 * D),
    # nothing promoted: 0 per week, and no lead time, failure rate or restore time at all
    ("no promotions", events(), VERSIONS, RUNS, NO_ALERTS, 0, 0.0, None, None, None),
    # one promotion on 01-01 10:00 of version 1 (trained 12-30 10:00): 1/12 per week,
    # lead 48 h, nothing failed: 0 of 1
    ("single promotion", events(("m", "champion", "1", "2024-01-01 10:00")), VERSIONS, RUNS,
     NO_ALERTS, 1, 1 / 12, 48 * H, 0.0, None),
    # promotions 01-01 10:00 (v1) and 01-20 10:00 (v2, run r2 unknown here: no lead time).
    # Alert fired 01-05 10:00 (4 days after the 01-01 promotion: it failed), resolved
    # 16:00 (6 h to restore); a second alert 02-10 is 21 days after 01-20 (no blame) and
    # still open (no restore time). 1 of 2 failed; lead p50 over the one known = 48 h.
    ("alerts", events(("m", "champion", "1", "2024-01-01 10:00"),
                      ("m", "champion", "2", "2024-01-20 10:00")),
     VERSIONS, runs(("r1", "2023-12-30 10:00")),
     alerts(("2024-01-05 10:00", "2024-01-05 16:00"), ("2024-02-10 00:00", None)),
     2, 2 / 12, 48 * H, 0.5, 6 * H),
    # rollback 19 days after the promotion it undoes: outside the 7-day window, so not a
    # failed change; never re-promoted, so the incident stays open (no restore time).
    # Lead times: v1 48 h; v2 (run r2 unknown here) none; median over the known one 48 h.
    ("late rollback", events(("m", "champion", "1", "2024-01-01 10:00"),
                             ("m", "champion", "2", "2024-01-02 10:00"),
                             ("m", "champion", "1", "2024-01-21 10:00")),
     VERSIONS, runs(("r1", "2023-12-30 10:00")), NO_ALERTS, 2, 2 / 12, 48 * H, 0.0, None),
]


@pytest.mark.parametrize(
    ("ev", "vs", "rs", "al", "count", "frequency", "lead", "cfr", "restore"),
    [c[1:] for c in CASES], ids=[c[0] for c in CASES],
)
def test_dora(ev, vs, rs, al, count, frequency, lead, cfr, restore) -> None:  # type: ignore[no-untyped-def]
    result = dora(ev, vs, rs, al, start=START, end=END)
    assert result.promotions == count
    assert result.deployment_frequency == pytest.approx(frequency)
    assert result.lead_time_p50 == lead
    assert result.change_failure_rate == (None if cfr is None else pytest.approx(cfr))
    assert result.time_to_restore_p50 == restore



def test_story_tables() -> None:
    result = dora(STORY, VERSIONS, RUNS, NO_ALERTS, start=START, end=END)
    # lead times per promotion: 48 h, 48 h, 216 h (see CASES)
    assert result.lead_times["lead_time"].tolist() == [48 * H, 48 * H, 216 * H]
    assert result.failures["failed"].tolist() == [False, True, False]
    assert result.failures["cause"].tolist() == [None, "rollback", None]
    assert result.failures["signal_at"].iloc[1] == t("2024-02-14 10:00")
    restores = result.restores
    assert restores[["kind", "model"]].values.tolist() == [["rollback", "m"]]
    assert restores["restored"].tolist() == [t("2024-02-19 10:00")]


def test_counts_behind_the_tiles() -> None:
    # The story's 3 promotions, the 02-12 one failed (rolled back on 02-14); all three
    # versions' runs are known (v1, v2, v2 again); the rollback was restored on 02-19.
    result = dora(STORY, VERSIONS, RUNS, NO_ALERTS, start=START, end=END)
    assert (result.failed_promotions, result.promotions_with_lead_time) == (1, 3)
    assert (result.restored, result.open_incidents) == (1, 0)
    # An alert firing 01-02 and never resolved: it fails the 01-01 promotion too (2 of
    # 3), and is an open incident beside the restored rollback. Version 2's run unknown:
    # only v1's promotion has a lead time.
    open_alert = dora(STORY, VERSIONS, runs(("r1", "2023-12-30 10:00")),
                      alerts(("2024-01-02 10:00", None)), start=START, end=END)
    assert (open_alert.failed_promotions, open_alert.promotions_with_lead_time) == (2, 1)
    assert (open_alert.restored, open_alert.open_incidents) == (1, 1)
    # no promotion at all: zeros, not errors
    nothing = dora(events(), versions(), runs(), alerts(), start=START, end=END)
    assert (nothing.failed_promotions, nothing.restored, nothing.open_incidents) == (0, 0, 0)


def test_weekly_moves_buckets_from_start() -> None:
    # 7-day buckets from 01-01 00:00: 01-01 is day 0 (week 0); 02-12 is day 42 (week 6),
    # the 02-14 rollback day 44 (week 6), 02-19 day 49 (week 7); 84 days = 12 buckets
    weekly = weekly_moves(alias_moves(STORY), start=START, end=END)
    assert len(weekly) == 12
    assert weekly["week"].iloc[6] == t("2024-02-12 00:00")
    assert weekly["promotions"].tolist() == [1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0]
    assert weekly["rollbacks"].tolist() == [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]


def test_window_counts_only_moves_inside() -> None:
    # window 02-13 .. 02-20 (1 week): only the 02-19 promotion is in it (1 per week); the
    # rollback on 02-14 is an incident of this window and blames the 02-12 promotion,
    # which lies outside, so this window's one promotion did not fail
    start, end = t("2024-02-13 00:00"), t("2024-02-20 00:00")
    moves = alias_moves(STORY)
    assert deployment_frequency(moves, start=start, end=end) == 1.0
    failures = change_failures(moves, NO_ALERTS, start=start, end=end)
    assert failures["version"].tolist() == ["2"]
    assert change_failure_rate(failures) == 0.0
    assert restore_times(moves, NO_ALERTS, start=start, end=end)["duration"].tolist() == [5 * D]


def test_an_alert_blames_only_the_latest_promotion_before_it() -> None:
    # promotions 01-01 and 01-03; alert 01-04: 1 day after the 01-03 promotion, which is
    # the one blamed, though 01-01 is also within 7 days
    ev = events(("m", "champion", "1", "2024-01-01 10:00"),
                ("m", "champion", "2", "2024-01-03 10:00"))
    failures = change_failures(alias_moves(ev), alerts(("2024-01-04 10:00", None)),
                               start=START, end=END)
    assert failures["failed"].tolist() == [False, True]
    assert failures["cause"].tolist() == [None, "alert"]


def test_models_are_separate_and_empty_alerts_frame_is_fine() -> None:
    # a's rollback cannot fail b's promotion made just before it
    ev = events(("a", "champion", "2", "2024-01-01 10:00"),
                ("b", "champion", "1", "2024-01-02 10:00"),
                ("a", "champion", "1", "2024-01-03 10:00"))
    result = dora(ev, versions(), runs(), alerts(), start=START, end=END)
    assert result.failures[["model", "failed"]].values.tolist() == [["a", True], ["b", False]]
    assert result.lead_time_p50 is None  # no training run known


def test_bad_window_and_naive_times_fail_early() -> None:
    with pytest.raises(ValueError, match="after start"):
        deployment_frequency(alias_moves(STORY), start=END, end=START)
    with pytest.raises(ValueError, match="timezone-aware"):
        deployment_frequency(alias_moves(STORY), start=START.tz_localize(None), end=END)
