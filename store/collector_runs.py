"""Collector runs and leases: who runs a source now, what each run did, where the next
one resumes.

A run holds its source's lease for the run's deadline (plus a margin). A second
scheduler, on this machine or another, finds the lease held and leaves the source alone;
a lease whose holder died (its process is gone on this host) or whose time ran out is
taken over, and the dead holder's run, still 'running', is marked 'abandoned' by the next
run. Taking a lease is a compare-and-set on the row the taker read, so two takers racing
for an expired lease cannot both win.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Executable, Table, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store import schema as s
from store.upsert import table

FINISHED_STATUSES = ("ok", "failed")


def this_holder() -> str:
    """host:pid of this process, as leases and runs record it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_dead(holder: str) -> bool:
    """True when `holder` is a process of this host that no longer exists.

    A holder on another host is never judged dead here: its lease runs out instead.
    """
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False


def acquire_lease(
    session: Session, source: str, holder: str, now: datetime, ttl: timedelta
) -> str | None:
    """Take `source`'s lease until now + ttl; None when taken, else the holder that has it.

    Commit the session right after, so other schedulers see the lease.
    """
    lease = table(s.CollectorLease)
    current = session.execute(
        select(lease.c.holder, lease.c.expires).where(lease.c.source == source)
    ).one_or_none()
    values = {"holder": holder, "acquired": now, "expires": now + ttl, "run_id": None}
    if current is None:
        inserted = session.execute(
            _insert_ignoring_conflict(session, lease, {"source": source, **values})
        )
        if _rowcount(inserted) == 1:
            return None
        return acquire_lease(session, source, holder, now, ttl)  # lost the race: read again
    if current.holder != holder and current.expires > now and not holder_is_dead(current.holder):
        return str(current.holder)
    taken = session.execute(
        sql_update(lease)
        .where(lease.c.source == source, lease.c.holder == current.holder,
               lease.c.expires == current.expires)
        .values(**values)
    )
    if _rowcount(taken) == 1:
        return None
    return acquire_lease(session, source, holder, now, ttl)  # someone took it meanwhile


def _insert_ignoring_conflict(session: Session, target: Table, row: dict[str, Any]) -> Executable:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(target).values(**row).on_conflict_do_nothing(index_elements=["source"])


def _rowcount(result: Any) -> int:
    """Rows a DML statement touched (`Result` is typed without it; `CursorResult` has it)."""
    return int(getattr(result, "rowcount", 0))


def release_lease(session: Session, source: str, holder: str) -> None:
    """Give the lease back (only if `holder` still has it)."""
    lease = table(s.CollectorLease)
    session.execute(lease.delete().where(lease.c.source == source, lease.c.holder == holder))


def start_collector_run(
    session: Session, source: str, kind: str, started: datetime, holder: str | None = None
) -> int:
    """Record that a collector run began; returns its id for `finish_collector_run`."""
    run = table(s.CollectorRun)
    result = session.execute(
        run.insert()
        .values(source=source, kind=kind, started=started, status="running", rows_written=0,
                records_read=0, holder=holder)
        .returning(run.c.id)
    )
    return int(result.scalar_one())


def abandon_stale_runs(session: Session, source: str, current_run: int, now: datetime) -> int:
    """Mark the source's other 'running' runs abandoned; call while holding the lease.

    Holding the lease means no other process runs this source, so any other run still
    'running' belongs to a process that was killed or timed out without closing it.
    """
    run = table(s.CollectorRun)
    result = session.execute(
        sql_update(run)
        .where(run.c.source == source, run.c.status == "running", run.c.id != current_run)
        .values(status="abandoned", finished=now,
                error="abandoned: the process running it stopped before it finished")
    )
    return _rowcount(result)


def finish_collector_run(
    session: Session,
    run_id: int,
    *,
    status: str,
    rows_written: int,
    records_read: int,
    error: str | None,
    watermark: datetime | None,
    finished: datetime,
) -> None:
    """Close a collector run; an 'ok' run's watermark is where the next run resumes."""
    if status not in FINISHED_STATUSES:
        raise ValueError(f"a finished run is 'ok' or 'failed', not {status!r}")
    run = table(s.CollectorRun)
    session.execute(
        sql_update(run)
        .where(run.c.id == run_id)
        .values(status=status, rows_written=rows_written, records_read=records_read,
                error=error, watermark=watermark, finished=finished)
    )


def last_watermark(session: Session, source: str) -> datetime | None:
    """The watermark of the source's latest successful run; None before the first one."""
    run = table(s.CollectorRun)
    return session.execute(
        select(run.c.watermark)
        .where(run.c.source == source, run.c.status == "ok")
        .order_by(run.c.started.desc(), run.c.id.desc())
        .limit(1)
    ).scalar()
