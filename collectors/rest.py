"""JSON over HTTP for sources without a client library of their own (httpx).

Every answer is read as a stream and the run's deadline is checked between chunks, so a
source that drips one byte a second cannot hold a run past its deadline (a read timeout
alone would never fire). Timeouts come from the source's settings, capped at what remains
of the deadline; failures go through `Collector.call`, which retries what is worth it and
names the source in what it raises. Secrets travel in headers or auth and are never part
of a URL, so no error message or httpx log line carries one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from collectors.base import Collector

MAX_BODY = 64 * 1024 * 1024  # a JSON page larger than this is a misconfiguration, not data


class HttpStatusError(Exception):
    """An answer with a 4xx/5xx status; `failure_of` reads status and headers from it."""

    def __init__(self, status: int, reason: str, headers: httpx.Headers, snippet: str) -> None:
        super().__init__(f"HTTP {status} {reason}: {snippet}")
        self.status_code = status
        self.reason = reason
        self.headers = headers


class RestClient:
    """One source's HTTP client: base URL, auth, timeouts, deadline-bounded reads."""

    def __init__(
        self,
        collector: Collector,  # type: ignore[type-arg]
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
    ) -> None:
        settings = collector.settings
        self.collector = collector
        self._connect = settings.connect_timeout.total_seconds()
        self._read = settings.read_timeout.total_seconds()
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"Accept": "application/json", "User-Agent": "dspo", **(headers or {})},
            auth=auth,
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET `path` (relative to the base URL) and parse its JSON, with retries."""
        return self.request_json("GET", path, params=params)

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> Any:
        doing = f"{method} {self._shown(path)}"
        return self.collector.call(lambda: self._once(method, path, params, json_body, doing),
                                   doing)

    def _once(
        self, method: str, path: str, params: Mapping[str, Any] | None, json_body: Any,
        doing: str,
    ) -> Any:
        deadline = self.collector.deadline
        timeout = httpx.Timeout(
            connect=deadline.cap(self._connect), read=deadline.cap(self._read),
            write=deadline.cap(self._read), pool=deadline.cap(self._connect),
        )
        request = self._client.build_request(
            method, path.lstrip("/"), params=params, json=json_body, timeout=timeout
        )
        response = self._client.send(request, stream=True)
        try:
            body = self._read_body(response, doing)
        finally:
            response.close()
        if response.status_code >= 400:
            raise HttpStatusError(response.status_code, response.reason_phrase,
                                  response.headers, _snippet(body))
        if not body.strip():
            return None
        try:
            return json.loads(body)
        except ValueError:
            raise self.collector.fail(
                f"{doing}: answered {response.status_code} with a body that is not JSON "
                f"(starts {_snippet(body)!r})"
            ) from None

    def _read_body(self, response: httpx.Response, doing: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            self.collector.deadline.check(f"reading {doing}")
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY:
                raise self.collector.fail(f"{doing}: answer larger than {MAX_BODY} bytes")
        return b"".join(chunks)

    def _shown(self, path: str) -> str:
        return str(self._client.base_url.join(path.lstrip("/")))


def _snippet(body: bytes) -> str:
    return body[:120].decode("utf-8", "replace").replace("\n", " ").strip()
