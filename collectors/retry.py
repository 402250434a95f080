"""One place that classifies a failed call to a source, and retries the ones worth it.

Every client a collector uses (httpx, requests through `jira` and PyGithub, urllib3
through the Airflow client) fails in its own exception types; `failure_of` reads them all
the same way: a status code and headers where there was an answer, a transport error
where there was none. Connection errors, timeouts, 408, 429 and 5xx are retried with
exponential backoff and jitter (tenacity), honouring Retry-After and GitHub's rate-limit
reset, never past the run's deadline; 401, 403, 404 and other 4xx fail at once with a
hint of what to check. Clients' own retry layers are switched off, so this is the only
one and the deadline holds.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from collectors.deadline import Deadline, DeadlineExceeded

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRIABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
HINTS: Mapping[int, str] = {
    400: "the source refused the request: check the query settings (JQL, filters, ids)",
    401: "not authenticated: check the source's credentials (user, token)",
    403: "not allowed: the credentials lack a permission or scope for this call",
    404: "not found: check the URL and the names in the config (project, board, "
    "repository, DAG)",
    410: "gone: this API endpoint was retired by the source",
}
BACKOFF = wait_exponential_jitter(initial=1, max=30, jitter=1)
SECONDARY_LIMIT_WAIT = 60.0
"""GitHub, for a secondary rate limit that names no wait: "wait for at least one minute
before retrying" (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
#exceeding-the-rate-limit)."""


@dataclass(frozen=True)
class Failure:
    """What went wrong, in words safe to show (no headers, no body beyond a snippet)."""

    retriable: bool
    reason: str
    status: int | None = None
    retry_after: float | None = None  # seconds the source asked us to wait


def failure_of(error: BaseException) -> Failure | None:
    """Classify `error`; None when it is not a failure of talking to the source."""
    if isinstance(error, DeadlineExceeded):
        return Failure(False, str(error))
    status = _status(error)
    if status is not None:
        return _status_failure(status, _headers(error), _reason(error), _rate_limited(error))
    if _is_timeout(error):
        return Failure(True, f"no answer in time ({_one_line(error)})")
    if _is_transport(error):
        return Failure(True, f"cannot connect or connection lost ({_one_line(error)})")
    return None


def _status_failure(
    status: int, headers: Mapping[str, str], reason: str, rate_limited: bool = False
) -> Failure:
    wait = retry_after(headers)
    limited = headers.get("x-ratelimit-remaining") == "0" or rate_limited
    if rate_limited and wait is None:
        wait = SECONDARY_LIMIT_WAIT
    retriable = status in RETRIABLE_STATUSES or (status == 403 and (limited or wait is not None))
    text = f"HTTP {status}" + (f" {reason}" if reason else "")
    if limited:
        text += " (rate limit exhausted)"
    elif not retriable and status in HINTS:
        text += f": {HINTS[status]}"
    return Failure(retriable, text, status, wait)


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or, when the rate limit is
    exhausted, until x-ratelimit-reset (epoch seconds, GitHub)."""
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        if value.strip().isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            return None
    reset = headers.get("x-ratelimit-reset")
    if headers.get("x-ratelimit-remaining") == "0" and reset and reset.isdigit():
        return max(0.0, float(reset) - now)
    return None


def call(fn: Callable[[], T], *, doing: str, deadline: Deadline, retries: int) -> T:
    """Run `fn`, retrying retriable failures; raise `RetriesExhausted` or the original error.

    Sleeps never run past the deadline: when the wait a source asks for (Retry-After) would
    end after it, the call gives up at once instead of sleeping in vain.
    """
    attempts = {"n": 0}

    def counted() -> T:
        attempts["n"] += 1
        deadline.check(doing)
        return fn()

    retrying = Retrying(
        retry=retry_if_exception(_retriable),
        wait=_wait(deadline),
        stop=stop_after_attempt(retries + 1) | _past_deadline(deadline),
        before_sleep=_log_retry(doing),
        reraise=True,
    )
    try:
        return retrying(counted)
    except Exception as e:
        failure = failure_of(e)
        if failure is not None and failure.retriable and attempts["n"] > 1:
            raise RetriesExhausted(failure, attempts["n"]) from e
        raise


class RetriesExhausted(Exception):
    """A retriable failure that lasted through every attempt the policy allowed."""

    def __init__(self, failure: Failure, attempts: int) -> None:
        super().__init__(f"{failure.reason}; gave up after {attempts} attempts")
        self.failure = failure
        self.attempts = attempts


def _retriable(error: BaseException) -> bool:
    failure = failure_of(error)
    return failure is not None and failure.retriable


def _asked_wait(state: RetryCallState) -> float | None:
    error = state.outcome.exception() if state.outcome else None
    failure = failure_of(error) if error is not None else None
    return failure.retry_after if failure else None


def _wait(deadline: Deadline) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        asked = _asked_wait(state)
        seconds = asked + 0.1 if asked is not None else BACKOFF(state)
        return max(0.0, min(seconds, deadline.remaining()))

    return wait


class _past_deadline(stop_base):  # named like tenacity's own stop_* conditions
    """Stop when the deadline would pass during the wait the source asked for (or is gone)."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        asked = _asked_wait(retry_state)
        return self.deadline.remaining() <= (asked if asked is not None else 0.5)


