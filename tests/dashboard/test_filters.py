"""URL filters: defaults, bad input, and page-own parameters kept apart from shared ones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard.filters import date_range, search, split_search

NOW = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "expected_start", "expected_end"),
    [
        pytest.param(None, None, datetime(2026, 9, 3, tzinfo=UTC), NOW, id="default-84-days"),
        pytest.param("2026-10-01", "2026-10-31", datetime(2026, 10, 1, tzinfo=UTC),
                     datetime(2026, 11, 1, tzinfo=UTC), id="end-day-included"),
        pytest.param("garbage", "2026-12-31", datetime(2026, 9, 3, tzinfo=UTC), NOW,
                     id="bad-start-and-future-end-fall-back"),
        pytest.param("2026-11-20", "2026-11-10", datetime(2026, 8, 19, tzinfo=UTC),
                     datetime(2026, 11, 11, tzinfo=UTC), id="start-after-end-ignored"),
    ],
)
def test_date_range(start: str | None, end: str | None, expected_start: datetime,
                    expected_end: datetime) -> None:
    shown = date_range(start, end, now=NOW)
    assert (shown.start, shown.end) == (expected_start, expected_end)


def test_search_keeps_page_parameters_after_shared_ones() -> None:
    assert search("churn", None, "2026-11-01", {"dataset": "x", "product": "evil"}) == (
        "?product=churn&end=2026-11-01&dataset=x")
    assert search(None) == ""
    assert split_search("?product=churn&dataset=x&start=2026-01-01") == (
        {"product": "churn", "start": "2026-01-01"}, {"dataset": "x"})
