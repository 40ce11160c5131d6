"""The public verification page and API, over HTTP (Litestar's test client)."""

from __future__ import annotations

import datetime as dt
import io
import json
import zlib
from dataclasses import replace

import pytest
from litestar.testing import TestClient

from api.app import create_app
from registry import documents, services, verification
from registry.models import Issue
from tests import factories as f

pytestmark = pytest.mark.usefixtures("parties")


@pytest.fixture
def app_settings(maker):
    return maker.settings


@pytest.fixture
def client(app_settings):
    with TestClient(create_app(app_settings)) as test_client:
        yield test_client


def _payload(db, maker, number):
    with db.reading() as session:
        from registry.services.certificates import active_issue, find_certificate

        certificate = find_certificate(session, f.STAFF, number)
        return maker.payload(certificate, active_issue(session, certificate))


JSON = {"accept": "application/json"}


def test_valid_payload_answers_json_and_html(db, settings, maker, client):
    number = f.issue(db, settings)
    text = _payload(db, maker, number)
    answer = client.get(f"/v/{text}", headers=JSON).json()
    assert (answer["status"], answer["valid"], answer["number"]) == ("valid", True, number)
    assert answer["owner"] == "山本 ＊＊"
    assert answer["standing"] == "overdue" and answer["overdue_since"] == "2025-10-16"
    assert answer["next_inspection"] == "2025-10-16" and answer["last_inspection"] is None
    page = client.get(f"/v/{text}")
    assert page.headers["content-type"].startswith("text/html")
    assert "有効" in page.text and number in page.text and "山本 ＊＊" in page.text


def test_typed_name_unmasks_only_when_it_matches(db, settings, maker, client):
    number = f.issue(db, settings)
    text = _payload(db, maker, number)
    right = client.post(f"/v/{text}", data={"name": "山本　一郎"}, headers=JSON).json()
    wrong = client.post(f"/v/{text}", data={"name": "山本 次郎"}, headers=JSON).json()
    assert (right["owner"], right["name_matches"]) == ("山本 一郎", True)
    assert (wrong["owner"], wrong["name_matches"]) == ("山本 ＊＊", False)


def test_a_name_in_the_url_is_never_checked(db, settings, maker, client):
    """Found by the review: /v/{payload}?name= checked the owner's name from the query
    string, so typed names went into URLs, browser history and server logs."""
    number = f.issue(db, settings)
    text = _payload(db, maker, number)
    answer = client.get(f"/v/{text}", params={"name": "山本 一郎"}, headers=JSON).json()
    assert (answer["owner"], answer["name_matches"]) == ("山本 ＊＊", None)
    page = client.get(f"/v/{text}", params={"name": "山本 一郎"})
    assert '<form method="post"' in page.text and "（山本 ＊＊）" in page.text


def test_name_checks_have_a_daily_budget_per_issue(db, settings, maker, app_settings):
    """Found by the review: the name check had no budget, so anyone holding a QR code
    could try names without end. Every check counts, matching or not, from any address."""
    number = f.issue(db, settings)
    other = f.issue(db, settings, house=f.house(lot="02"))
    text, other_text = _payload(db, maker, number), _payload(db, maker, other)
    budget = replace(app_settings, name_checks_per_day=3)
    with TestClient(create_app(budget)) as client:
        tries = [
            client.post(f"/v/{text}", data={"name": n}, headers=JSON).json()["name_matches"]
            for n in ("佐藤 一郎", "鈴木 一郎", "山本 一郎")
        ]
        spent = client.post(f"/v/{text}", data={"name": "山本 一郎"}, headers=JSON)
        page = client.post(f"/v/{text}", data={"name": "山本 一郎"})
        untouched = client.post(f"/v/{other_text}", data={"name": "山本 一郎"}, headers=JSON)
        still = client.get(f"/v/{text}", headers=JSON)  # the page itself still verifies
    assert tries == [False, False, True]
    assert spent.status_code == 429 and spent.json()["detail"] == verification.NAME_CHECKS_SPENT
    assert page.status_code == 429 and 'data-result="spent"' in page.text
    assert "（山本 ＊＊）" in page.text and "（山本 一郎）" not in page.text
    assert untouched.json()["name_matches"] is True
    assert still.status_code == 200 and still.json()["status"] == "valid"
    tomorrow = replace(budget, today=settings.current_date() + dt.timedelta(days=1))
    with TestClient(create_app(tomorrow)) as client:
        again = client.post(f"/v/{text}", data={"name": "山本 一郎"}, headers=JSON)
    assert again.json()["name_matches"] is True


