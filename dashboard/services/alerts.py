"""What the Alerts page shows, and the two actions a PO takes there.

Reads come from the store's alert queries; acknowledging and silencing go through
`alerts.engine`, so a click on the page does exactly what `dspo alerts ack` and
`dspo alerts silence` do (the ticket gets its comment through the outbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from alerts import engine
from config.schema import DspoConfig, ProductConfig
from store import queries
from store.db import Store

ACTIVE_STATES = ("firing", "pending", "recovering")
HISTORY_ROWS = 50


@dataclass(frozen=True)
class AlertsView:
    product: ProductConfig
    as_of: datetime
    active: pd.DataFrame  # firing, pending, recovering; with silenced and backlog_key
    silences: pd.DataFrame  # active now
    history: pd.DataFrame  # newest transitions first
    rules: list[str]  # the product's rule names
    pending_deliveries: int
    delivery_errors: list[str]


def build_alerts(store: Store, config: DspoConfig, product: ProductConfig, *,
                 as_of: datetime) -> AlertsView:
    active = queries.alerts(store, product.key, states=ACTIVE_STATES, at=as_of)
    history = queries.alert_events(store, product=product.key)
    outbox = queries.outbox(store, pending_only=True)
    fingerprints = set(queries.alerts(store, product.key)["fingerprint"])
    mine = outbox[outbox["fingerprint"].isin(fingerprints)]
    errors = sorted({str(e) for e in mine["last_error"].dropna() if str(e)})
    return AlertsView(
        product=product, as_of=as_of,
        active=active.sort_values(["state", "state_since"], ascending=[True, False])
        .reset_index(drop=True),
        silences=queries.silences(store, product.key, active_at=as_of),
        history=history.sort_values("ts", ascending=False).head(HISTORY_ROWS)
        .reset_index(drop=True),
        rules=[r.name for r in config.alerts if r.product == product.key],
        pending_deliveries=len(mine), delivery_errors=errors,
    )


def acknowledge(store: Store, fingerprint: str, by: str, at: datetime) -> str:
    if not by.strip():
        return "Type your name first: an acknowledgement says who took the alert."
    if engine.acknowledge(store, fingerprint, by.strip(), at):
        return f"Acknowledged by {by.strip()}; the ticket gets a comment at the next delivery."
    return "That alert no longer exists."


def silence_rule(store: Store, product: str, rule: str | None, hours: float, reason: str,
                 by: str, at: datetime) -> str:
    if not rule:
        return "Pick the rule to silence."
    if not by.strip() or not reason.strip():
        return "A silence needs your name and a reason."
    engine.silence(store, product=product, rule=rule, matchers={}, starts_at=at,
                   ends_at=at + timedelta(hours=hours), reason=reason.strip(), by=by.strip())
    return f"Rule {rule} silenced for {hours:g} h: its alerts change state but file nothing."
