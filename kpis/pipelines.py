"""Pipeline reliability over time: the success rate as it stood at the end of each day.

The health panel's sparkline for a success-rate objective shows this series, so the line
and the number next to it are the same computation (`kpis.health.success_rate`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from kpis._time import utc_timestamp
from kpis.health import success_rate


def daily_success_rate(
    pipeline_runs: pd.DataFrame, *, as_of: datetime, days: int, window_days: int,
    pipeline: str | None = None,
) -> pd.DataFrame:
    """[ts, value]: the trailing `window_days` success rate at as_of, as_of - 1 day, ...

    Days without a finished run in their window are left out rather than drawn as zero.
    """
    if days <= 0:
        raise ValueError("days must be positive")
    end = utc_timestamp(as_of)
    rows = []
    for back in range(days - 1, -1, -1):
        at = end - timedelta(days=back)
        rate = success_rate(pipeline_runs, as_of=at, window_days=window_days, pipeline=pipeline)
        if rate is not None:
            rows.append((at, rate))
    return pd.DataFrame(rows, columns=["ts", "value"]).astype({"value": float})
