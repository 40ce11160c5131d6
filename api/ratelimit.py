"""Per-client rate limiting for the public routes: at most `limit` requests in any 60
seconds per client address, kept in the worker's memory.

A sliding window, counted in one-second slots: each client has a ring of 60 counts, and a
request is refused while the last 60 slots (this second included) hold `limit`. A fixed
window let a client send twice the limit across a minute's boundary; this one never lets
more than `limit` through in any 60 one-second slots. A ring is 60 small integers, so an
attacker with many addresses costs memory in proportion to addresses, not to requests;
rings silent for a minute are dropped once there are many.

Litestar's RateLimitMiddleware did the same job but cost a third of the verification
page's throughput (bench/verify.py: 1,047/s with it, 1,543/s without); this one is a dict
lookup and a few integer operations. Each worker counts on its own, so with N workers a
client may get up to N × the limit when its connections spread over them.

The client is the direct peer, unless the peer is a trusted reverse proxy
(KASERU_TRUSTED_PROXIES): then it is the right-most address in X-Forwarded-For that is not
itself a trusted proxy. Without that setting, every client behind a proxy shares the
proxy's address, and one client's flood locks all of them out (docs/proxies.md).

The clock is a parameter (monotonic seconds) so that tests move time instead of waiting
for it.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SLOTS = 60  # one-second slots in the window
# Past this many clients in memory, those silent for a whole window are forgotten.
PRUNE_AT = 10_000


class Ring:
    """One client's requests in each of the last SLOTS seconds."""

    __slots__ = ("counts", "second", "total")

    def __init__(self, second: int) -> None:
        self.counts = [0] * SLOTS
        self.second = second  # the newest slot's second
        self.total = 0

    def advance(self, second: int) -> None:
        """Move the window to end at `second`, emptying the slots that fell out of it."""
        if second - self.second >= SLOTS:
            self.counts = [0] * SLOTS
            self.total = 0
        else:
            for passed in range(self.second + 1, second + 1):
                slot = passed % SLOTS
                self.total -= self.counts[slot]
                self.counts[slot] = 0
        self.second = max(self.second, second)

    def wait(self, limit: int) -> int:
        """Whole seconds until one more request fits under `limit`."""
        left = self.total
        for ahead in range(1, SLOTS + 1):
            left -= self.counts[(self.second + ahead) % SLOTS]
            if left < limit:
                return ahead
        return SLOTS


def networks(spec: Iterable[str]) -> tuple[Network, ...]:
    """Parse addresses or CIDR blocks (KASERU_TRUSTED_PROXIES)."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())


def client_address(scope: Scope, trusted: tuple[Network, ...]) -> str:
    """The address a request comes from: the direct peer, or, when the peer is a trusted
    proxy, the right-most X-Forwarded-For address that is not a trusted proxy (addresses
    to its left were written by the client itself and prove nothing)."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    if not trusted or not _within(peer, trusted):
        return str(peer)
    forwarded: list[str] = [
        value.decode("latin-1")
        for name, value in scope.get("headers", ())
        if name == b"x-forwarded-for"
    ]
    hops = [hop.strip() for line in forwarded for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop
    return str(peer)


def _within(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


class RateLimit:
    """ASGI middleware: at most `limit` requests in any 60 seconds per client address."""

    def __init__(
        self,
        app: Any,
        limit: int,
        exempt: tuple[str, ...] = ("/healthz",),
        clock: Callable[[], float] = time.monotonic,
        trusted: tuple[Network, ...] = (),
    ) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt
        self.clock = clock
        self.trusted = trusted
        self.rings: dict[str, Ring] = {}

    def _ring(self, client: str, second: int) -> Ring:
        ring = self.rings.get(client)
        if ring is None:
            if len(self.rings) >= PRUNE_AT:
                self.rings = {k: r for k, r in self.rings.items() if second - r.second < SLOTS}
            ring = self.rings[client] = Ring(second)
        ring.advance(second)
        return ring

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        ring = self._ring(client_address(scope, self.trusted), int(self.clock()))
        if ring.total >= self.limit:
            retry = str(ring.wait(self.limit))
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
        ring.counts[ring.second % SLOTS] += 1
        ring.total += 1
        await self.app(scope, receive, send)
