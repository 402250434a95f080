"""What a callback may reach: the loaded config and the store, per Flask app.

Kept on the Flask app (not in module globals), so several apps can live in one process
(tests) and each gunicorn worker builds its own from the same config.
"""

from __future__ import annotations

from dataclasses import dataclass

import flask

from config.schema import DspoConfig, ProductConfig
from store.db import Store

EXTENSION = "dspo"


@dataclass(frozen=True)
class DashboardContext:
    config: DspoConfig
    store: Store

    def product(self, key: str | None) -> ProductConfig:
        """The product named in the URL, or the first one when none or an unknown one is."""
        for product in self.config.products:
            if product.key == key:
                return product
        return self.config.products[0]


def install(server: flask.Flask, context: DashboardContext) -> None:
    server.extensions[EXTENSION] = context


def current() -> DashboardContext:
    return flask.current_app.extensions[EXTENSION]  # type: ignore[no-any-return]
