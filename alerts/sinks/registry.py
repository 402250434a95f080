"""Sink kinds by name, and the one place that says which tracker failures are worth retrying.

The engine builds its sinks from config with `build_sink(settings)`; the built-in kinds
register here exactly as a plugin's would (`register_sink_kind`). Each factory imports its
client library only when a sink of that kind is built, so a config that uses only the
webhook never imports `jira` or PyGithub.

Classification lives here too, so the Jira, GitHub and webhook sinks agree on it: a
connection error, a timeout, 408, 429 and 5xx may pass (the outbox tries again later, with
backoff, honouring Retry-After); any other 4xx (400, 401, 403, 404, ...) will not pass by
waiting (bad config, bad token, missing project), so it is reported as fatal and the
outbox stops trying that row at once (dead letter). `collectors/retry.py` classifies the
same way for sources; alerts may not import collectors (ARCHITECTURE.md), and the rule is
four lines, so it is stated here for sinks rather than moved to a shared module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from alerts.sinks.base import Sink

SinkFactory = Callable[[Any], Sink]

_FACTORIES: dict[str, SinkFactory] = {}

REDACTED = "***"


def retriable_status(status: int | None) -> bool:
    """True when an HTTP status may clear by itself: 408, 429 and every 5xx.

    None (no status: the request never got an answer) is retriable too.
    """
    return status is None or status in (408, 429) or status >= 500


def retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds the tracker asked us to wait: Retry-After (seconds or an HTTP date), else,
    when a rate limit is exhausted, until x-ratelimit-reset (epoch seconds, GitHub).
    None when it asked nothing (or said it unreadably)."""
    if not headers:
        return None
    folded = {k.lower(): v for k, v in headers.items()}
    now = time.time() if now is None else now
    value = (folded.get("retry-after") or "").strip()
    if value:
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            return None
    reset = (folded.get("x-ratelimit-reset") or "").strip()
    if folded.get("x-ratelimit-remaining") == "0" and reset.isdigit():
        return max(0.0, float(reset) - now)
    return None


def redact(text: str, *secrets: str) -> str:
    """`text` with every secret replaced by ***: for causes that quote a URL or a body."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def register_sink_kind(kind: str, factory: SinkFactory) -> None:
    """Make `kind` buildable; a later registration of the same kind replaces the earlier."""
    _FACTORIES[kind] = factory


def sink_kinds() -> tuple[str, ...]:
    """The registered kinds, built-ins first."""
    return tuple(_FACTORIES)


def build_sink(settings: Any) -> Sink:
    """The sink for one `sinks:` entry of the config (a `JiraSink`, `GithubSink`, ...).

    Building makes no network request: a tracker that is down fails the delivery that needs
    it, not the start of `dspo alerts evaluate`.
    """
    kind = getattr(settings, "kind", None)
    factory = _FACTORIES.get(kind) if isinstance(kind, str) else None
    if factory is None:
        known = ", ".join(sorted(_FACTORIES))
        raise ValueError(f"unknown sink kind {kind!r} (known: {known})")
    return factory(settings)


def _jira(settings: Any) -> Sink:
    from alerts.sinks.jira import JiraIssueSink

    return JiraIssueSink(settings)


def _github(settings: Any) -> Sink:
    from alerts.sinks.github import GithubIssueSink

    return GithubIssueSink(settings)


def _webhook(settings: Any) -> Sink:
    from alerts.sinks.webhook import WebhookSink

    return WebhookSink(settings)


register_sink_kind("jira", _jira)
register_sink_kind("github_issues", _github)
register_sink_kind("webhook", _webhook)
