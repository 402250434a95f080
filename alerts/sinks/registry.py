"""Sink kinds by name, and the one place that says which tracker failures are worth retrying.

The engine builds its sinks from config with `build_sink(settings)`; the built-in kinds
register here exactly as a plugin's would (`register_sink_kind`). Each factory imports its
client library only when a sink of that kind is built, so a config that uses only the
webhook never imports `jira` or PyGithub.

Classification lives here too, so the Jira, GitHub and webhook sinks agree on it: a
connection error, a timeout, 429 and 5xx may pass (the outbox tries again later); 400, 401,
403 and 404 will not pass by waiting (bad config, bad token, missing project), so they are
reported as fatal.
"""

from __future__ import annotations

from collections.abc import Callable
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