def test_typed_name_matches_across_width_and_spacing_but_not_kana(db, settings, maker, client):
    """A name is compared after NFKC with every space removed (signing/payload.py): the
    width of Latin letters, digits and katakana, and the kind of space, do not matter;
    hiragana for katakana, a letter's case or a missing sound mark do."""
    number = f.issue(db, settings, owner_name="ヤマグチ ＡＢＣ１")
    text = _payload(db, maker, number)
    typed = {
        "ﾔﾏｸﾞﾁ ABC1": True,
        "ヤマグチ\u3000ＡＢＣ１": True,
        "ヤマグチABC1": True,
        "やまぐち ABC1": False,
        "ヤマグチ abc1": False,
        "ﾔﾏｸﾁ ABC1": False,
    }
    answers = {
        name: client.post(f"/v/{text}", data={"name": name}, headers=JSON).json() for name in typed
    }
    assert {name: a["name_matches"] for name, a in answers.items()} == typed
    for name, matches in typed.items():
        assert (answers[name]["owner"] == "ヤマグチ ＡＢＣ１") is matches


def test_superseded_copy_says_so_without_names(db, settings, maker, client):
    number = f.issue(db, settings)
    old = _payload(db, maker, number)
    with db.transaction() as session:
        request = services.request_endorsement(session, f.STAFF, settings, f.endorsement(number))
    with db.transaction() as session:
        services.approve_endorsement(
            session, f.STAFF, settings, request.tracking_number, decided_on=dt.date(2025, 8, 1)
        )
    answer = client.get(f"/v/{old}", headers=JSON).json()
    assert answer["status"] == "superseded" and not answer["valid"]
    assert (answer["owner_sequence"], answer["current_owner_sequence"]) == (1, 2)
    assert answer["superseded_on"] == "2025-08-01"
    assert "所有者1" in answer["message"] and "所有者2" in answer["message"]
    assert answer["owner"] is None
    assert "森" not in json.dumps(answer, ensure_ascii=False)
    assert "山本" not in json.dumps(answer, ensure_ascii=False)


def test_revoked_says_why(db, settings, maker, client):
    number = f.issue(db, settings)
    text = _payload(db, maker, number)
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, number, "虚偽の申請")
    answer = client.get(f"/v/{text}", headers=JSON).json()
    assert (answer["status"], answer["reason"]) == ("revoked", "虚偽の申請")


def test_forged_and_garbage_payloads_are_invalid(db, settings, maker, client):
    number = f.issue(db, settings)
    text = _payload(db, maker, number)
    forged = text[:40] + ("A" if text[40] != "A" else "B") + text[41:]
    for bad in (forged, "NOTAPAYLOAD", text[:-10]):
        answer = client.get(f"/v/{bad}", headers=JSON).json()
        assert answer["status"] == "invalid" and answer["reason"]
        assert client.get(f"/v/{bad}").status_code == 200


def test_manual_entry_with_the_printed_code(db, settings, maker, client):
    number = f.issue(db, settings)
    with db.reading() as session:
        issue = session.exec(__import__("sqlmodel").select(Issue)).one()
    code = verification.verification_code(settings.code_secret, number, issue.number)
    answer = client.get(f"/api/v1/certificates/{number}", params={"code": code.lower()}).json()
    assert (answer["status"], answer["issue_number"]) == ("valid", issue.number)
    wrong = client.get(f"/api/v1/certificates/{number}", params={"code": "AAAA-AAAA"})
    unknown = client.get("/api/v1/certificates/A0020000012015999999", params={"code": code})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.headers["content-type"].startswith("application/problem+json")


