"""dspo's own backlog items, the ones alerts file (`alerts/sinks/backlog.py` calls these).

They live in `backlog_item` beside the imported ones, with origin 'alert' and source
'dspo-alerts', so every backlog view, burndown and flow chart counts them like any item;
keys are ALERT-1, ALERT-2, ... Status changes write `item_event` rows as a tracker's
history would, so cycle time and cumulative flow see them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store import records as r
from store import schema as s
from store.alerts import _product_id
from store.upsert import table, upsert

ALERT_SOURCE = "dspo-alerts"
KEY_PREFIX = "ALERT-"
B = s.BacklogItem


@dataclass(frozen=True)
class AlertItem:
    key: str
    url: str | None
    status: str
    status_category: str
    labels: tuple[str, ...]
    created: datetime
    resolved: datetime | None


def _items(session: Session) -> list[AlertItem]:
    rows = session.execute(
        select(B.key, B.url, B.status, B.status_category, B.labels, B.created, B.resolved)
        .where(B.source == ALERT_SOURCE).order_by(B.created.desc(), B.id.desc())
    ).tuples()
    return [AlertItem(k, u, st, c, tuple(lab or ()), cr, rs) for k, u, st, c, lab, cr, rs in rows]


def find_alert_item(session: Session, label: str) -> AlertItem | None:
    """The newest item carrying `label`, an open one first (the sink contract's `find`)."""
    found = [i for i in _items(session) if label in i.labels]
    open_ = [i for i in found if i.status_category != r.StatusCategory.DONE]
    best = open_ or found
    return best[0] if best else None


def get_alert_item(session: Session, key: str) -> AlertItem | None:
    return next((i for i in _items(session) if i.key == key), None)


def create_alert_item(session: Session, *, product: str, title: str, type: str,
                      points: float | None, labels: Sequence[str], description: str,
                      url: str | None, now: datetime) -> str:
    """Insert an item with the next free ALERT-<n> key (retrying when another deliverer
    took that number first) and return the key."""
    product_id = _product_id(session, product)
    keys = session.execute(select(B.key).where(B.source == ALERT_SOURCE)).scalars()
    numbers = [int(k[len(KEY_PREFIX):]) for k in keys
               if k.startswith(KEY_PREFIX) and k[len(KEY_PREFIX):].isdigit()]
    n = max(numbers, default=0) + 1
    while True:
        key = f"{KEY_PREFIX}{n}"
        row = {"source": ALERT_SOURCE, "key": key, "product_id": product_id, "title": title,
               "type": type, "status": "To Do", "status_category": r.StatusCategory.TODO.value,
               "points": points, "epic": None, "sprint": None, "created": now,
               "resolved": None, "labels": list(labels), "url": url,
               "origin": r.Origin.ALERT.value, "updated_at": now, "description": description}
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
            else sqlite.insert
        inserted = session.execute(
            insert(table(B)).values(**row)
            .on_conflict_do_nothing(index_elements=["source", "key"]).returning(table(B).c.id)
        ).first()
        if inserted is not None:
            return key
        n += 1


def _item_id(session: Session, key: str) -> int:
    return int(session.execute(
        select(B.id).where(B.source == ALERT_SOURCE, B.key == key)).scalar_one())


def add_item_comment(session: Session, key: str, ts: datetime, author: str, text: str) -> None:
    session.execute(table(s.ItemComment).insert().values(
        item_id=_item_id(session, key), ts=ts, author=author, text=text))


def set_item_status(session: Session, key: str, status: str, category: r.StatusCategory,
                    ts: datetime) -> None:
    """Move the item to `status`, recording the change as item events (history)."""
    item = get_alert_item(session, key)
    if item is None:
        raise KeyError(key)
    if item.status == status and item.status_category == category.value:
        return
    item_id = _item_id(session, key)
    resolved = ts if category is r.StatusCategory.DONE else None
    session.execute(sql_update(table(B)).where(table(B).c.id == item_id).values(
        status=status, status_category=category.value, resolved=resolved, updated_at=ts))
    events = [
        {"item_id": item_id, "ts": ts, "field": r.ItemField.STATUS.value,
         "from_value": item.status, "to_value": status},
        {"item_id": item_id, "ts": ts, "field": r.ItemField.STATUS_CATEGORY.value,
         "from_value": item.status_category, "to_value": category.value},
    ]
    upsert(session, table(s.ItemEvent), events, ["item_id", "ts", "field"])