def _log_retry(doing: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        failure = failure_of(error) if error is not None else None
        sleep = state.next_action.sleep if state.next_action else 0.0
        log.info("%s: %s; retry %d in %.1fs", doing, failure.reason if failure else error,
                 state.attempt_number, sleep)

    return before_sleep


# ------------------------------------------------------------ reading foreign exceptions


def _status(error: BaseException) -> int | None:
    """The HTTP status of an answer, whichever client raised (httpx, requests/jira,
    PyGithub, the Airflow client)."""
    response = getattr(error, "response", None)
    for candidate in (
        getattr(error, "status_code", None),
        getattr(error, "status", None),
        getattr(response, "status_code", None),
    ):
        if isinstance(candidate, int) and 100 <= candidate <= 599:
            return candidate
    return None


def _rate_limited(error: BaseException) -> bool:
    """PyGithub tells a rate limit by GitHub's message ("API rate limit exceeded", "You have
    exceeded a secondary rate limit") as `RateLimitExceededException`, also when the answer
    carries no header saying how long to wait."""
    return "RateLimitExceededException" in {cls.__name__ for cls in type(error).__mro__}


def _headers(error: BaseException) -> dict[str, str]:
    """The answer's headers. The error's own `headers` come first and the response's win:
    `jira.JIRAError.headers` holds the headers of the *request*, so reading only that
    attribute would miss the Retry-After of a 429 from Jira."""
    response = getattr(error, "response", None)
    merged: dict[str, str] = {}
    for raw in (getattr(error, "headers", None), getattr(response, "headers", None)):
        try:
            merged.update({str(k).lower(): str(v) for k, v in dict(raw or {}).items()})
        except (TypeError, ValueError):
            continue
    return merged


def _reason(error: BaseException) -> str:
    response = getattr(error, "response", None)
    reason = getattr(response, "reason_phrase", None) or getattr(response, "reason", None)
    reason = reason or getattr(error, "reason", None)
    return reason if isinstance(reason, str) else ""


def _is_timeout(error: BaseException) -> bool:
    names = {cls.__name__ for cls in type(error).__mro__}
    return isinstance(error, TimeoutError | socket.timeout) or bool(
        names & {"TimeoutException", "Timeout", "ReadTimeoutError", "ConnectTimeoutError",
                 "TimeoutError"}
    )


def _is_transport(error: BaseException) -> bool:
    names = {cls.__name__ for cls in type(error).__mro__}
    return isinstance(error, ConnectionError) or bool(
        names & {"TransportError", "ConnectionError", "ProtocolError", "NewConnectionError",
                 "MaxRetryError", "RemoteProtocolError", "ChunkedEncodingError",
                 "IncompleteRead"}
    )


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]
