"""Per-worker caches of page results, keyed on the store's change marker.

A page viewed by twenty people in a minute is computed once: `cached_view` wraps a
page's `build_*` service so that, inside a request, its result is kept in the app's
`ViewCache` under (page, its arguments, the store's change marker). A collection or an
alert evaluation moves the marker (`store.marker`), so a result computed before it is
never served after it. Instants in the arguments (`as_of`, a range's ends) count to the
same `BUCKET`: within it, a viewer sees the figures of the first view, at most that much
older. Outside a request (tests, benchmarks, the CLI) services compute as they always did.
Each gunicorn worker has its own cache; nothing in it is needed by another worker.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import flask

from config.schema import ProductConfig
from store.db import Store
from store.marker import change_marker

BUCKET = timedelta(seconds=30)
SIZE = 128  # results per worker: pages x products x ranges in use at once

P = ParamSpec("P")
R = TypeVar("R")


class ViewCache:
    """A small thread-safe LRU of page results: a worker serves several threads."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every result (a benchmark timing the computation itself)."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def _part(value: Any) -> Hashable:
    """An argument as part of a key: instants to their bucket, a product to its key,
    sequences element-wise; other objects (the config) live as long as the app: by id."""
    if isinstance(value, datetime):
        return ("t", int(value.timestamp() // BUCKET.total_seconds()))
    if isinstance(value, ProductConfig):
        return ("product", value.key, id(value))
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return tuple(_part(v) for v in items)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return ("id", id(value))


def _current() -> ViewCache | None:
    if not flask.has_app_context():
        return None
    from dashboard.context import EXTENSION  # the context imports this module

    context = flask.current_app.extensions.get(EXTENSION)
    return getattr(context, "cache", None)


def cached_view(page: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache a `build_<page>(store, ...)` service per worker, as the module docstring says."""
    def wrap(build: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(build)
        def cached(*args: P.args, **kwargs: P.kwargs) -> R:
            cache = _current()
            store = args[0] if args else None
            if cache is None or not isinstance(store, Store):
                return build(*args, **kwargs)
            key = (page, id(store), change_marker(store), _part(args[1:]),
                   tuple(sorted((k, _part(v)) for k, v in kwargs.items())))
            hit, value = cache.get(key)
            if not hit:
                value = build(*args, **kwargs)
                cache.put(key, value)
            return value  # type: ignore[no-any-return]
        return cached
    return wrap
