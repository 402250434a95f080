"""The products' own database: who used each product on which day.

dspo reads it through the `sql_kpis` source with plain SQL, as it would read a real
product's warehouse. Churn usage sags in the last weeks, as trust in a drifting model falls.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import numpy as np

from dspo.demo.timeline import DRIFT_FROM_WEEK, WEEKS, Timeline

PRODUCTS = {"churn": 1250, "demand": 320}  # typical daily users on a weekday


def build_usage_db(path: Path, timeline: Timeline, rng: np.random.Generator) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE TABLE usage_sessions (day TEXT NOT NULL, product TEXT NOT NULL,"
            " user_id INTEGER NOT NULL, actions INTEGER NOT NULL)"
        )
        rows = 0
        for product, base in PRODUCTS.items():
            pool = np.arange(1, int(base * 1.6))
            for day in range(WEEKS * 7):
                date = timeline.start + timedelta(days=day)
                sag = 0.0
                if product == "churn" and day >= (DRIFT_FROM_WEEK + 1) * 7:
                    sag = 0.035 * (day - (DRIFT_FROM_WEEK + 1) * 7) / 7
                weekend = 0.55 if date.weekday() >= 5 else 1.0
                n = int(base * weekend * (1 - sag) * rng.normal(1, 0.03))
                users = rng.choice(pool, size=min(n, len(pool)), replace=False)
                actions = rng.poisson(3, len(users)) + 1
                con.executemany(
                    "INSERT INTO usage_sessions VALUES (?, ?, ?, ?)",
                    [(date.date().isoformat(), product, int(u), int(a))
                     for u, a in zip(users, actions, strict=True)],
                )
                rows += len(users)
        con.execute("CREATE INDEX ix_usage_product_day ON usage_sessions (product, day)")
        con.commit()
    finally:
        con.close()
    return rows
