"""One rule for instants handed to KPI functions: they must be timezone-aware.

The store keeps UTC, timezone-aware datetimes. Comparing them with a naive `as_of` would
raise deep inside pandas (or, worse, silently shift by the local offset if someone
"fixed" it with a naive conversion), so every public KPI function normalises its instant
here and fails early with the argument's name.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd


def utc_timestamp(value: datetime, *, name: str = "as_of") -> pd.Timestamp:
    """Return `value` as a UTC `pd.Timestamp`; a naive value is an error, not a guess."""
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        raise ValueError(f"{name} must be a datetime, got {value!r}")
    if ts.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value!r}")
    return ts.tz_convert("UTC")
