"""A recording HTTP server on 127.0.0.1 for the sink tests: routes, faults, stalls.

The tracker fakes (`fake_jira.py`, `fake_github.py`, `fake_webhook.py`) subclass it with
their documented endpoints. Each request is recorded (method, path, query, headers, parsed
JSON body) before anything else, so tests assert what dspo sent even when the fake answered
with an injected failure. The server is real (ThreadingHTTPServer in a thread), so the sinks'
client libraries (jira/requests, PyGithub, httpx) run their whole HTTP path.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

JSON = "application/json"


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, the raw text when not JSON, None when empty


@dataclass
class Reply:
    status: int
    body: Any = None  # dict/list → JSON; str → text; None → empty
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON


Handler = Callable[[Recorded, re.Match[str]], Reply]


def free_port() -> int:
    """A port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeServer:
    """Start with `with Fake() as fake:`; `fake.url` is its root, `fake.requests` the log."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: list[Reply] = []
        self._stall = 0.0
        self._drip = 0.0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Serve `method` on paths fully matching the regex `pattern`."""
        self._routes.append((method, re.compile(pattern), handler))

    def fail_next(self, status: int, body: Any = None, *, times: int = 1,
                  headers: dict[str, str] | None = None) -> None:
        """Answer the next `times` requests with this status, whatever they ask."""
        self._faults.extend(Reply(status, body, headers or {}) for _ in range(times))

    def stall(self, seconds: float) -> None:
        """Hold every later request this long before answering (a hung server)."""
        self._stall = seconds

    def drip(self, seconds_per_byte: float) -> None:
        """Send every later answer's body one byte at a time, this far apart: each read
        gets bytes well within any read timeout, yet the answer takes minutes."""
        self._drip = seconds_per_byte

    def dripping(self) -> float:
        return self._drip

    def stopping(self) -> threading.Event:
        return self._stopping

    def sent(self, method: str, pattern: str) -> list[Recorded]:
        """The recorded requests of `method` whose path fully matches `pattern`."""
        rx = re.compile(pattern)
        return [r for r in self.requests if r.method == method and rx.fullmatch(r.path)]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------ dispatch

    def authorized(self, request: Recorded) -> bool:
        """Subclasses check the Authorization header; the base server lets all in."""
        return True

    def unauthorized(self) -> Reply:
        return Reply(401, {"message": "unauthorized"})

    def handle(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            fault = self._faults.pop(0) if self._faults else None
        if self._stall:
            self._stopping.wait(self._stall)
        if fault is not None:
            return fault
        if not self.authorized(request):
            return self.unauthorized()
        for method, pattern, handler in self._routes:
            if method == request.method and (match := pattern.fullmatch(request.path)):
                with self._lock:
                    return handler(request, match)
        return Reply(404, {"message": f"no route for {request.method} {request.path}"})


def _handler_class(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            text = raw.decode("utf-8")
            try:
                body: Any = json.loads(text) if text else None
            except ValueError:
                body = text
            parts = urlsplit(self.path)
            request = Recorded(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            reply = fake.handle(request)
            if reply.body is None:
                payload = b""
            elif isinstance(reply.body, str):
                payload = reply.body.encode()
            else:
                payload = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            if payload:
                self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            gap = fake.dripping()
            if not gap:
                self.wfile.write(payload)
                return
            for i in range(len(payload)):
                if fake.stopping().wait(gap):
                    return
                try:
                    self.wfile.write(payload[i:i + 1])
                    self.wfile.flush()
                except OSError:  # the client gave up: what a deadline is for
                    return

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return _Handler
