"""Share links of a KPI page: made, listed and revoked by a PO, each change in the audit log.

A link is a row in the store (`store.people`); its URL carries the row's id signed with
the dashboard's key (`dashboard.auth.routes.share_token`). The guard reads the row on every
request, so a revoked or expired link stops working at once, on every worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from store import audit
from store.db import Store
from store.people import ShareRow, add_share_link, revoke_share_link, share_link, share_links

SHARE_DAYS = (1, 7, 30)  # the choices the panel offers
MAX_SHARE_DAYS = 90


class ShareError(ValueError):
    """A share request that cannot be done as asked; the message says what to choose."""


@dataclass(frozen=True)
class LinkState:
    link: ShareRow
    state: str  # active, expired or revoked


def state_of(link: ShareRow, now: datetime) -> str:
    if link.revoked_at is not None:
        return "revoked"
    return "active" if link.expires_at > now else "expired"


def share_days(value: object) -> int:
    """Days a new link lasts: a whole number from 1 to MAX_SHARE_DAYS (a payload may send
    anything)."""
    try:
        days = int(str(value))
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_SHARE_DAYS:
        raise ShareError(f"A share link lasts 1 to {MAX_SHARE_DAYS} days; choose one of "
                         f"{', '.join(map(str, SHARE_DAYS))}.")
    return days


def create_link(store: Store, slug: str, *, days: object, by: str, now: datetime,
                address: str | None = None) -> ShareRow:
    lasts = share_days(days)
    with store.session() as s:
        link = add_share_link(s, page=slug, created_by=by, now=now,
                              expires_at=now + timedelta(days=lasts))
        audit.record(s, actor=by, action="share-create", target=slug, at=now, address=address,
                     detail={"link": link.link_id, "days": lasts,
                             "expires_at": link.expires_at.isoformat()})
    return link


def revoke_link(store: Store, slug: str, link_id: str, *, by: str, now: datetime,
                address: str | None = None) -> bool:
    """Revoke one of this page's links; False when it is not one, or was revoked already."""
    with store.session() as s:
        link = share_link(s, link_id)
        if link is None or link.page != slug:
            return False
        done = revoke_share_link(s, link_id, by=by, at=now)
        if done:
            audit.record(s, actor=by, action="share-revoke", target=slug, at=now,
                         address=address, detail={"link": link_id})
    return done


def page_links(store: Store, slug: str, now: datetime) -> list[LinkState]:
    """The page's links, newest first, with their state now."""
    with store.session() as s:
        return [LinkState(link, state_of(link, now)) for link in share_links(s, slug)]
