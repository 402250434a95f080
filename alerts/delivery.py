"""Send the outbox: each pending action to its sink, once, in order, with backoff, until
it lands or is given up.

`deliver` is safe to run at any time and from several processes: a row is leased before it
is sent (`store.outbox.claim`), rows of one (fingerprint, sink) go in order, and a failure
keeps the row (attempts, last error, next attempt) for a later run. Before anything is
created or reopened the tracker is asked for the fingerprint (`Sink.find`): what the
tracker has wins over what the store remembers, so a lost store, a retried timeout or a
human's edit never produces a second ticket.

Failures (classified once, by the sinks: `alerts.sinks.registry`):
- retriable (no answer, 408, 429, 5xx): the row waits `RetryPolicy.wait` (full-jitter
  exponential backoff, or the tracker's Retry-After) and the sink's other rows rest until
  the next run, so a tracker that is down costs one attempt per run, not one per row;
- fatal (any other 4xx), or the sink's `max_attempts`-th failure: the row goes dead, with
  the tracker's answer, and stays on the Alerts page until a PO retries or discards it
  (`alerts.deadletters`).

While a row is dead the later rows of its (fingerprint, sink) wait behind it: they act on
the same ticket (create, comment, resolve, reopen), and sending them out of order would
either do nothing useful (a comment or resolution with no ticket) or, when the dead row is
retried later, leave the ticket in the wrong state (a resolution retried after a re-fire
closes a firing alert's ticket). Other alerts and other sinks go on. Retrying the dead row
sends it and then the rows behind it; discarding it releases them.

A ticket closed with an ignored resolution (Won't fix, GitHub's not planned) is never
reopened, and no new ticket is filed for that fingerprint while it stays so: the team has
said this alert is not work. Reopening the ticket by hand brings it back (the next firing
comments on it). Silence the alert to stop it changing state as well.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from alerts.backoff import RetryPolicy, Uniform
from alerts.sinks.base import Sink, SinkError, TicketRef
from alerts.tickets import spec_from_payload
from config.alerting import NATIVE_SINK
from config.schema import DspoConfig
from store import outbox as ob
from store.db import Store

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    delivered: list[str] = field(default_factory=list)  # "create@backlog ALERT-1"
    failed: list[str] = field(default_factory=list)  # "create@jira: sink 'jira' (...): 503 ..."
    dead: list[str] = field(default_factory=list)  # "#7 create@jira: ... HTTP 403: ..."
    waiting: int = 0  # rows left for a later run (failed, not due, leased, behind one, dead)


@dataclass(frozen=True)
class _Failure:
    error: str
    retriable: bool
    retry_after: float | None = None
    tracker: bool = True  # the tracker failed (not dspo's sink code): rest the whole sink


def deliver(store: Store, sinks: Mapping[str, Sink], now: datetime, *,
            policies: Mapping[str, RetryPolicy] | None = None,
            rng: Uniform | None = None) -> DeliveryReport:
    """Send every due outbox row whose sink is configured.

    `policies` are the sinks' retry settings by name (`retry_policies`; a sink without one
    gets the defaults); `rng` draws the jitter (tests pass one that is not random).
    """
    report = DeliveryReport()
    draw = rng if rng is not None else random.Random()
    with store.session() as session:
        rows = ob.pending(session)
    held: set[tuple[str, str]] = set()  # pairs whose next row must wait for an earlier one
    resting: set[str] = set()  # sinks that failed retriably in this run
    for row in rows:
        pair, what = (row.fingerprint, row.sink), f"{row.action}@{row.sink}"
        sink = sinks.get(row.sink)
        if row.state == ob.DEAD:
            report.dead.append(f"#{row.id} {what}: {row.last_error or 'no answer recorded'}")
        elif sink is None and pair not in held:
            report.failed.append(f"{what}: no sink named {row.sink!r} is configured")
        if sink is None or pair in held or row.sink in resting or not row.due(now):
            held.add(pair)
            report.waiting += 1
            continue
        with store.session() as session:
            attempt = ob.claim(session, row.id, now)
        if attempt is None:  # leased by another deliverer, or raced past its turn
            held.add(pair)
            report.waiting += 1
            continue
        failure = _attempt(store, sink, row, now, report)
        if failure is None:
            continue
        held.add(pair)
        policy = (policies or {}).get(row.sink, RetryPolicy())
        if failure.retriable and failure.tracker:
            resting.add(row.sink)
        _record_failure(store, row, attempt, failure, policy, now, draw, report)
    return report


def _attempt(store: Store, sink: Sink, row: ob.OutboxRow, now: datetime,
             report: DeliveryReport) -> _Failure | None:
    """Send one claimed row; None when it was delivered (and recorded so)."""
    try:
        note, refs = _send(store, sink, row, now)
    except SinkError as e:
        return _Failure(str(e), e.retriable, e.retry_after)
    # A sink's unexpected failure (a bug, a library's surprise) must not leave the row
    # leased or stop the other rows: it is recorded and retried like a tracker outage,
    # up to the sink's max_attempts.
    except Exception as e:  # noqa: BLE001
        return _Failure(f"{type(e).__name__}: {e}", retriable=True, tracker=False)
    with store.session() as session:
        for ref in refs:
            ob.save_ticket(session, _ticket(row.fingerprint, ref, now))
        ob.mark_delivered(session, row.id, now, note)
    keys = " ".join(r.key for r in refs)
    what = f"{row.action}@{row.sink}"
    report.delivered.append(f"{what} {keys}".strip() + (f" ({note})" if note else ""))
    return None


def _record_failure(store: Store, row: ob.OutboxRow, attempt: int, failure: _Failure,
                    policy: RetryPolicy, now: datetime, rng: Uniform,
                    report: DeliveryReport) -> None:
    what = f"{row.action}@{row.sink}"
    log.warning("outbox %s %s (attempt %d): %s", row.id, what, attempt, failure.error)
    if policy.gives_up(attempt, retriable=failure.retriable):
        why = (failure.error if not failure.retriable
               else f"{failure.error} (gave up after {attempt} attempts)")
        with store.session() as session:
            ob.mark_dead(session, row.id, why)
        report.dead.append(f"#{row.id} {what}: {why}")
        report.waiting += 1
        return
    next_at = now + policy.wait(attempt, rng, failure.retry_after)
    with store.session() as session:
        ob.mark_failed(session, row.id, failure.error, next_at)
    report.failed.append(f"{what}: {failure.error}; attempt {attempt} of "
                         f"{policy.max_attempts}, next at {next_at.isoformat()}")
    report.waiting += 1


def _ticket(fp: str, ref: TicketRef, now: datetime) -> ob.TicketRow:
    closed_at = ref.closed_at or (now if ref.closed else None)
    return ob.TicketRow(fp, ref.sink, ref.key, ref.url, ref.closed, ref.resolution, now,
                        closed_at)


def _known(store: Store, sink: Sink, fp: str) -> TicketRef | None:
    with store.session() as session:
        t = ob.latest_ticket(session, fp, sink.name)
    if t is None:
        return None
    return TicketRef(sink=t.sink, key=t.key, url=t.url, closed=t.closed,
                     resolution=t.resolution, closed_at=t.closed_at)


def _send(store: Store, sink: Sink, row: ob.OutboxRow, now: datetime
          ) -> tuple[str | None, list[TicketRef]]:
    """Do one action; returns a note (why nothing was sent, or what was done instead) and
    the tickets as they now are."""
    fp, payload = row.fingerprint, row.payload
    text = str(payload.get("text", ""))
    if row.action in ("create", "reopen"):
        found = sink.find(fp)
        if found is None:
            return None, [sink.create(spec_from_payload(payload))]
        if found.closed and sink.is_ignored(found):
            return f"not reopened: {found.key} was closed as {found.resolution}", [found]
        if not found.closed:
            sink.comment(found, text)
            return f"commented on open {found.key}", [found]
        window = timedelta(seconds=float(payload.get("reopen_window_s", 0)))
        at = datetime.fromisoformat(str(payload.get("at", now.isoformat())))
        recent = found.closed_at is not None and at - found.closed_at <= window
        if row.action == "reopen" or recent:
            return None, [sink.reopen(found, text)]
        return None, [found, sink.create(spec_from_payload(payload))]
    current = _known(store, sink, fp)
    if row.action == "resolve":
        fresh = sink.find(fp)
        target = fresh or current
        if target is None:
            return "no ticket to resolve", []
        if fresh is not None and fresh.closed:
            return f"{fresh.key} already closed", [fresh]
        return None, [sink.resolve(target, text)]
    if row.action == "comment":
        target = current or sink.find(fp)
        if target is None:
            return "no ticket to comment on", []
        sink.comment(target, text)
        return None, [replace(target)]
    raise ValueError(f"unknown outbox action {row.action!r}")


def build_sinks(store: Store, config: DspoConfig, clock: Callable[[], datetime]
                ) -> dict[str, Sink]:
    """dspo's own backlog and every configured sink, by name (no network until used)."""
    from alerts.sinks.backlog import BacklogSink

    sinks: dict[str, Sink] = {
        NATIVE_SINK: BacklogSink(store, base_url=config.dashboard.base_url, clock=clock)
    }
    if config.sinks:
        from alerts.sinks.registry import build_sink

        for settings in config.sinks:
            sinks[settings.name] = build_sink(settings)
    return sinks


def retry_policies(config: DspoConfig) -> dict[str, RetryPolicy]:
    """Each configured sink's retry settings by name; dspo's own backlog (which has no
    `sinks:` entry) gets the defaults."""
    return {settings.name: RetryPolicy.of(settings) for settings in config.sinks}
