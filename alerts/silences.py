"""How long a silence lasts, read from what a PO typed: checked here, once, for the CLI
(`dspo alerts silence --for/--until`) and the Alerts page alike.

A silence is a promise that someone is looking: it has to end, after it starts, within
`LONGEST`. A negative, zero, absurd or unreadable duration is a `SilenceError` whose message
says what to type instead, never a traceback or an HTTP 500.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

LONGEST = timedelta(days=90)
"""A silence longer than a quarter is a rule nobody wants: change or remove the rule."""

_DURATION = re.compile(r"^([+-]?)(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
EXAMPLES = "e.g. 90m, 2h or 1d"


class SilenceError(ValueError):
    """What a PO typed cannot make a silence; the message says what to type instead."""


def silence_length(text: object) -> timedelta:
    """A duration such as '90m', '2h', '1.5d' or '1w' (s, m, h, d, w), between 0 and
    `LONGEST`."""
    typed = str(text if text is not None else "").strip()
    if not typed:
        raise SilenceError(f"say how long the silence lasts, {EXAMPLES}")
    match = _DURATION.match(typed.replace(" ", ""))
    if match is None:
        raise SilenceError(f"{typed!r} is not a duration: use a number and a unit "
                           f"(s, m, h, d or w), {EXAMPLES}")
    sign, number, unit = match.groups()
    seconds = float(number) * _UNIT_SECONDS[unit]
    if sign == "-":
        raise SilenceError(f"a silence cannot last a negative time ({typed!r}): {EXAMPLES}")
    if seconds <= 0:
        raise SilenceError(f"a silence must last longer than 0 ({typed!r}): {EXAMPLES}")
    if not math.isfinite(seconds) or seconds > LONGEST.total_seconds():
        raise SilenceError(_too_long(typed))
    return timedelta(seconds=seconds)


def silence_until(now: datetime, text: object) -> datetime:
    """An end time in ISO 8601 ('2026-03-02T18:00', UTC unless it names an offset), after
    `now` and at most `LONGEST` after it."""
    typed = str(text if text is not None else "").strip()
    try:
        ends = datetime.fromisoformat(typed)
    except ValueError:
        raise SilenceError(f"{typed!r} is not a time: give an ISO time such as "
                           "2026-03-02T18:00 (UTC unless it names an offset)") from None
    ends = ends.replace(tzinfo=UTC) if ends.tzinfo is None else ends.astimezone(UTC)
    check_window(now, ends)
    return ends


def check_window(starts: datetime, ends: datetime) -> None:
    """A silence ends after it starts, within `LONGEST`."""
    if ends <= starts:
        raise SilenceError(f"a silence must end after it starts: {ends.isoformat()} is not "
                           f"after {starts.isoformat()}")
    if ends - starts > LONGEST:
        raise SilenceError(_too_long(f"until {ends.isoformat()}"))


def _too_long(what: str) -> str:
    days = LONGEST.days
    return (f"a silence lasts at most {days} days, not {what}: to stop a rule for longer, "
            "change or remove it in the config")
