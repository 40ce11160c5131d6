"""Crashes: `kaseru serve` killed with SIGKILL while it issues a 66-lot development in one
request, 6 times, each at a failpoint: part-way through the lots, just before the commit,
or just after it. After each restart the development is wholly issued
or not at all, the audit chain verifies, and a retry with the same Idempotency-Key
completes it (or replays the first answer)."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter

import httpx
import msgspec
import pytest
from sqlalchemy import func
from sqlmodel import select

from registry import access, audit
from registry.actors import Role
from registry.models import Certificate, Development, House
from tests import factories as f
from tests.failpoints import Failpoint
from tests.server import Server, environment

pytestmark = pytest.mark.usefixtures("parties")

LOTS = 66


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
            .join(Development, Development.id == House.development_id)
            .where(Development.name == development)
        ).one()


# Where the kills fall (signing/failpoints.py): part-way through the lots (at a lot drawn
# from a seeded random), just before the commit, and just after it (before the answer);
# each kind twice. A failpoint stops the server exactly there, so a kind's outcome is the
# same every time: more rounds of one kind would add minutes, not cases.
POINTS = ["development.lot", "development.commit", "development.committed"] * 2


def test_killed_during_bulk_issuance_all_or_nothing_then_the_retry_completes(db, maker, tmp_path):
    with db.transaction() as session:
        key = access.create_api_key(session, f.ADMIN, Role.BUILDER, f.BUILDER)[1]
    headers = {"authorization": f"Bearer {key}"}
    body = {"certificates": _lots(LOTS)}
    base = environment(maker.settings)
    server = Server(base, tmp_path / "server.log")
    chance = random.Random(66)
    seen: Counter[str] = Counter()
    try:
        for attempt, point in enumerate(POINTS):
            name, idempotency = f"D{attempt:02d}", f"bulk-{attempt}"
            nth = chance.randint(1, LOTS) if point == "development.lot" else 1
            failpoint = Failpoint(tmp_path, point, nth)
            server.environment = {**base, **failpoint.environment}
            server.start()
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
            assert failpoint.wait(server.process), (attempt, point, nth)
            server.kill()
            failpoint.close()
            request.join(60)
            assert answers and answers[0] != 201, (attempt, answers)  # killed before answering
            issued = _issued(db, name)
            # All or nothing: what was committed before the kill is the whole development.
            assert issued == (LOTS if point == "development.committed" else 0), (attempt, point)
            seen[point] += 1
            with db.reading() as session:
                chain = audit.verify(session)
            assert chain.intact, (attempt, chain.reason)
            server.environment = base
            server.start()
            with httpx.Client(base_url=server.url, timeout=60) as client:
                retry = client.post(
                    f"/api/v1/developments/{name}/certificates",
                    json=body,
                    headers={**headers, "idempotency-key": idempotency},
                )
            server.stop()
            assert retry.status_code == 201, retry.text
            assert len(set(retry.json()["certificates"])) == LOTS
            assert _issued(db, name) == LOTS
        print(f"\n{len(POINTS)} kills: {dict(seen)}")
    finally:
        server.stop()
    with db.reading() as session:
        assert audit.verify(session).intact
