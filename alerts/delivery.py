"""Send the outbox: each pending action to its sink, once, in order, retried until it lands.

`deliver` is safe to run at any time and from several processes: a row is leased before it
is sent (`store.outbox.claim`), rows of one (fingerprint, sink) go in order, and a failure
keeps the row (attempts, last error) for the next run. Before anything is created or
reopened the tracker is asked for the fingerprint (`Sink.find`): what the tracker has wins
over what the store remembers, so a lost store, a retried timeout or a human's edit never
produces a second ticket.

A ticket closed with an ignored resolution (Won't fix, GitHub's not planned) is never
reopened, and no new ticket is filed for that fingerprint while it stays so: the team has
said this alert is not work. Reopening the ticket by hand brings it back (the next firing
comments on it). Silence the alert to stop it changing state as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

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
    failed: list[str] = field(default_factory=list)  # "create@jira: sink 'jira' (...): 503"
    waiting: int = 0  # rows left for a later run (failed, leased elsewhere, or behind one)


def deliver(store: Store, sinks: Mapping[str, Sink], now: datetime) -> DeliveryReport:
    """Send every pending outbox row whose sink is configured."""
    report = DeliveryReport()
    with store.session() as session:
        rows = ob.pending(session)
    blocked: set[tuple[str, str]] = set()
    for row in rows:
        pair = (row.fingerprint, row.sink)
        what = f"{row.action}@{row.sink}"
        sink = sinks.get(row.sink)
        if pair in blocked or sink is None:
            report.waiting += 1
            if sink is None and pair not in blocked:
                report.failed.append(f"{what}: no sink named {row.sink!r} is configured")
            blocked.add(pair)
            continue
        with store.session() as session:
            claimed = ob.claim(session, row.id, now)
        if not claimed:
            blocked.add(pair)
            report.waiting += 1
            continue
        try:
            note, refs = _send(store, sink, row, now)
        except SinkError as e:
            error = str(e)
        # A sink's unexpected failure (a bug, a library's surprise) must not leave the row
        # leased or stop the other rows: it is recorded and retried like a tracker error.
        except Exception as e:  # noqa: BLE001
            error = f"{type(e).__name__}: {e}"
        else:
            with store.session() as session:
                for ref in refs:
                    ob.save_ticket(session, _ticket(row.fingerprint, ref, now))
                ob.mark_delivered(session, row.id, now, note)
            keys = " ".join(r.key for r in refs)
            report.delivered.append(f"{what} {keys}".strip() + (f" ({note})" if note else ""))
            continue
        log.warning("outbox %s %s: %s", row.id, what, error)
        with store.session() as session:
            ob.mark_failed(session, row.id, error)
        blocked.add(pair)
        report.failed.append(f"{what}: {error}")
        report.waiting += 1
    return report


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
