"""A database that cannot answer (down, deadlocked, locked out) is a 503 with Retry-After,
not a 500: nothing was written, and the same request may succeed in a moment."""

from __future__ import annotations

from litestar.testing import TestClient

from api.app import create_app
from registry.settings import Settings
from tests.mailbox import free_port


def test_an_unreachable_database_answers_503_and_retry_after(tmp_path):
    nobody = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    with TestClient(create_app(Settings(home=tmp_path, database_url=nobody))) as client:
        answers = [
            client.get("/api/v1/certificates", headers={"authorization": "Bearer ksr_a_b"}),
            client.get("/api/v1/certificates/A0020000012015000001", params={"code": "AAAA-AAAA"}),
            client.post("/api/v1/endorsements", json={}),
        ]
        health = client.get("/healthz")
    assert [a.status_code for a in answers[:2]] == [503, 503]
    for answer in answers[:2]:
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.headers["retry-after"] == "1"
        assert "busy or unreachable" in answer.json()["detail"]
    assert answers[2].status_code == 400  # a bad body is still the client's to fix
    assert health.status_code == 200
