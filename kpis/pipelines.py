"""Pipeline reliability over time: the success rate as it stood at the end of each day.

The health panel's sparkline for a success-rate objective shows this series. It counts the
same runs as `kpis.health.success_rate` (finished runs whose end lies in (at - window, at]),
vectorised with binary search so a 28-day line costs one pass instead of 28 filters; a
test holds the two to the same numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from kpis._time import utc_timestamp
from kpis.health import FINISHED_STATES


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
    instants = pd.DatetimeIndex([end - timedelta(days=back) for back in range(days - 1, -1, -1)])
    runs = pipeline_runs
    if not runs.empty:
        mask = runs["state"].isin(FINISHED_STATES) & runs["end"].notna()
        if pipeline is not None:
            mask &= runs["pipeline"] == pipeline
        runs = runs.loc[mask].sort_values("end")
    if runs.empty:
        return pd.DataFrame({"ts": pd.Series([], dtype="datetime64[ns, UTC]"),
                             "value": pd.Series([], dtype=float)})
    ends = pd.DatetimeIndex(pd.to_datetime(runs["end"], utc=True)).asi8
    ok = np.concatenate([[0], np.cumsum((runs["state"] == "success").to_numpy())])
    at = instants.as_unit("ns").asi8
    window = pd.Timedelta(days=window_days).value
    hi = np.searchsorted(ends, at, side="right")  # runs with end <= at
    lo = np.searchsorted(ends, at - window, side="right")  # runs with end <= at - window
    finished = hi - lo
    keep = finished > 0
    rate = (ok[hi] - ok[lo])[keep] / finished[keep]
    return pd.DataFrame({"ts": instants[keep], "value": rate.astype(float)})
