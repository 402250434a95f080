"""A chat channel as an alert sink: Slack-compatible JSON POSTed to an incoming webhook.

A channel keeps no tickets, so `find` always answers None and the "ticket" is the alert's
fingerprint; every action is one message: FIRING on create, an update on comment,
RESOLVED on resolve, FIRING again on reopen. The payload is what Slack's incoming webhooks
take (https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks/): a `text`
fallback, which notifications show, and Block Kit `blocks` (header, section, context);
Mattermost, Rocket.Chat and Discord's /slack endpoints take the same shape.

The webhook URL is the secret (whoever has it can post), so no error, log line or repr
shows more of it than scheme and host: httpx logs every request URL at INFO, and a filter on
its logger hides the URLs of the webhooks built here.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from alerts.sinks.base import Sink, SinkError, TicketRef, TicketSpec
from alerts.sinks.registry import REDACTED, redact, retriable_status, retry_after
from config.alerting import WebhookSink as WebhookSettings

HEADER_LIMIT = 150  # Slack: a header block's text
SECTION_LIMIT = 3000  # Slack: a section block's text
TEXT_LIMIT = 4000  # Slack truncates longer top-level text


class _HideSecretUrls(logging.Filter):
    """Replaces registered webhook URLs in the arguments of httpx's request log lines."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets and isinstance(record.args, tuple):
            record.args = tuple(
                redact(str(arg), *self.secrets)
                if any(secret in str(arg) for secret in self.secrets) else arg
                for arg in record.args
            )
        return True


_URL_FILTER = _HideSecretUrls()
logging.getLogger("httpx").addFilter(_URL_FILTER)


class WebhookSink(Sink):
    """Posts one Slack-compatible message per alert action."""

    kind = "webhook"

    def __init__(
        self, settings: WebhookSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.name = settings.name
        self._url = settings.url.get_secret_value()
        parts = urlsplit(self._url)
        self.where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/{REDACTED}"
        _URL_FILTER.secrets.add(self._url)
        self._client = httpx.Client(
            timeout=settings.timeout_seconds, transport=transport, follow_redirects=False
        )

    def __repr__(self) -> str:
        return f"WebhookSink(name={self.name!r}, url={self.where!r})"

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------ the contract

    def find(self, fingerprint: str) -> TicketRef | None:
        return None  # a channel keeps nothing to find

    def create(self, spec: TicketSpec) -> TicketRef:
        self._post(firing_message(spec))
        return TicketRef(
            sink=self.name,
            key=spec.fingerprint,
            extra={"rule": spec.rule, "product": spec.product, "title": spec.title,
                   "severity": spec.severity},
        )

    def comment(self, ref: TicketRef, text: str) -> None:
        self._post(followup_message("UPDATE", ref, text))

    def resolve(self, ref: TicketRef, text: str) -> TicketRef:
        self._post(followup_message("RESOLVED", ref, text))
        return replace(ref, closed=True)

    def reopen(self, ref: TicketRef, text: str) -> TicketRef:
        self._post(followup_message("FIRING again", ref, text))
        return replace(ref, closed=False)

    # ------------------------------------------------------------ helpers

    def _post(self, payload: dict[str, Any]) -> None:
        """POST the payload; any answer but 2xx, and any transport failure, is a SinkError.

        Errors are raised `from None`: httpx's exceptions carry the request, and with it the
        secret URL, into tracebacks.
        """
        try:
            response = self._client.post(self._url, json=payload)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
            cause = f"bad webhook URL: {type(e).__name__}"
            raise SinkError(self.name, self.where, cause, retriable=False) from None
        except httpx.TransportError as e:  # refused, reset, DNS, timeouts, TLS
            cause = f"{type(e).__name__}: {redact(str(e), self._url)}"
            raise SinkError(self.name, self.where, cause, retriable=True) from None
        if not response.is_success:
            body = redact(" ".join(response.text.split())[:200], self._url) or "no body"
            wait = retry_after(response.headers)
            hint = f" (retry after {wait:g} s)" if wait is not None else ""
            cause = f"HTTP {response.status_code}: {body}{hint}"
            raise SinkError(self.name, self.where, cause,
                            retriable=retriable_status(response.status_code),
                            status=response.status_code, retry_after=wait)


def firing_message(spec: TicketSpec) -> dict[str, Any]:
    """The FIRING message of a new alert: what, how bad, the evidence and its links."""
    head = f"FIRING [{spec.severity}] {spec.title}"
    origin = f"rule {spec.rule} · product {spec.product}"
    text = "\n".join(part for part in (head, spec.description.strip(), origin) if part)
    blocks: list[dict[str, Any]] = [_header(f"FIRING: {spec.title}")]
    if spec.description.strip():
        blocks.append(_section(escape(spec.description.strip())))
    if spec.links:
        links = " · ".join(f"<{url}|{escape(label)}>" for label, url in spec.links)
        blocks.append(_section(links))
    blocks.append(_context(
        f"rule *{escape(spec.rule)}* · product *{escape(spec.product)}* · severity "
        f"*{escape(spec.severity)}* · fingerprint `{escape(spec.fingerprint)}`"
    ))
    return {"text": escape(text)[:TEXT_LIMIT], "blocks": blocks}


def followup_message(verb: str, ref: TicketRef, text: str) -> dict[str, Any]:
    """An update, RESOLVED or FIRING again message about an alert posted before.

    The rule and title come from the ref `create` returned when the engine kept its
    `extra`; otherwise the fingerprint alone identifies the alert.
    """
    title = ref.extra.get("title") or f"alert {ref.key}"
    rule = ref.extra.get("rule")
    origin = f"rule {rule} · fingerprint {ref.key}" if rule else f"fingerprint {ref.key}"
    body = "\n".join(part for part in (f"{verb}: {title}", text.strip(), origin) if part)
    blocks: list[dict[str, Any]] = [_header(f"{verb}: {title}")]
    if text.strip():
        blocks.append(_section(escape(text.strip())))
    blocks.append(_context(escape(origin)))
    return {"text": escape(body)[:TEXT_LIMIT], "blocks": blocks}


def escape(text: str) -> str:
    """Slack's three control characters, escaped as its docs ask: text from sources stays
    text (a run name cannot become a link or an @channel mention)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": _cut(text, HEADER_LIMIT)}}


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(mrkdwn, SECTION_LIMIT)}}


def _context(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn}]}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
