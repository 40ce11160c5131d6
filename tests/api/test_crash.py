"""Crashes: `kaseru serve` killed with SIGKILL at random moments while it issues a 66-lot
development in one request, 20 times. After each restart the development is wholly issued
or not at all, the audit chain verifies, and a retry with the same Idempotency-Key
completes it (or replays the first answer)."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter

import httpx
import msgspec
import pytest
from sqlalchemy import func
from sqlmodel import select

from registry import access, audit
from registry.actors import Role
from registry.models import Certificate, House
from tests import factories as f
from tests.server import Server, environment

pytestmark = pytest.mark.usefixtures("parties")

LOTS = 66
KILLS = 20


def _lots(count: int) -> list[dict]:
    return [
        json.loads(msgspec.json.encode(f.certificate(house=f.house(lot=f"{n:02d}"))))
        for n in range(1, count + 1)
    ]


def _issued(db, development: str) -> int:
    with db.reading() as session:
        return session.exec(
            select(func.count())
            .select_from(Certificate)
            .join(House, House.id == Certificate.house_id)
            .where(House.development == development)
        ).one()


def test_killed_during_bulk_issuance_all_or_nothing_then_the_retry_completes(db, maker, tmp_path):
    with db.transaction() as session:
        key = access.create_api_key(session, f.ADMIN, Role.BUILDER, f.BUILDER)[1]
    headers = {"authorization": f"Bearer {key}"}
    body = {"certificates": _lots(LOTS)}
    server = Server(environment(maker.settings), tmp_path / "server.log").start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            started = time.monotonic()
            warm = client.post("/api/v1/developments/WARM/certificates", json=body, headers=headers)
            assert warm.status_code == 201, warm.text
            took = time.monotonic() - started
        chance = random.Random(66)
        seen: Counter[str] = Counter()
        for attempt in range(KILLS):
            name, idempotency = f"D{attempt:02d}", f"bulk-{attempt}"
            answers: list[object] = []

            def post(name=name, idempotency=idempotency, answers=answers) -> None:
                try:
                    with httpx.Client(base_url=server.url, timeout=60) as client:
                        answers.append(
                            client.post(
                                f"/api/v1/developments/{name}/certificates",
                                json=body,
                                headers={**headers, "idempotency-key": idempotency},
                            ).status_code
                        )
                except httpx.HTTPError as error:  # the server died under it
                    answers.append(type(error).__name__)

            request = threading.Thread(target=post)
            request.start()
            time.sleep(chance.uniform(0, took * 1.3))
            server.kill()
            request.join(60)
            server.start()
            issued = _issued(db, name)
            assert issued in (0, LOTS), (attempt, issued)
            seen["whole" if issued else "none"] += 1
            seen["answered" if answers and answers[0] == 201 else "cut off"] += 1
            with db.reading() as session:
                chain = audit.verify(session)
            assert chain.intact, (attempt, chain.reason)
            with httpx.Client(base_url=server.url, timeout=60) as client:
                retry = client.post(
                    f"/api/v1/developments/{name}/certificates",
                    json=body,
                    headers={**headers, "idempotency-key": idempotency},
                )
            assert retry.status_code == 201, retry.text
            assert len(set(retry.json()["certificates"])) == LOTS
            assert _issued(db, name) == LOTS
        # Both outcomes happened: the kills fell before and after commits.
        print(f"\n{KILLS} kills: {dict(seen)}")
        assert seen["whole"] + seen["none"] == KILLS
        assert seen["none"] > 0
    finally:
        server.stop()
    with db.reading() as session:
        assert audit.verify(session).intact
    assert _issued(db, "WARM") == LOTS
