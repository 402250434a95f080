"""Slowing repeated failed sign-ins, per username and per address.

After FREE_FAILURES failures (within WINDOW, since the last success), each further attempt
must wait twice as long as the one before, from 2 s up to MAX_WAIT: guessing becomes slow
for an attacker while a PO who mistyped twice never notices. Counting per address too
stops one address trying many usernames; counting per username stops many addresses
trying one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

FREE_FAILURES = 5
WINDOW = timedelta(minutes=30)
MAX_WAIT = timedelta(minutes=15)


def wait_needed(failures: Sequence[datetime], now: datetime) -> timedelta:
    """How long from `now` until another attempt is allowed (zero: allowed now), given the
    times of the recent failures, oldest first."""
    extra = len(failures) - FREE_FAILURES
    if extra < 0:
        return timedelta(0)
    wait = min(MAX_WAIT, timedelta(seconds=2 ** (extra + 1)))
    return max(timedelta(0), failures[-1] + wait - now)
