"""Silence durations as a PO types them: hand-checked lengths, and a clear refusal for
negative, zero, absurd or unreadable ones (pure, no store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.silences import SilenceError, check_window, silence_length, silence_until

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("typed", "expected"), [
    ("90m", timedelta(minutes=90)),
    ("1.5h", timedelta(minutes=90)),  # 1.5 x 60 min
    (" 2 h ", timedelta(hours=2)),  # spaces are forgiven
    ("2w", timedelta(days=14)),
    ("45s", timedelta(seconds=45)),
    ("90d", timedelta(days=90)),  # the longest allowed, exactly
], ids=lambda v: str(v))
def test_lengths(typed, expected):
    assert silence_length(typed) == expected


@pytest.mark.parametrize(("typed", "says"), [
    ("-2h", "cannot last a negative time"),
    ("0h", "must last longer than 0"),
    ("0.0s", "must last longer than 0"),
    ("90.01d", "at most 90 days"),
    ("13w", "at most 90 days"),  # 91 days
    ("1" * 400 + "d", "at most 90 days"),  # would overflow a timedelta
    ("soon", "is not a duration"),
    ("2", "is not a duration"),  # no unit: minutes? hours? say so
    ("1e3h", "is not a duration"),
    ("nan", "is not a duration"),
    ("", "say how long"),
    (None, "say how long"),
    (24, "is not a duration"),  # a number from a forged request, not what the form sends
])
def test_refusals_say_what_to_type(typed, says):
    with pytest.raises(SilenceError, match=says):
        silence_length(typed)


def test_until():
    assert silence_until(NOW, "2026-03-02T18:00") == datetime(2026, 3, 2, 18, tzinfo=UTC)
    # 18:00 at +02:00 is 16:00 UTC
    assert silence_until(NOW, "2026-03-02T18:00+02:00") == datetime(2026, 3, 2, 16, tzinfo=UTC)
    with pytest.raises(SilenceError, match="is not a time"):
        silence_until(NOW, "next monday")
    with pytest.raises(SilenceError, match="must end after it starts"):
        silence_until(NOW, "2026-03-02T09:00")
    with pytest.raises(SilenceError, match="at most 90 days"):
        # 2 Mar to 2 Apr is 31 days, to 2 May 30 more, to 1 Jun 30 more: 91 days
        silence_until(NOW, "2026-06-01T09:00")
    check_window(NOW, NOW + timedelta(days=90))  # exactly 90 days is allowed
