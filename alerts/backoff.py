"""When the outbox tries a failed action again, and when it gives up: pure, no clock.

Exponential backoff with full jitter (AWS's "Exponential Backoff and Jitter"): after the
n-th failed attempt the next one waits a uniformly random time in
[0, min(cap, base x 2^(n-1))], so deliverers that failed together do not all come back
at once. A tracker's Retry-After is honoured as asked, instead. A fatal answer, or the
last allowed attempt, ends the retries: the action becomes a dead letter.

The random source is injected (`random.Random` or anything with `uniform`), so tests pin
the jitter and hand-compute every wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

DEFAULT_MAX_ATTEMPTS = 30
DEFAULT_BASE = timedelta(minutes=1)
DEFAULT_CAP = timedelta(hours=1)
LONGEST_RETRY_AFTER = timedelta(days=1)
"""A Retry-After beyond this is taken as this: a tracker's typo must not park an action
for years (the PO can still retry it at once from the Alerts page)."""


class Uniform(Protocol):
    def uniform(self, a: float, b: float) -> float: ...


@dataclass(frozen=True)
class RetryPolicy:
    """A sink's delivery settings (`sinks[].max_attempts`, `backoff_base`, `backoff_cap`)."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    base: timedelta = DEFAULT_BASE
    cap: timedelta = DEFAULT_CAP

    @classmethod
    def of(cls, settings: Any) -> RetryPolicy:
        """The policy of a `sinks:` entry; a plugin's settings without these keys get the
        defaults."""
        return cls(max_attempts=getattr(settings, "max_attempts", DEFAULT_MAX_ATTEMPTS),
                   base=getattr(settings, "backoff_base", DEFAULT_BASE),
                   cap=getattr(settings, "backoff_cap", DEFAULT_CAP))

    def ceiling(self, attempts: int) -> timedelta:
        """The longest wait after `attempts` failed attempts: base x 2^(attempts-1), capped."""
        doublings = max(0, attempts - 1)
        if doublings >= 64:  # 2**64 minutes overflows timedelta long before the cap matters
            return self.cap
        return min(self.cap, self.base * (2 ** doublings))

    def gives_up(self, attempts: int, *, retriable: bool) -> bool:
        """True when this failure ends the retries: fatal, or the last allowed attempt."""
        return not retriable or attempts >= self.max_attempts

    def wait(self, attempts: int, rng: Uniform, retry_after: float | None = None
             ) -> timedelta:
        """How long to wait after `attempts` failed attempts: what the tracker asked
        (Retry-After), else a full-jitter draw below the ceiling."""
        if retry_after is not None:
            asked = max(0.0, min(retry_after, LONGEST_RETRY_AFTER.total_seconds()))
            return timedelta(seconds=asked)
        ceiling = self.ceiling(attempts).total_seconds()
        return timedelta(seconds=rng.uniform(0.0, ceiling))
