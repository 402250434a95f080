"""What the Alerts page shows, and the actions a PO takes there.

Reads come from the store's alert queries; acknowledging, silencing, and retrying or
discarding a dead delivery go through `alerts.engine` and `alerts.deadletters`, so a click
on the page does exactly what `dspo alerts ack`, `dspo alerts silence` and `dspo alerts
outbox retry|discard` do. The page never talks to a tracker: a retried delivery is sent
at the next delivery run (`dspo alerts evaluate`, `dspo collect --loop`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from alerts import deadletters, engine
from alerts.silences import SilenceError, silence_length
from config.schema import DspoConfig, ProductConfig
from store import queries
from store.db import Store

ACTIVE_STATES = ("firing", "pending", "recovering")
HISTORY_ROWS = 50
DEFAULT_SILENCE = "1d"


@dataclass(frozen=True)
class AlertsView:
    product: ProductConfig
    as_of: datetime
    active: pd.DataFrame  # firing, pending, recovering; with silenced and backlog_key
    silences: pd.DataFrame  # active now
    history: pd.DataFrame  # newest transitions first
    rules: list[str]  # the product's rule names
    dead: pd.DataFrame  # dead letters, oldest first, with `behind`: rows waiting for each
    waiting: pd.DataFrame  # pending deliveries, oldest first (next_attempt_at, last_error)

    @property
    def counts(self) -> dict[str, int]:
        """Active alerts per state (firing, pending, recovering), and how many of them are
        silenced: a silenced alert still counts in its state."""
        per_state = self.active["state"].value_counts()
        counts = {state: int(per_state.get(state, 0)) for state in ACTIVE_STATES}
        return counts | {"silenced": int(self.active["silenced"].sum())}


def build_alerts(store: Store, config: DspoConfig, product: ProductConfig, *,
                 as_of: datetime) -> AlertsView:
    active = queries.alerts(store, product.key, states=ACTIVE_STATES, at=as_of)
    history = queries.alert_events(store, product=product.key, newest=HISTORY_ROWS)
    outbox = queries.outbox(store, pending_only=True, product=product.key)
    dead = outbox[outbox["state"] == "dead"].copy()
    dead["behind"] = [waiting_behind(outbox, row) for _, row in dead.iterrows()]
    return AlertsView(
        product=product, as_of=as_of,
        active=active.sort_values(["state", "state_since"], ascending=[True, False])
        .reset_index(drop=True),
        silences=queries.silences(store, product.key, active_at=as_of),
        history=history,
        rules=[r.name for r in config.alerts if r.product == product.key],
        dead=dead.reset_index(drop=True),
        waiting=outbox[outbox["state"] == "pending"].reset_index(drop=True),
    )


def waiting_behind(outbox: pd.DataFrame, row: pd.Series) -> int:
    """Undelivered rows of the same alert and sink queued after `row`: they wait for it."""
    same = (outbox["fingerprint"] == row["fingerprint"]) & (outbox["sink"] == row["sink"])
    return int((same & (outbox["id"] > row["id"])).sum())


def acknowledge(store: Store, fingerprint: str, by: str, at: datetime, *,
                product: str | None = None) -> str:
    """`product`: the page's product; an alert of another product is not acted on (the
    guard checks the page's product, not the alert a click names)."""
    if not by.strip():
        return "Type your name first: an acknowledgement says who took the alert."
    if product is not None and fingerprint not in set(
            queries.alerts(store, product)["fingerprint"]):
        return "That alert no longer exists."
    if engine.acknowledge(store, fingerprint, by.strip(), at):
        return f"Acknowledged by {by.strip()}; the ticket gets a comment at the next delivery."
    return "That alert no longer exists."


def silence_rule(store: Store, product: str, rule: str | None, duration: object, reason: str,
                 by: str, at: datetime) -> tuple[str, bool]:
    """Silence a rule for `duration` as typed ('2h', '1d'): the message, and whether it was
    silenced (a bad duration, a missing rule, name or reason is only a message)."""
    if not rule:
        return "Pick the rule to silence.", False
    if not by.strip() or not reason.strip():
        return "A silence needs your name and a reason.", False
    try:
        length = silence_length(duration)
        engine.silence(store, product=product, rule=rule, matchers={}, starts_at=at,
                       ends_at=at + length, reason=reason.strip(), by=by.strip())
    except SilenceError as e:
        return f"Not silenced: {e}.", False
    return (f"Rule {rule} silenced for {str(duration).strip()}: its alerts change state but "
            "file nothing."), True


def retry_delivery(store: Store, row_id: int, by: str, at: datetime, *,
                    product: str | None = None) -> str:
    """`product`: the page's product; a delivery of another product's alert is left."""
    if not by.strip():
        return "Type your name first: a retried delivery says who retried it."
    if product is not None and not _owns_delivery(store, product, row_id):
        return f"Delivery #{row_id} is no longer a dead letter."
    if deadletters.retry(store, [row_id], by, at):
        return (f"Delivery #{row_id} will be retried at the next delivery run, then the "
                "updates waiting behind it.")
    return f"Delivery #{row_id} is no longer a dead letter."


def discard_delivery(store: Store, row_id: int, by: str, at: datetime, *,
                      product: str | None = None) -> str:
    """`product`: the page's product; a delivery of another product's alert is left."""
    if not by.strip():
        return "Type your name first: a discarded delivery says who discarded it."
    if product is not None and not _owns_delivery(store, product, row_id):
        return f"Delivery #{row_id} is no longer a dead letter."
    if deadletters.discard(store, [row_id], by, at):
        return (f"Delivery #{row_id} discarded: it will never be sent; the updates waiting "
                "behind it go at the next delivery run.")
    return f"Delivery #{row_id} is no longer a dead letter."


def _owns_delivery(store: Store, product: str, row_id: int) -> bool:
    return row_id in set(queries.outbox(store, pending_only=True, product=product)["id"])
