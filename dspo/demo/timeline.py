"""The demo world's calendar: 12 weeks of history ending today, 6 two-week sprints.

Dates are relative to the build time so the dashboard looks live; everything else is seeded,
so two builds on the same day hold the same world.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

WEEKS = 12
DRIFT_FROM_WEEK = 8
SPRINTS = 6
SPRINT_DAYS = 14
ACTIVE_SPRINT_DAY = 10  # today is day 10 of the active (last) sprint


@dataclass(frozen=True)
class Timeline:
    now: datetime

    @classmethod
    def ending(cls, now: datetime | None = None) -> Timeline:
        now = now or datetime.now(UTC)
        return cls(now.replace(minute=0, second=0, microsecond=0))

    @property
    def today(self) -> datetime:
        return self.now.replace(hour=0)

    @property
    def start(self) -> datetime:
        """Midnight UTC of the first day of week 0."""
        return self.today - timedelta(weeks=WEEKS)

    def week_start(self, week: int) -> datetime:
        return self.start + timedelta(weeks=week)

    def week_end(self, week: int) -> datetime:
        return self.week_start(week + 1)

    def sprint_start(self, sprint: int) -> datetime:
        """Sprint numbers run 1..SPRINTS; the last is active today."""
        days_back = ACTIVE_SPRINT_DAY + SPRINT_DAYS * (SPRINTS - sprint)
        return self.today - timedelta(days=days_back) + timedelta(hours=9)

    def sprint_end(self, sprint: int) -> datetime:
        return self.sprint_start(sprint) + timedelta(days=SPRINT_DAYS) - timedelta(hours=2)
