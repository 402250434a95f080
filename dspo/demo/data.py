"""Feature data of the two demo products, generated, with drift from week 8 on.

The churn data shifts in distribution (covariate drift) and in its relation to the label
(concept drift), so a model trained before week 8 really does lose AUC when scored on it:
nothing on the dashboard is a painted number.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from dspo.demo.timeline import DRIFT_FROM_WEEK

CHURN_FEATURES = ["tenure_months", "monthly_charges", "support_calls", "usage_minutes",
                  "contract", "region"]
DEMAND_FEATURES = ["price", "promo", "temperature", "day_of_week", "store_size", "region"]
REGIONS = ["north", "south", "east", "west"]


def _drift(week: int | None) -> float:
    """0 before the drift starts, then growing to 1 over four weeks."""
    if week is None or week < DRIFT_FROM_WEEK:
        return 0.0
    return min(1.0, (week - DRIFT_FROM_WEEK + 1) / 3)


def churn_frame(rng: np.random.Generator, rows: int, week: int | None) -> pd.DataFrame:
    d = _drift(week)
    tenure = rng.gamma(2.0, 12.0 * (1 - 0.35 * d), rows).clip(1, 72)
    charges = rng.normal(65 + 22 * d, 18, rows).clip(15, 160)
    calls = rng.poisson(1.2 + 1.8 * d, rows)
    usage = rng.normal(420 - 110 * d, 120, rows).clip(0, None)
    contract = rng.choice(["monthly", "annual", "two_year"], rows,
                          p=[0.45 + 0.25 * d, 0.35 - 0.15 * d, 0.2 - 0.1 * d])
    region = rng.choice(REGIONS, rows)
    logit = (
        -1.0
        - 0.07 * tenure * (1 - 0.3 * d)
        + 0.035 * (charges - 65) * (1 - 1.6 * d)
        + 0.6 * calls * (1 - 0.2 * d)
        - 0.004 * (usage - 420)
        + np.where(contract == "monthly", 1.2, -0.9) * (1 - 0.4 * d)
        + 0.3 * d * rng.normal(0, 1, rows)
    )
    churned = rng.random(rows) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({
        "tenure_months": tenure.round(1), "monthly_charges": charges.round(2),
        "support_calls": calls, "usage_minutes": usage.round(0), "contract": contract,
        "region": region, "churned": churned.astype(int),
    })


def demand_frame(rng: np.random.Generator, rows: int, week: int | None) -> pd.DataFrame:
    # The forecaster sees a milder change: a price rise in the last weeks.
    price_shift = 0.18 if week is not None and week >= DRIFT_FROM_WEEK + 1 else 0.0
    price = rng.normal(4.0 * (1 + price_shift), 0.6, rows).clip(1.5, 9)
    promo = (rng.random(rows) < 0.2).astype(int)
    temperature = rng.normal(14, 7, rows)
    dow = rng.integers(0, 7, rows)
    size = rng.choice(["small", "medium", "large"], rows, p=[0.4, 0.4, 0.2])
    region = rng.choice(REGIONS, rows)
    base = np.select([size == "small", size == "medium"], [80, 150], 260)
    demand = (
        base * np.exp(-0.18 * (price - 4.0)) * (1 + 0.35 * promo)
        * (1 + 0.12 * (dow >= 5)) * (1 + 0.01 * (temperature - 14))
        * rng.lognormal(0, 0.08, rows)
    )
    return pd.DataFrame({
        "price": price.round(2), "promo": promo, "temperature": temperature.round(1),
        "day_of_week": dow, "store_size": size, "region": region,
        "demand": demand.round(1), "log_demand": np.log(demand),
    })


def with_timestamps(
    frame: pd.DataFrame, rng: np.random.Generator, start: datetime, days: int = 7
) -> pd.DataFrame:
    """Spread a week's rows over its days, sorted, so windows split them cleanly."""
    seconds = np.sort(rng.uniform(0, days * 86400 - 1, len(frame)))
    out = frame.copy()
    out.insert(0, "ts", [start + timedelta(seconds=float(s)) for s in seconds])
    out["ts"] = pd.to_datetime(out["ts"], utc=True)
    return out