def test_uploaded_pdf_is_checked(db, settings, maker, client):
    number = f.issue(db, settings)
    with db.transaction() as session:
        pdf, _ = documents.certificate_pdf(session, f.STAFF, maker, number)
    answer = client.post("/api/v1/verify/pdf", files={"data": ("c.pdf", io.BytesIO(pdf))}).json()
    assert (answer["status"], answer["number"]) == ("valid", number)
    tampered = bytearray(pdf)
    tampered[len(pdf) // 2] ^= 1
    answer = client.post(
        "/api/v1/verify/pdf", files={"data": ("c.pdf", io.BytesIO(bytes(tampered)))}
    ).json()
    assert answer["status"] == "invalid"


def test_oversized_upload_is_refused(client):
    big = io.BytesIO(b"%PDF-" + b"0" * (10 * 1024 * 1024 + 10))
    response = client.post("/api/v1/verify/pdf", files={"data": ("big.pdf", big)})
    assert response.status_code == 413


def _xref_bomb(expands_to: int) -> bytes:
    """A PDF of a few hundred bytes whose cross-reference stream, deflated twice, decodes
    to `expands_to` bytes: its entries, then zeros. Stacking filters is how a small upload
    asks a reader for far more memory than its own size."""
    body = b"%PDF-1.7\n"
    catalog = len(body)
    body += b"1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n"
    pages = len(body)
    body += b"2 0 obj\n<</Type/Pages/Kids[]/Count 0>>\nendobj\n"
    xref = len(body)
    rows = [(0, 0, 65535), (1, catalog, 0), (1, pages, 0), (1, xref, 0)]
    entries = b"".join(bytes([t]) + o.to_bytes(4, "big") + g.to_bytes(2, "big") for t, o, g in rows)
    once = zlib.compressobj(9)
    inner = once.compress(entries)
    for _ in range((expands_to - len(entries)) // 2**20):  # a MiB at a time: little memory
        inner += once.compress(bytes(2**20))
    twice = zlib.compress(inner + once.flush(), 9)
    body += (
        b"3 0 obj\n<</Type/XRef/Size 4/W[1 4 2]/Root 1 0 R/Filter[/FlateDecode/FlateDecode]"
        b"/Length %d>>\nstream\n" % len(twice)
    )
    return body + twice + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref


def test_a_decompression_bomb_is_refused_unread(client):
    """Found by the review: pyproject allowed pyHanko 0.25, which decodes whatever an
    upload's filters ask for; 0.38 bounds each stream's expansion (pyproject: >=0.38).
    The same file without the bomb is read, and found unsigned, so the refusal is the
    limit's and not a broken file's."""
    plain = client.post("/api/v1/verify/pdf", files={"data": ("p.pdf", _xref_bomb(0))})
    bomb = _xref_bomb(64 * 2**20)
    assert len(bomb) < 2000
    refused = client.post("/api/v1/verify/pdf", files={"data": ("b.pdf", bomb)})
    assert plain.status_code == refused.status_code == 200  # a verdict, not an error
    assert (plain.json()["status"], plain.json()["reason"]) == (
        "invalid",
        "the document is not signed",
    )
    assert (refused.json()["status"], refused.json()["reason"]) == (
        "invalid",
        "not a readable signed PDF (PdfDecodeLimitError)",
    )


def test_public_keys_are_published(client, maker):
    keys = client.get("/api/v1/keys").json()["keys"]
    assert [k["kid"] for k in keys] == list(maker.keyring.keys)


class Clock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_applies_per_client(db, settings, maker, app_settings):
    limited, clock = replace(app_settings, rate_limit=5), Clock()
    with TestClient(create_app(limited, clock=clock)) as client:
        codes = [client.get("/api/v1/keys").status_code for _ in range(5)]
        clock.now += 59.5  # still the window the first request opened
        refused = [client.get("/api/v1/keys") for _ in range(2)]
        with TestClient(create_app(limited, clock=clock)) as elsewhere:
            other = elsewhere.get("/api/v1/keys")
        clock.now += 0.5  # a minute after the window opened: a new one
        again = [client.get("/api/v1/keys").status_code for _ in range(6)]
        clock.now += 30.2
        last = client.get("/api/v1/keys")
    assert codes == [200] * 5
    assert [r.status_code for r in refused] == [429, 429]
    assert refused[0].headers["retry-after"] == "1"  # 0.5 s left, rounded up
    assert refused[0].headers["content-type"] == "application/problem+json"
    assert "more than 5 requests a minute" in refused[0].json()["detail"]
    assert other.status_code == 200  # another worker's count is its own
    assert again == [200] * 5 + [429]
    assert (last.status_code, last.headers["retry-after"]) == (429, "30")  # 29.8 s left


def test_rate_limit_is_a_sliding_window(app_settings):
    """No more than the limit in any 60 seconds: a fixed window let a client send its
    limit at 0:59 and again at 1:00."""
    limited, clock = replace(app_settings, rate_limit=5), Clock()
    clock.now = 1059.9  # the last moment of a clock minute
    with TestClient(create_app(limited, clock=clock)) as client:
        first = [client.get("/api/v1/keys").status_code for _ in range(5)]
        clock.now = 1060.1  # a new clock minute, 0.2 s later
        across = client.get("/api/v1/keys")
        clock.now = 1118.9  # 59 s after the burst's second: still inside the window
        inside = client.get("/api/v1/keys")
        clock.now = 1119.0  # the burst's second has left the window
        later = [client.get("/api/v1/keys").status_code for _ in range(6)]
    assert first == [200] * 5
    assert (across.status_code, across.headers["retry-after"]) == (429, "59")
    assert (inside.status_code, inside.headers["retry-after"]) == (429, "1")
    assert later == [200] * 5 + [429]


def _scope(peer: str, *forwarded: str) -> dict:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "path": "/v/x", "client": (peer, 4000), "headers": headers}


def test_forwarded_addresses_are_believed_only_from_trusted_proxies():
    from api.ratelimit import client_address, networks

    proxies = networks(["127.0.0.1", "10.1.0.0/16"])
    # No proxy trusted: the peer, whatever the header says.
    assert client_address(_scope("203.0.113.7", "198.51.100.1"), ()) == "203.0.113.7"
    # A peer that is not a trusted proxy cannot name another client.
    assert client_address(_scope("203.0.113.7", "198.51.100.1"), proxies) == "203.0.113.7"
    # From a trusted proxy: the address it saw.
    assert client_address(_scope("127.0.0.1", "198.51.100.1"), proxies) == "198.51.100.1"
    # A client's own X-Forwarded-For is kept by the proxy at the left, and ignored.
    spoofed = _scope("127.0.0.1", "192.0.2.99, 198.51.100.1")
    assert client_address(spoofed, proxies) == "198.51.100.1"
    # Through two trusted proxies, over two header lines.
    chained = _scope("127.0.0.1", "192.0.2.99", "198.51.100.1, 10.1.2.3")
    assert client_address(chained, proxies) == "198.51.100.1"
    # Nothing but proxies and junk: the peer.
    assert client_address(_scope("127.0.0.1", "10.1.2.3"), proxies) == "127.0.0.1"
    assert client_address(_scope("127.0.0.1", "not-an-address"), proxies) == "not-an-address"
    assert client_address(_scope("127.0.0.1"), proxies) == "127.0.0.1"


def test_trusted_proxies_setting_is_checked():
    from registry.errors import InvalidInput
    from registry.settings import Settings

    parsed = Settings.from_env({"KASERU_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    assert parsed.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    with pytest.raises(InvalidInput) as refused:
        Settings.from_env({"KASERU_TRUSTED_PROXIES": "127.0.0.1,proxy.local"})
    assert refused.value.field == "KASERU_TRUSTED_PROXIES"
    assert "'proxy.local'" in refused.value.reason


def test_rate_limit_counts_each_client_address_apart():
    import anyio

    from api.ratelimit import RateLimit

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    clock = Clock()
    limit = RateLimit(app, limit=2, clock=clock)

    async def status(address: str, path: str = "/v/x") -> int:
        sent: list[dict] = []

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "path": path, "client": (address, 4000)}
        await limit(scope, None, send)
        return sent[0]["status"]

    async def run() -> list[int]:
        first = [await status("192.0.2.1") for _ in range(3)]
        second = [await status("192.0.2.2") for _ in range(2)]
        health = [await status("192.0.2.1", "/healthz") for _ in range(3)]
        return first + second + health

    assert anyio.run(run) == [200, 200, 429, 200, 200, 200, 200, 200]


def test_mask():
    assert verification.mask("山本 一郎") == "山本 ＊＊"
    assert verification.mask("山本　一郎") == "山本 ＊＊"
    assert verification.mask("山本一郎") == "山＊＊"
