"""Evaluate every alert rule at an instant, move alert states, and queue what sinks must do.

One evaluation, per rule: read the rule's frame (`alerts.inputs`), turn it into instances
(`alerts.rules`, pure), then for each instance, in its own transaction: read the alert row,
take one state-machine step (`alerts.states`, pure), and commit the new state, its history
row and the intended sink actions (`alerts.tickets.plan`) together. Nothing is sent here:
`alerts.delivery.deliver` sends the outbox afterwards, so a tracker outage can neither lose
an action nor stop an evaluation.

Idempotent and safe to run twice at once (two schedulers, two `dspo alerts evaluate`):
- an alert already evaluated at or after `now` is left alone, so evaluating twice at one
  instant changes nothing;
- every write is a compare-and-set on the alert's revision; the loser of a race rolls back,
  re-reads and finds the winner's result (`store.alerts`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from alerts.inputs import fetch
from alerts.rules import Instance, fingerprint, static_labels
from alerts.rules import evaluate as evaluate_rule
from alerts.silences import SilenceError, check_window
from alerts.states import (
    FIRED,
    FIRING,
    NORMAL,
    RESOLVED,
    Current,
    Observation,
    Step,
    effective,
    step,
)
from alerts.tickets import Links, filing_keys, plan
from config.alerting import AlertRule
from config.reports import report_dirs
from config.schema import DspoConfig
from store import alerts as store_alerts
from store import audit
from store.alerts import AlertRow, OutboxEntry, SilenceRow, silence_matches
from store.db import (
    Session,  # the store owns sessions; the engine only spans them
    Store,
)
from store.outbox import latest_ticket, queued

log = logging.getLogger(__name__)
MAX_RETRIES = 10
LATE_NOTE = "filed now: a silence held it back when it fired"


@dataclass(frozen=True)
class Outcome:
    """What one evaluation did (or, dry run, would do) to one alert instance."""

    rule: str
    fingerprint: str
    labels: dict[str, str]
    value: float | None
    observation: Observation
    before: str
    after: str
    transition: str | None
    silenced: bool = False
    actions: tuple[str, ...] = ()  # "create@backlog", "resolve@jira", ...
    skipped: bool = False  # already evaluated at or after this instant


@dataclass
class RuleResult:
    rule: str
    outcomes: list[Outcome] = field(default_factory=list)
    error: str | None = None


class _Conflict(Exception):
    """Another evaluator changed the alert between our read and our write."""


def links_for(config: DspoConfig) -> Links:
    return Links(base_url=config.dashboard.base_url, report_dirs=report_dirs(config))


def evaluate(store: Store, config: DspoConfig, now: datetime, *,
             rules: Sequence[str] | None = None, dry_run: bool = False) -> list[RuleResult]:
    """Evaluate the configured rules (or those named) at `now`; `dry_run` writes nothing."""
    chosen = [r for r in config.alerts if rules is None or r.name in rules]
    links = links_for(config)
    return [evaluate_one(store, rule, now, links=links, dry_run=dry_run) for rule in chosen]


def evaluate_one(store: Store, rule: AlertRule, now: datetime, *, links: Links | None = None,
                 dry_run: bool = False) -> RuleResult:
    result = RuleResult(rule.name)
    try:
        instances = evaluate_rule(rule, fetch(store, rule, now), now=now)
    # A rule whose data cannot be read or judged must not stop the other rules; what its
    # failure means for its alerts is the rule's own `on_error` setting.
    except Exception as e:  # noqa: BLE001
        log.warning("alert rule %s: evaluation failed: %s", rule.name, e)
        result.error = f"{type(e).__name__}: {e}"
        instances = []
    with store.session() as session:
        existing = {a.fingerprint: a for a in store_alerts.rule_alerts(session, rule.name)}
        silences = store_alerts.active_silences(session, now, rule.product)
    readings: list[tuple[Instance, Observation]] = [(i, _observe(i)) for i in instances]
    seen = {fingerprint(rule.name, i.labels) for i in instances}
    gone: Observation = "error" if result.error else "no_data"
    for fp, alert in existing.items():
        if fp not in seen:
            readings.append((Instance(alert.labels, None, None), gone))
    if result.error and not existing and effective("error", rule):
        readings.append((Instance(static_labels(rule), None, None), "error"))
    for inst, observation in readings:
        silenced = any(silence_matches(s, rule.name, inst.labels) for s in silences)
        outcome = _apply(store, rule, inst, observation, now, silenced=silenced,
                         links=links or Links(), dry_run=dry_run)
        result.outcomes.append(outcome)
    return result


def _observe(inst: Instance) -> Observation:
    if inst.holds is None:
        return "no_data"
    return "alerting" if inst.holds else "ok"


def _apply(store: Store, rule: AlertRule, inst: Instance, observation: Observation,
           now: datetime, *, silenced: bool, links: Links, dry_run: bool) -> Outcome:
    fp = fingerprint(rule.name, inst.labels)
    for _ in range(MAX_RETRIES):
        try:
            with store.session() as session:
                return _transition(session, rule, fp, inst, observation, now,
                                   silenced=silenced, links=links, dry_run=dry_run)
        except _Conflict:
            continue
    raise RuntimeError(f"alert {fp} of rule {rule.name}: gave up after {MAX_RETRIES} "
                       "conflicting concurrent updates")


def _transition(session: Session, rule: AlertRule, fp: str, inst: Instance,
                observation: Observation, now: datetime, *, silenced: bool, links: Links,
                dry_run: bool) -> Outcome:
    alert = store_alerts.get_alert(session, fp)
    current = _current(alert)
    if alert is not None and alert.last_evaluated_at is not None \
            and now <= alert.last_evaluated_at:
        return Outcome(rule.name, fp, inst.labels, alert.last_value, observation, alert.state,
                       alert.state, None, silenced, skipped=True)
    nxt: Step = step(current, observation, rule, now)
    if alert is None and nxt.transition is None:
        # A healthy instance never seen before: nothing to remember about it.
        return Outcome(rule.name, fp, inst.labels, inst.value, observation, NORMAL, NORMAL,
                       None, silenced)
    started = nxt.changes.get("pending_since", current.pending_since)
    fired = nxt.changes.get("fired_at", alert.fired_at if alert else None)
    entries, late = ([], False) if silenced else _plan(
        session, rule, fp, nxt, inst, now, started=started, fired=fired, alert=alert,
        links=links)
    outcome = Outcome(rule.name, fp, inst.labels, inst.value, observation, current.state,
                      nxt.state, nxt.transition, silenced,
                      tuple(f"{e.action}@{e.sink}" for e in entries))
    if dry_run:
        return outcome
    if alert is None:
        alert = store_alerts.ensure_alert(session, fp, rule.name, rule.product, inst.labels,
                                          rule.severity, now)
        if alert.last_evaluated_at is not None or alert.revision != 0:
            raise _Conflict()  # another evaluator created and moved it first
    summary = _summary(rule, inst)
    changes = {**nxt.changes, "last_value": inst.value, "last_evaluated_at": now,
               "severity": rule.severity, "summary": summary}
    if not store_alerts.update_alert(session, alert, **changes):
        raise _Conflict()
    if nxt.transition is not None or late:
        note = "; ".join(n for n in (_note(observation, silenced), LATE_NOTE if late else "")
                         if n)
        store_alerts.add_alert_event(session, alert.id, now, current.state, nxt.state,
                                     inst.value, note)
    store_alerts.enqueue(session, entries, now)
    return outcome


def _plan(session: Session, rule: AlertRule, fp: str, nxt: Step, inst: Instance,
          now: datetime, *, started: datetime | None, fired: datetime | None,
          alert: AlertRow | None, links: Links) -> tuple[list[OutboxEntry], bool]:
    """The sink actions of this step for an unsilenced alert, and whether they include a
    late filing: a firing alert whose filing a silence held back (no outbox row carries
    its firing's key) files it now."""
    filed: set[str] = set()
    if fired is not None and (nxt.state == FIRING or nxt.transition == RESOLVED):
        keys = {k: sink for sink in rule.sinks for k in filing_keys(fp, sink, fired)}
        filed = {keys[k] for k in queued(session, list(keys))}
    late = nxt.state == FIRING and nxt.transition != FIRED and set(rule.sinks) - filed != set()
    tickets = {sink: latest_ticket(session, fp, sink) for sink in rule.sinks}
    entries = plan(rule, fp, nxt.state, nxt.transition, inst, now=now, started=started,
                   fired=fired, last_resolved=alert.resolved_at if alert else None,
                   tickets=tickets, filed=filed, links=links)
    return entries, late


def _current(alert: AlertRow | None) -> Current:
    if alert is None:
        return Current()
    return Current(alert.state, alert.state_since, alert.pending_since)


def _summary(rule: AlertRule, inst: Instance) -> str:
    value = "no data" if inst.value is None else f"{inst.value:.4g}"
    c = rule.condition
    return f"{c.kind} {value} (threshold {c.op} {c.threshold:g})"


def _note(observation: Observation, silenced: bool) -> str:
    parts = [] if observation in ("alerting", "ok") else [observation.replace("_", " ")]
    if silenced:
        parts.append("silenced: nothing filed")
    return "; ".join(parts)


# ------------------------------------------------------------ PO actions


def acknowledge(store: Store, fp: str, by: str, at: datetime) -> bool:
    """A PO takes the alert: recorded on the alert and commented on each of its tickets.
    False when there is no such alert."""
    with store.session() as session:
        alert = store_alerts.set_acknowledged(session, fp, by, at)
        if alert is None:
            return False
        text = f"Acknowledged by {by} at {at.isoformat()}."
        entries = [OutboxEntry(fp, sink, "comment", {"at": at.isoformat(), "text": text},
                               f"{fp}:{sink}:ack:{at.isoformat()}")
                   for sink in store_alerts.ticket_sinks(session, fp)]
        store_alerts.enqueue(session, entries, at)
        audit.record(session, actor=by, action="alert-acknowledge", target=fp, at=at,
                     detail={"rule": alert.rule})
    return True


def silence(store: Store, *, product: str, rule: str | None, matchers: dict[str, str],
            starts_at: datetime, ends_at: datetime, reason: str, by: str) -> int:
    """Silence matching alerts until `ends_at`: they keep changing state, file nothing.
    Raises `SilenceError` (a ValueError) for a window that ends before it starts or lasts
    longer than `alerts.silences.LONGEST`, or an empty reason."""
    if not reason.strip():
        raise SilenceError("a silence needs a reason")
    check_window(starts_at, ends_at)
    with store.session() as session:
        silence_id = store_alerts.add_silence(session, product=product, rule=rule,
                                              matchers=matchers, starts_at=starts_at,
                                              ends_at=ends_at, reason=reason, created_by=by,
                                              created_at=starts_at)
        audit.record(session, actor=by, action="alert-silence", target=rule or "*",
                     at=starts_at, detail={"product": product, "matchers": matchers,
                                           "until": ends_at.isoformat(), "reason": reason,
                                           "silence": silence_id})
        return silence_id


def is_silenced(silences: Sequence[SilenceRow], rule: str, labels: dict[str, str]) -> bool:
    return any(silence_matches(s, rule, labels) for s in silences)
