"""Seeded reference/current frames with a known drift story, for the Evidently tests.

Reference: 600 rows of a, b, e ~ N(0, 1), c in {x, y, z} (uniform), d in 0..4, plus a
column `retired` that production no longer sends. Current: 300 rows per ISO week from
Monday 2026-11-02 to Monday 2026-11-30, plus 40 rows on Tuesday 2026-12-01 (an incomplete
week), and an `extra` column the reference lacks:

    week ending 11-09: like the reference               -> nothing drifts
    week ending 11-16: like the reference, 30 b missing -> nothing drifts, missing 30/1800
    week ending 11-23: a shifted, c skewed              -> 2 of 5 drift, no dataset drift
    week ending 11-30: a, c and e shifted               -> 3 of 5 drift, dataset drift

The seeds were chosen so that no unshifted column drifts by chance (p >= 0.1 in every
week); the shifts are large enough that the shifted ones drift with p < 1e-20.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

START = datetime(2026, 11, 2, tzinfo=UTC)
WEEK_ENDS = [START + timedelta(days=7 * (i + 1)) for i in range(4)]
ROWS_PER_WEEK = 300
COMPARED = ["a", "b", "c", "d", "e"]
DRIFTED = {0: set(), 1: set(), 2: {"a", "c"}, 3: {"a", "c", "e"}}


def _block(rng: np.random.Generator, n: int, drifted: set[str]) -> pd.DataFrame:
    c_probs = [0.7, 0.2, 0.1] if "c" in drifted else [1 / 3, 1 / 3, 1 / 3]
    return pd.DataFrame(
        {
            "a": rng.normal(1.5 if "a" in drifted else 0.0, 1.0, n),
            "b": rng.normal(0.0, 1.0, n),
            "c": rng.choice(["x", "y", "z"], n, p=c_probs),
            "d": rng.integers(0, 5, n),
            "e": rng.normal(0.0, 2.5 if "e" in drifted else 1.0, n) + (1 if "e" in drifted else 0),
        }
    )


def reference_frame(seed: int = 4) -> pd.DataFrame:
    frame = _block(np.random.default_rng(seed), 600, set())
    frame["retired"] = 1.0
    return frame


def current_frame(seed: int = 13) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for week, end in enumerate(WEEK_ENDS):
        block = _block(rng, ROWS_PER_WEEK, DRIFTED[week])
        # spread the rows over the week, never on its end instant
        offsets = np.sort(rng.uniform(0, 7 * 86400 - 1, ROWS_PER_WEEK))
        block["ts"] = [end - timedelta(days=7) + timedelta(seconds=float(s)) for s in offsets]
        if week == 1:
            block.loc[block.index[:30], "b"] = np.nan
        parts.append(block)
    tail = _block(rng, 40, set())
    tail["ts"] = [WEEK_ENDS[-1] + timedelta(hours=1 + i * 0.5) for i in range(40)]
    parts.append(tail)
    frame = pd.concat(parts, ignore_index=True)
    frame["extra"] = "new"
    # Timestamps as ISO text, as a CSV export would carry them.
    frame["ts"] = [t.isoformat() for t in frame["ts"]]
    return frame


def week(frame: pd.DataFrame, end: datetime) -> pd.DataFrame:
    """The rows of the week ending at `end`, without ts and extra (what a report compares)."""
    ts = pd.to_datetime(frame["ts"], utc=True, format="mixed")
    rows = frame[(ts >= end - timedelta(days=7)) & (ts < end)]
    return rows[COMPARED].reset_index(drop=True)


def legacy_report_json(reference: pd.DataFrame, current: pd.DataFrame) -> str:
    """What a team still on evidently.legacy saves with report.save_json / report.json()."""
    from evidently.legacy.metric_preset import DataDriftPreset
    from evidently.legacy.report import Report

    report = Report(metrics=[DataDriftPreset()], timestamp=datetime(2026, 11, 23))  # noqa: DTZ001
    report.run(reference_data=reference[COMPARED], current_data=current)
    return report.json()
