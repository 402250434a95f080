"""A fake Slack incoming webhook on 127.0.0.1 that records the messages posted to it.

Shapes from https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks/ :
POST application/json with `text` and/or `blocks` to /services/T…/B…/<secret>; the answer
is 200 with the plain-text body "ok", and errors are plain-text codes (400 invalid_payload,
403 invalid_token, 404 no_service, 410 channel_is_archived, 500 rollup_error; 429 with
Retry-After when rate limited:
https://docs.slack.dev/apis/web-api/rate-limits/ ).
"""

from __future__ import annotations

import re
from typing import Any

from fake_http import FakeServer, Recorded, Reply

SECRET_PATH = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"


def text_reply(status: int, body: str, **headers: str) -> Reply:
    return Reply(status, body, headers=headers, content_type="text/html")


class FakeSlackWebhook(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict[str, Any]] = []
        self.route("POST", re.escape(SECRET_PATH), self.post)

    @property
    def webhook_url(self) -> str:
        return self.url + SECRET_PATH

    def post(self, request: Recorded, match: re.Match[str]) -> Reply:
        body = request.body
        if not request.headers.get("content-type", "").startswith("application/json"):
            return text_reply(400, "invalid_payload")
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return text_reply(400, "invalid_payload")
        self.messages.append(body)
        return text_reply(200, "ok")

    def handle(self, request: Recorded) -> Reply:
        reply = super().handle(request)
        if reply.status == 404 and reply.content_type != "text/html":
            return text_reply(404, "no_service")  # Slack's answer to an unknown hook
        return reply
