"""dspo's own backlog as a sink: alert items in the store, beside the imported ones.

Items get keys ALERT-1, ALERT-2, ... under source 'dspo-alerts' with origin 'alert', so the
backlog views mark them and count them with the team's other work. Like every tracker, an
item carries the fingerprint label and `find` looks it up, so the engine treats dspo's
backlog exactly as it treats Jira. Resolution moves the item to Done and reopening back to
To Do, each recorded as item history; comments go to `item_comment`.

Times come from `clock` (the evaluation's `now`), so tests and replays stay controlled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from alerts.sinks.base import Sink, TicketRef, TicketSpec, fingerprint_label
from alerts.tickets import alert_path
from config.alerting import NATIVE_SINK
from store import alert_items as items
from store.db import Store
from store.records import StatusCategory

AUTHOR = "dspo"
DONE, TODO = "Done", "To Do"
IGNORED_STATUSES = ("Won't Do", "Won't Fix", "Declined", "Duplicate")
"""A PO who closes an alert item with one of these statuses says: never reopen it."""


def _now() -> datetime:
    return datetime.now(UTC)


class BacklogSink(Sink):
    kind: ClassVar[str] = "backlog"

    def __init__(self, store: Store, *, base_url: str | None = None,
                 clock: Callable[[], datetime] = _now) -> None:
        self.name = NATIVE_SINK
        self.store = store
        self.base_url = (base_url or "").rstrip("/")
        self.clock = clock

    def _ref(self, item: items.AlertItem | None) -> TicketRef | None:
        if item is None:
            return None
        closed = item.status_category == StatusCategory.DONE.value
        return TicketRef(sink=self.name, key=item.key, url=item.url, closed=closed,
                         resolution=item.status if closed else None, closed_at=item.resolved)

    def find(self, fingerprint: str) -> TicketRef | None:
        with self.store.session() as session:
            return self._ref(items.find_alert_item(session, fingerprint_label(fingerprint)))

    def create(self, spec: TicketSpec) -> TicketRef:
        labels = [*spec.labels, "alert", spec.severity, fingerprint_label(spec.fingerprint)]
        url = f"{self.base_url}{alert_path(spec.product, spec.fingerprint)}"
        with self.store.session() as session:
            key = items.create_alert_item(
                session, product=spec.product, title=spec.title, type=spec.type,
                points=spec.points, labels=list(dict.fromkeys(labels)),
                description=spec.description, url=url, now=self.clock())
            return self._ref(items.get_alert_item(session, key))  # type: ignore[return-value]

    def comment(self, ref: TicketRef, text: str) -> None:
        with self.store.session() as session:
            items.add_item_comment(session, ref.key, self.clock(), AUTHOR, text)

    def _move(self, ref: TicketRef, text: str, status: str, category: StatusCategory
              ) -> TicketRef:
        now = self.clock()
        with self.store.session() as session:
            items.add_item_comment(session, ref.key, now, AUTHOR, text)
            items.set_item_status(session, ref.key, status, category, now)
            found = self._ref(items.get_alert_item(session, ref.key))
        assert found is not None
        return found

    def resolve(self, ref: TicketRef, text: str) -> TicketRef:
        return self._move(ref, text, DONE, StatusCategory.DONE)

    def reopen(self, ref: TicketRef, text: str) -> TicketRef:
        return self._move(ref, text, TODO, StatusCategory.TODO)

    def is_ignored(self, ref: TicketRef) -> bool:
        return ref.closed and ref.resolution in IGNORED_STATUSES
