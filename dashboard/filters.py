"""The shared filters every page reads from its URL: product and date range.

They live in the URL (`?product=churn&start=2026-09-01&end=2026-11-26`) so a copied link
opens the same view. Bad or missing values fall back to defaults instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlencode

DEFAULT_DAYS = 84
# Charts draw times as epoch milliseconds and pandas counts nanoseconds from 1677: a day
# before 1970 (year 1 overflowed `end - 84 days`) is read as no day at all.
EARLIEST_DAY = date(1970, 1, 1)


@dataclass(frozen=True)
class DateRange:
    start: datetime  # inclusive, midnight UTC
    end: datetime  # exclusive: midnight UTC after the last day shown, or now

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start) / timedelta(days=1)))


def _parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        return None
    return day if day >= EARLIEST_DAY else None


def date_range(start: str | None, end: str | None, *, now: datetime,
               default_days: int = DEFAULT_DAYS) -> DateRange:
    """The range named in the URL; without one, the last `default_days` days up to now."""
    last = _parse_day(end)
    end_at = now if last is None or last >= now.date() else datetime.combine(
        last + timedelta(days=1), time(), tzinfo=UTC)
    first = _parse_day(start)
    if first is None or datetime.combine(first, time(), tzinfo=UTC) >= end_at:
        start_at = datetime.combine(max((end_at - timedelta(days=default_days)).date(),
                                        EARLIEST_DAY), time(), tzinfo=UTC)
    else:
        start_at = datetime.combine(first, time(), tzinfo=UTC)
    return DateRange(start_at, end_at)


SHARED = ("product", "start", "end")


def search(product: str | None, start: str | None = None, end: str | None = None,
           extra: Mapping[str, str] | None = None) -> str:
    """The query string for these filters (empty values left out), then page-own ones."""
    params = {k: v for k, v in (("product", product), ("start", start), ("end", end)) if v}
    params |= {k: v for k, v in (extra or {}).items() if k not in SHARED and v}
    return f"?{urlencode(params)}" if params else ""


def split_search(url_search: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """(shared filters, page-own parameters such as dataset= or sprint=) of a query string."""
    query = {k: v[0] for k, v in parse_qs((url_search or "").lstrip("?")).items() if v}
    shared = {k: v for k, v in query.items() if k in SHARED}
    return shared, {k: v for k, v in query.items() if k not in SHARED}
