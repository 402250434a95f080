"""Waiting for a condition in the page without `page.wait_for_function`.

The dashboard's Content-Security-Policy has no 'unsafe-eval', as it should, and
Playwright's `wait_for_function` evaluates its expression with `eval` inside the page, so
the page refuses it. `page.evaluate` goes through the DevTools protocol instead, which a
page's CSP does not govern: polling it from here waits for the same condition.
"""

from __future__ import annotations

import time
from typing import Any

POLL_SECONDS = 0.1


def wait_true(page: Any, function: str, arg: Any = None, timeout_ms: int = 30_000) -> Any:
    """Poll `function` (JS source of a function of one argument) until it returns a truthy
    value, and return that value; raise TimeoutError with the function when it never does."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        value = page.evaluate(function, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true after {timeout_ms} ms: {function}")
        time.sleep(POLL_SECONDS)
