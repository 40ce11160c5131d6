"""Per-client rate limiting for the public routes: a fixed one-minute window per client
address, kept in the worker's memory.

Litestar's RateLimitMiddleware did the same job but cost a third of the verification
page's throughput (bench/verify.py: 1,047/s with it, 1,543/s without); this one is a dict
lookup. Each worker counts on its own, so with N workers a client may get up to N × the
limit when its connections spread over them.
"""

from __future__ import annotations

import json
import time
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]


class RateLimit:
    """ASGI middleware: at most `limit` requests a minute per client address."""

    def __init__(self, app: Any, limit: int, exempt: tuple[str, ...] = ("/healthz",)) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt
        self.window = 0
        self.counts: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        window = int(time.monotonic() // 60)
        if window != self.window:
            self.window, self.counts = window, {}
        client = (scope.get("client") or ("unknown", 0))[0]
        count = self.counts.get(client, 0) + 1
        self.counts[client] = count
        if count > self.limit:
            retry = str(60 - int(time.monotonic() % 60))
            body = json.dumps(
                {
                    "type": "about:blank",
                    "title": "Too many requests",
                    "status": 429,
                    "detail": f"more than {self.limit} requests a minute; try again in {retry} s",
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"retry-after", retry.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
