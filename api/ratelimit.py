"""Per-client rate limiting for the public routes: a one-minute window per client address,
opened by the client's first request in it, kept in the worker's memory.

Litestar's RateLimitMiddleware did the same job but cost a third of the verification
page's throughput (bench/verify.py: 1,047/s with it, 1,543/s without); this one is a dict
lookup. Each worker counts on its own, so with N workers a client may get up to N × the
limit when its connections spread over them.

The clock is a parameter (monotonic seconds) so that tests move time instead of waiting
for it, and so that a client's count never depends on where its requests fall against
the wall clock's minutes.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]

WINDOW = 60.0
# Past this many clients in memory, the ones whose window has closed are forgotten.
PRUNE_AT = 10_000


class RateLimit:
    """ASGI middleware: at most `limit` requests a minute per client address."""

    def __init__(
        self,
        app: Any,
        limit: int,
        exempt: tuple[str, ...] = ("/healthz",),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt
        self.clock = clock
        # client address → [the window's start, requests in it]
        self.windows: dict[str, list[float]] = {}

    def _count(self, client: str, now: float) -> tuple[int, float]:
        """This request's number in the client's window, and the window's start."""
        window = self.windows.get(client)
        if window is None or now - window[0] >= WINDOW:
            if len(self.windows) >= PRUNE_AT:
                self.windows = {k: w for k, w in self.windows.items() if now - w[0] < WINDOW}
            window = self.windows[client] = [now, 0]
        window[1] += 1
        return int(window[1]), window[0]

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        now = self.clock()
        client = (scope.get("client") or ("unknown", 0))[0]
        count, start = self._count(client, now)
        if count > self.limit:
            retry = str(max(1, math.ceil(start + WINDOW - now)))
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
