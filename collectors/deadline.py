"""A run's deadline: the one clock every wait of a collector run answers to.

Timeouts bound each wait (connect, next bytes); only a deadline bounds a whole run, which
is what a dripping answer or a thousand slow pages need. The runner starts it when the run
begins, stops waiting for the collector when it passes, and collectors consult it: HTTP
calls cap their timeouts and retry sleeps at what remains, and the records loop stops at
the next record after it passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from config.base import format_duration


class DeadlineExceeded(Exception):
    """The run's deadline passed; says how long it was and what was under way."""

    def __init__(self, budget: timedelta, doing: str = "") -> None:
        during = f" while {doing}" if doing else ""
        super().__init__(f"deadline of {format_duration(budget)} exceeded{during}")
        self.budget = budget


class Deadline:
    def __init__(
        self, budget: timedelta, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.budget = budget
        self._clock = clock
        self._ends = clock() + budget.total_seconds()

    def remaining(self) -> float:
        """Seconds left; negative once passed."""
        return self._ends - self._clock()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def check(self, doing: str = "") -> None:
        """Raise DeadlineExceeded once the deadline has passed."""
        if self.expired:
            raise DeadlineExceeded(self.budget, doing)

    def cap(self, seconds: float) -> float:
        """`seconds`, or what remains of the deadline if less (never 0: httpx reads 0 as
        'no timeout')."""
        return max(0.01, min(seconds, self.remaining()))
