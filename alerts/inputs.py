"""What an alert rule is evaluated on: its condition's signal, read through the same query
path as the objectives (`store.signals`), so a page and an alert read the same datum.

The only alert module that reads the store for evaluation; `alerts.rules` stays pure.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from config.alerting import AlertRule
from store.db import Store
from store.signals import signal_frame


def fetch(store: Store, rule: AlertRule, now: datetime) -> pd.DataFrame:
    """Read what `alerts.rules.evaluate` needs for this rule at `now`."""
    return signal_frame(store, rule.product, rule.signal, as_of=now)
