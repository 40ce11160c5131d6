"""Bounds on PDF verification (`POST /api/v1/verify/pdf`): an uploaded PDF is untrusted
input that pyHanko parses, so a worker verifies at most `slots` at once and answers within
`seconds`.

A slot is held by the thread doing the work until that thread ends, also when its request
has already been answered 503 for taking too long: the bound is on CPU spent, not on
requests waiting. When every slot is busy the request is answered 503 at once, with
Retry-After, rather than queued behind a document that may never finish. pyHanko 0.38's
own limits on decompression and object counts bound what one document can cost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import anyio
from litestar import Response

from api.problems import problem
from signing import failpoints


class PdfSlots:
    """At most `slots` verifications running in this worker, each answered within
    `seconds` (KASERU_PDF_VERIFICATIONS, KASERU_PDF_VERIFY_SECONDS)."""

    def __init__(self, slots: int, seconds: float) -> None:
        self.free = threading.BoundedSemaphore(slots)
        self.seconds = seconds

    async def run(self, check: Callable[[bytes], dict[str, Any]], content: bytes) -> Any:
        """`check(content)` in a thread, or a 503 problem when busy or too slow."""
        if not self.free.acquire(blocking=False):
            return _unavailable("every PDF verification slot is busy; try again shortly")

        def work() -> dict[str, Any]:
            try:
                failpoints.reached("verify_pdf.started")
                return check(content)
            finally:
                self.free.release()

        try:
            with anyio.fail_after(self.seconds):
                return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except TimeoutError:
            return _unavailable(f"the PDF was not verified within {self.seconds:g} s")


def _unavailable(detail: str) -> Response[dict[str, Any]]:
    answer = problem(503, detail)
    answer.headers["Retry-After"] = "5"
    return answer
