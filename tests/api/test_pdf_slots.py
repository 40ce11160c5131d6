"""PDF verification is bounded (api/pdfslots.py): a worker verifies at most
KASERU_PDF_VERIFICATIONS uploads at once and answers each within KASERU_PDF_VERIFY_SECONDS.
A real `kaseru serve` is stopped inside a verification by a failpoint, standing for a PDF
that never finishes; the server must still answer, 503 with Retry-After, at once."""

from __future__ import annotations

import dataclasses
import threading

import httpx
import pytest

from registry.errors import InvalidInput
from registry.settings import Settings
from tests.failpoints import Failpoint
from tests.server import Server, environment


def _upload(client: httpx.Client) -> httpx.Response:
    return client.post("/api/v1/verify/pdf", files={"data": ("c.pdf", b"%PDF-1.7\n%%EOF\n")})


def test_a_verification_that_never_ends_holds_its_slot_and_is_answered(maker, tmp_path):
    failpoint = Failpoint(tmp_path, "verify_pdf.started")
    values = environment(dataclasses.replace(maker.settings, rate_limit=0))
    values.update(
        failpoint.environment, KASERU_PDF_VERIFICATIONS="1", KASERU_PDF_VERIFY_SECONDS="2"
    )
    server = Server(values, tmp_path / "server.log").start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            first: list[httpx.Response] = []
            stuck = threading.Thread(target=lambda: first.append(_upload(client)))
            stuck.start()
            assert failpoint.wait(server.process)  # the first PDF is being "verified"
            busy = _upload(client)
            stuck.join(60)
            after = _upload(client)  # its thread still runs: the slot is still taken
            health = client.get("/healthz")
    finally:
        server.kill()
        failpoint.close()
    assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
    assert busy.headers["content-type"] == "application/problem+json"
    assert busy.json()["detail"] == "every PDF verification slot is busy; try again shortly"
    assert [r.status_code for r in first] == [503]
    assert first[0].json()["detail"] == "the PDF was not verified within 2 s"
    assert after.status_code == 503 and "busy" in after.json()["detail"]
    assert health.status_code == 200


def test_the_verification_bounds_are_checked():
    parsed = Settings.from_env({"KASERU_PDF_VERIFICATIONS": "4", "KASERU_PDF_VERIFY_SECONDS": "9"})
    assert (parsed.pdf_verifications, parsed.pdf_verify_seconds) == (4, 9)
    for name in ("KASERU_PDF_VERIFICATIONS", "KASERU_PDF_VERIFY_SECONDS"):
        with pytest.raises(InvalidInput) as refused:
            Settings.from_env({name: "0"})
        assert (refused.value.field, refused.value.reason) == (name, "must be 1 or more, got 0")
