"""What a callback may reach: the loaded config and the store, per Flask app.

Kept on the Flask app (not in module globals), so several apps can live in one process
(tests) and each gunicorn worker builds its own from the same config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import flask

from config.schema import DspoConfig, ProductConfig
from dashboard.auth.principal import current as current_principal
from dashboard.cache import ViewCache
from dashboard.filters import DateRange, date_range
from store.db import Store

EXTENSION = "dspo"


@dataclass(frozen=True)
class DashboardContext:
    config: DspoConfig
    store: Store
    cache: ViewCache = field(default_factory=ViewCache, compare=False)  # dashboard.cache

    def products(self) -> list[ProductConfig]:
        """The products the signed-in principal looks after (all, outside a request)."""
        principal = current_principal()
        if not principal.signed_in:
            return list(self.config.products)
        return [p for p in self.config.products if principal.sees_product(p.key)]

    def product(self, key: str | None) -> ProductConfig:
        """The product named in the URL, or the first the principal looks after when none
        or an unknown one is (the guard has refused a product they may not see)."""
        visible = self.products() or list(self.config.products)
        for product in visible:
            if product.key == key:
                return product
        return visible[0]


def install(server: flask.Flask, context: DashboardContext) -> None:
    server.extensions[EXTENSION] = context


def current() -> DashboardContext:
    return flask.current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class PageView:
    """What a page reads from its URL (the product, the date range) and the instant its
    numbers are computed at, so every page reads the shared filters the same way."""

    context: DashboardContext
    product: ProductConfig
    dates: DateRange
    now: datetime

    @property
    def as_of(self) -> datetime:
        """The range's last instant, at most now: a range ending in the past shows the
        numbers as they stood at the end of its last day."""
        return min(self.now, self.dates.end - timedelta(microseconds=1))


def page_view(product: str | None, start: str | None = None, end: str | None = None
              ) -> PageView:
    """The current app's view of the URL's product and date range, as of now."""
    ctx = current()
    now = datetime.now(UTC)
    return PageView(ctx, ctx.product(product), date_range(start, end, now=now), now)
