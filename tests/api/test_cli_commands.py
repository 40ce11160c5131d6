"""The README's commands that had no test of their own: `keys`, `apikey revoke`,
`reminders list`, and the success paths of `certificates list --development/--as-of`,
`certificates revoke --by`, `render certificate --issue` and `render guarantee
--market-rent`. Each runs in-process through the real entry point `main`, against the test
database, and is judged by what it changed or printed."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from select import select as readable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from granian.server import Server as GranianServer
from granian.server import common as granian_common
from litestar.testing import TestClient
from sqlmodel import select

from api.app import create_app
from api.cli import main
from registry import services
from registry.models import ApiKey, AuditEvent, Certificate, Inspection, Issue
from registry.settings import Settings
from signing import payload
from signing.keyring import Keyring
from tests import factories as f
from tests import pdf as look
from tests.mailbox import free_port


def run(capsys, *args: str) -> tuple[int, str, str]:
    """`kaseru ARGS`: its exit code, standard output and standard error."""
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def cli(settings, maker, monkeypatch):
    """The environment `kaseru` reads its settings from: the test's home and day, and the
    session's signing keys (so that render commands sign without making keys)."""
    monkeypatch.setenv("KASERU_HOME", str(settings.home))
    monkeypatch.setenv("KASERU_TODAY", settings.current_date().isoformat())
    monkeypatch.setenv("KASERU_SIGNING_KEY", str(maker.settings.signing_key))
    monkeypatch.setenv("KASERU_SIGNING_CERT", str(maker.settings.signing_cert))
    monkeypatch.setenv("KASERU_ROOT_CERT", str(maker.settings.root_cert))
    monkeypatch.setenv("KASERU_KEYRING", str(maker.settings.keyring))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return settings.database_url


# ---- keys ----


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty KASERU_HOME of its own (the keys commands write there), today 2026-11-23."""
    folder = tmp_path / "keyhome"
    monkeypatch.setenv("KASERU_HOME", str(folder))
    monkeypatch.setenv("KASERU_TODAY", "2026-11-23")
    for name in ("KASERU_SIGNING_KEY", "KASERU_SIGNING_CERT", "KASERU_ROOT_CERT", "KASERU_KEYRING"):
        monkeypatch.delenv(name, raising=False)
    return folder


def _sign(ring_path: Path, kid: str, signed_on: dt.date) -> str:
    """A QR payload signed by key `kid` of the ring on `signed_on` (as the registry would
    have on that day)."""
    private = serialization.load_pem_private_key(
        (ring_path.parent / f"qr-{kid}.pem").read_bytes(), password=None
    )
    assert isinstance(private, Ed25519PrivateKey)
    claims = payload.Claims(
        number="A0020000012015000001",
        issue_number="0000000001",
        owner_sequence=1,
        kind="fixed_floor",
        floor=45_000,
        valid_from=dt.date(2015, 10, 16),
        valid_until=dt.date(2065, 10, 16),
        issued_on=dt.date(2015, 10, 30),
        signed_on=signed_on,
        owner_hash=payload.owner_hash(b"0" * 16, "山本 一郎"),
    )
    return payload.sign(claims, bytes.fromhex(kid), private)


def _verify(capsys, text: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, "verify", "qr", text, "--json")
    return code, json.loads(out)


def test_keys_init_writes_the_pki_and_the_qr_key_set_once(home, capsys):
    code, out, err = run(capsys, "keys", "init")
    assert (code, err) == (0, "")
    keys = home / "keys"
    written = {p.name for p in keys.iterdir()}
    assert {"keyring.json", "root-cert.pem"} <= written
    ring = Keyring.load(keys / "keyring.json")
    [only] = ring.keys.values()
    assert (only.status, only.not_before) == ("active", "2026-11-23")
    assert (keys / f"qr-{only.kid}.pem").stat().st_mode & 0o077 == 0  # owner only
    assert f"(key {only.kid})" in out
    before = {p.name: p.read_bytes() for p in keys.iterdir()}
    # Again: nothing is replaced (a new root would orphan every signed document).
    code, out, _ = run(capsys, "keys", "init")
    assert code == 0
    assert "exist already" in out and "QR keys exist already" in out
    assert {p.name: p.read_bytes() for p in keys.iterdir()} == before


def test_keys_list_prints_the_public_set_without_private_keys(home, capsys):
    code, _, err = run(capsys, "keys", "list", "--json")
    assert code == 1 and "kaseru keys init" in err  # no key set yet
    run(capsys, "keys", "init")
    code, out, _ = run(capsys, "keys", "list", "--json")
    assert code == 0
    listed = json.loads(out)
    kid = next(iter(Keyring.load(home / "keys" / "keyring.json").keys))
    assert [(k["kid"], k["status"], k["not_before"]) for k in listed["keys"]] == [
        (kid, "active", "2026-11-23")
    ]
    assert listed == json.loads((home / "keys" / "keyring.json").read_text())
    assert "PRIVATE" not in out
    code, table, _ = run(capsys, "keys", "list")
    assert code == 0 and kid in table and "active" in table


def test_keys_rotate_retires_the_old_key_which_still_verifies(home, capsys, monkeypatch):
    run(capsys, "keys", "init")
    ring_path = home / "keys" / "keyring.json"
    old = next(iter(Keyring.load(ring_path).keys))
    signed = _sign(ring_path, old, dt.date(2026, 11, 23))
    monkeypatch.setenv("KASERU_TODAY", "2027-04-01")
    code, out, _ = run(capsys, "keys", "rotate")
    assert code == 0
    ring = Keyring.load(ring_path)
    [new] = [k for k in ring.keys if k != old]
    assert out.strip() == f"key {new} in service from 2027-04-01"
    assert (ring.keys[old].status, ring.keys[old].not_after) == ("retired", "2027-04-01")
    assert (ring.keys[new].status, ring.keys[new].not_before) == ("active", "2027-04-01")
    assert ring.active()[0].kid == new  # its private key was written too
    code, verdict = _verify(capsys, signed)
    assert (code, verdict["valid"], verdict["kid"]) == (0, True, old)
    code, out, _ = run(capsys, "keys", "list", "--json")
    assert [k["status"] for k in json.loads(out)["keys"]] == ["retired", "active"]


def test_keys_compromise_since_a_day_refuses_what_the_key_signed_from_then(
    home, capsys, monkeypatch
):
    run(capsys, "keys", "init")
    ring_path = home / "keys" / "keyring.json"
    kid = next(iter(Keyring.load(ring_path).keys))
    early = _sign(ring_path, kid, dt.date(2026, 11, 23))
    late = _sign(ring_path, kid, dt.date(2027, 2, 1))
    monkeypatch.setenv("KASERU_TODAY", "2027-03-01")
    assert _verify(capsys, late)[1]["valid"] is True
    code, out, _ = run(capsys, "keys", "rotate")
    code, out, err = run(capsys, "keys", "compromise", kid, "--since", "2027-01-15")
    assert (code, err) == (0, "")
    assert out.strip() == f"key {kid} marked compromised since 2027-01-15"
    key = Keyring.load(ring_path).keys[kid]
    assert (key.status, key.compromised_since) == ("compromised", "2027-01-15")
    code, verdict = _verify(capsys, late)
    assert (code, verdict["valid"], verdict["key"]) == (1, False, "compromised")
    code, verdict = _verify(capsys, early)  # signed before the day: still good
    assert (code, verdict["valid"]) == (0, True)
    # Without --since, everything the key ever signed.
    code, _, _ = run(capsys, "keys", "compromise", kid)
    assert code == 0
    assert Keyring.load(ring_path).keys[kid].compromised_since == "2026-11-23"
    assert _verify(capsys, early)[0] == 1
    code, _, err = run(capsys, "keys", "compromise", "ffff")
    assert code == 1 and "no key 'ffff'" in err


def test_keys_compromise_of_the_key_in_service_ends_it_on_the_registrys_day(
    home, capsys, monkeypatch
):
    monkeypatch.setenv("KASERU_TODAY", "2026-11-23")
    run(capsys, "keys", "init")
    ring_path = home / "keys" / "keyring.json"
    kid = next(iter(Keyring.load(ring_path).keys))
    monkeypatch.setenv("KASERU_TODAY", "2040-05-01")  # not the machine's day
    code, _, err = run(capsys, "keys", "compromise", kid)
    assert (code, err) == (0, "")
    key = Keyring.load(ring_path).keys[kid]
    assert (key.status, key.not_after) == ("compromised", "2040-05-01")


# ---- apikey revoke ----


@pytest.mark.usefixtures("parties")
def test_apikey_revoke_refuses_the_key_from_then_on(db, settings, cli, capsys):
    code, out, _ = run(
        capsys,
        "apikey",
        "create",
        "--role",
        "builder",
        "--builder",
        f.BUILDER,
        "--json",
        "--db",
        cli,
    )
    assert code == 0
    made = json.loads(out)
    bearer = {"authorization": f"Bearer {made['key']}"}
    f.issue(db, settings)
    with contextlib.ExitStack() as stack:
        # Litestar points the root logger at the sys.stderr it finds when the app starts:
        # started under capsys, later tests' log lines would go to a closed stream.
        with capsys.disabled():
            client = stack.enter_context(TestClient(create_app(settings)))
        before = client.get("/api/v1/certificates", headers=bearer)
        assert before.status_code == 200 and before.json()["total"] == 1
        code, out, err = run(capsys, "apikey", "revoke", made["id"], "--db", cli)
        assert (code, out, err) == (0, f"revoked key {made['id']}\n", "")
        after = client.get("/api/v1/certificates", headers=bearer)
    assert after.status_code == 401
    with db.reading() as session:
        key = session.get(ApiKey, made["id"])
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "apikey.revoke")).one()
    assert key is not None and key.revoked_at is not None
    assert (event.actor, event.entity_key) == ("admin:cli", made["id"])
    code, out, err = run(capsys, "apikey", "revoke", "000000000000", "--db", cli)
    assert code == 1 and out == "" and "no API key 000000000000" in err


# ---- reminders list ----


@pytest.mark.usefixtures("parties")
def test_reminders_list_shows_what_was_sent_newest_first(db, settings, cli, capsys):
    numbers = [f.issue(db, settings, house=f.house(lot=f"{n:02d}")) for n in range(1, 4)]
    code, out, _ = run(capsys, "reminders", "list", "--json", "--db", cli)
    assert (code, json.loads(out)) == (0, {"total": 0, "items": []})
    code, out, err = run(
        capsys, "reminders", "run", "--as-of", "2025-11-01", "--send", "--json", "--db", cli
    )
    assert (code, err) == (0, "")
    sent = [json.loads(line) for line in out.splitlines()]
    assert sorted(r["number"] for r in sent) == numbers
    code, out, _ = run(capsys, "reminders", "list", "--json", "--db", cli)
    listed = json.loads(out)
    assert listed["total"] == 3
    assert [r["number"] for r in listed["items"]] == [r["number"] for r in reversed(sent)]
    for item in listed["items"]:
        assert (item["stage"], item["due_date"], item["state"], item["channel"]) == (
            "due",
            "2025-10-16",
            "sent",
            "letter",
        )
        assert (settings.home / "outbox" / item["letter"]).exists()
    code, out, _ = run(capsys, "reminders", "list", "--limit", "2", "--json", "--db", cli)
    limited = json.loads(out)
    assert limited["total"] == 3 and limited["items"] == listed["items"][:2]
    code, out, _ = run(capsys, "reminders", "list", "--db", cli)
    assert code == 0 and out.rstrip().endswith("3 reminders in all")
    assert all(number in out for number in numbers)
    code, _, err = run(capsys, "reminders", "list", "--limit", "0", "--db", cli)
    assert code == 2 and err.startswith("kaseru: error: ")


# ---- certificates list, revoke ----


def _listed(capsys, cli, *args: str) -> list[dict]:
    code, out, err = run(capsys, "certificates", "list", *args, "--json", "--db", cli)
    assert (code, err) == (0, "")
    return json.loads(out)


@pytest.mark.usefixtures("parties")
def test_certificates_list_by_development(db, settings, cli, capsys):
    garden = [f.issue(db, settings, house=f.house(lot=f"{n:02d}")) for n in (1, 2)]
    other = f.issue(db, settings, house=f.house(development="桑名ヒルズ", lot="07"))
    rows = _listed(capsys, cli, "--development", "テスト分譲地")
    assert [r["number"] for r in rows] == garden
    assert {(r["development"], r["lot"]) for r in rows} == {
        ("テスト分譲地", "01"),
        ("テスト分譲地", "02"),
    }
    assert [r["number"] for r in _listed(capsys, cli, "--development", "桑名ヒルズ")] == [other]
    assert _listed(capsys, cli, "--development", "どこにもない") == []
    code, out, _ = run(capsys, "certificates", "list", "--development", "桑名ヒルズ", "--db", cli)
    assert code == 0 and other in out and not any(n in out for n in garden)


@pytest.mark.usefixtures("parties")
def test_certificates_list_as_of_a_day(db, settings, cli, capsys):
    number = f.issue(db, settings)  # valid 2015-10-16 to 2065-10-16, inspection 2025-10-16
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, number, "虚偽申請")  # today
    today = _listed(capsys, cli)
    assert [(r["status"], r["standing"]) for r in today] == [("revoked", "overdue")]
    assert [
        (r["status"], r["standing"]) for r in _listed(capsys, cli, "--as-of", "2025-01-01")
    ] == [("active", "up_to_date")]
    assert [r["standing"] for r in _listed(capsys, cli, "--as-of", "2025-06-01")] == ["due"]
    assert [r["number"] for r in _listed(capsys, cli, "--status", "revoked")] == [number]
    assert _listed(capsys, cli, "--status", "active") == []


@pytest.mark.usefixtures("parties")
def test_certificates_list_status_filter_follows_as_of(db, settings, cli, capsys):
    number = f.issue(db, settings)
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, number, "虚偽申請")  # today
    # The day before the revocation the certificate was active, as its row says.
    rows = _listed(capsys, cli, "--as-of", "2026-11-22")
    assert [(r["number"], r["status"]) for r in rows] == [(number, "active")]
    assert _listed(capsys, cli, "--status", "revoked", "--as-of", "2026-11-22") == []
    assert [
        r["number"] for r in _listed(capsys, cli, "--status", "active", "--as-of", "2026-11-22")
    ] == [number]
    # From the day of the revocation on, it is revoked, in the filter as in the row.
    assert [r["number"] for r in _listed(capsys, cli, "--status", "revoked")] == [number]
    assert _listed(capsys, cli, "--status", "active") == []
    assert _listed(capsys, cli, "--status", "expired", "--as-of", "2070-01-01") == []


@pytest.mark.usefixtures("parties")
def test_certificates_list_as_of_after_the_last_day_is_expired(db, settings, cli, capsys):
    number = f.issue(db, settings)
    assert [r["status"] for r in _listed(capsys, cli, "--as-of", "2065-10-16")] == ["active"]
    rows = _listed(capsys, cli, "--status", "expired", "--as-of", "2065-10-17")
    assert [(r["number"], r["status"]) for r in rows] == [(number, "expired")]


@pytest.mark.usefixtures("parties")
def test_certificates_revoke_by_records_the_staff_members_name(db, settings, cli, capsys):
    number = f.issue(db, settings)
    code, out, err = run(
        capsys,
        "certificates",
        "revoke",
        number,
        "--reason",
        "虚偽の申請",
        "--by",
        "staff:佐藤",
        "--db",
        cli,
    )
    assert (code, out, err) == (0, f"revoked {number} on 2026-11-23\n", "")
    certificate = f.load(db, number)
    assert (certificate.revoked_on, certificate.revoke_reason) == (f.TODAY, "虚偽の申請")
    with db.reading() as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "certificate.revoke")
        ).one()
        issue = session.exec(select(Issue).where(Issue.certificate_id == certificate.id)).one()
    assert (event.actor, event.entity_key) == ("staff:佐藤", number)
    assert json.loads(event.after or "{}")["revoke_reason"] == "虚偽の申請"
    assert issue.status == "revoked"
    # Without --by, the default name stands on the record.
    second = f.issue(db, settings, house=f.house(lot="02"))
    assert run(capsys, "certificates", "revoke", second, "--reason", "重複", "--db", cli)[0] == 0
    with db.reading() as session:
        actors = session.exec(
            select(AuditEvent.actor).where(AuditEvent.action == "certificate.revoke")
        ).all()
    assert sorted(actors) == ["staff:cli", "staff:佐藤"]
    # Twice: refused, and the first revocation stands.
    code, _, err = run(
        capsys, "certificates", "revoke", number, "--reason", "x", "--by", "b", "--db", cli
    )
    assert code == 1 and "was revoked on 2026-11-23" in err
    assert f.load(db, number).revoke_reason == "虚偽の申請"


# ---- render ----


@pytest.mark.usefixtures("parties")
def test_render_certificate_of_a_superseded_issue(db, settings, cli, capsys, tmp_path):
    number = f.issue(db, settings)
    with db.transaction() as session:
        request = services.request_endorsement(session, f.STAFF, settings, f.endorsement(number))
    with db.transaction() as session:
        services.approve_endorsement(session, f.STAFF, settings, request.tracking_number)
    with db.reading() as session:
        certificate = session.exec(select(Certificate).where(Certificate.number == number)).one()
        issues = {
            i.number: i
            for i in session.exec(select(Issue).where(Issue.certificate_id == certificate.id))
        }
    assert {n: i.status for n, i in issues.items()} == {
        "0000000001": "superseded",
        "0000000002": "active",
    }
    old = tmp_path / "old.pdf"
    code, out, err = run(
        capsys,
        "render",
        "certificate",
        number,
        "--issue",
        "0000000001",
        "--out",
        str(old),
        "--db",
        cli,
    )
    assert (code, err) == (0, "")
    assert out.startswith(f"wrote {old}")
    text = look.text(old.read_bytes())
    assert "山本 一郎" in text and "0000000001" in text
    assert "森 陽介" not in text and "0000000002" not in text
    assert "Signature is Valid" in look.poppler("pdfsig", old.read_bytes())
    # The document is kept and its hash recorded on that issue, not on the active one.
    with db.reading() as session:
        recorded = {i.number: i.pdf_sha256 for i in session.exec(select(Issue))}
    assert recorded == {
        "0000000001": hashlib.sha256(old.read_bytes()).hexdigest(),
        "0000000002": None,
    }
    current = tmp_path / "current.pdf"
    run(capsys, "render", "certificate", number, "--out", str(current), "--db", cli)
    text = look.text(current.read_bytes())
    assert "森 陽介" in text and "0000000002" in text and "山本 一郎" not in text
    code, _, err = run(
        capsys, "render", "certificate", number, "--issue", "0000000009", "--db", cli
    )
    assert code == 1 and f"certificate {number} has no issue 0000000009" in err


@pytest.mark.usefixtures("parties")
def test_render_guarantee_prints_the_builders_market_rent(db, settings, cli, capsys, tmp_path):
    for lot in ("01", "02"):
        f.issue(db, settings, house=f.house(lot=lot))
    given = tmp_path / "given.pdf"
    code, out, err = run(
        capsys,
        "render",
        "guarantee",
        "テスト分譲地",
        "--market-rent",
        "123456",
        "--out",
        str(given),
        "--db",
        cli,
    )
    assert (code, err) == (0, "")
    assert out.startswith(f"wrote {given}")
    text = look.text(given.read_bytes())
    assert "事業者の査定値金123,456円" in text
    assert "想定値" not in text
    assert "Signature is Valid" in look.poppler("pdfsig", given.read_bytes())
    # Without it, the rule of thumb: the floor ÷ 0.4, said to be assumed.
    assumed = tmp_path / "assumed.pdf"
    run(capsys, "render", "guarantee", "テスト分譲地", "--out", str(assumed), "--db", cli)
    text = look.text(assumed.read_bytes())
    assert "想定値金112,500円" in text and "123,456" not in text
    code, _, err = run(
        capsys, "render", "guarantee", "テスト分譲地", "--market-rent", "-5", "--db", cli
    )
    assert code == 1 and err.startswith("kaseru: error: ") and err.count("\n") == 1


# ---- the rest of what the README shows: calc stress --fee, inspections record, serve ----


def test_calc_stress_with_another_fee(capsys):
    # 100,000 × (1 − 0.10) = 90,000 with no decline; × 0.99 after a year at −1 %: 89,100
    code, out, _ = run(
        capsys, "calc", "stress", "--rent", "100000", "--decline", "0", "--fee", "10"
    )
    assert (code, json.loads(out)) == (0, {"rent_after": 90_000, "decline": 0.0})
    args = ("--rent", "100000", "--decline", "-1", "--years", "1", "--fee", "10")
    assert json.loads(run(capsys, "calc", "stress", *args)[1])["rent_after"] == 89_100
    code, _, err = run(capsys, "calc", "stress", "--rent", "100000", "--decline", "0", "--fee", "x")
    assert code == 2 and err.startswith("kaseru: error: ")


@pytest.mark.usefixtures("parties")
def test_inspections_record_with_repairs_required(db, settings, cli, capsys):
    number = f.issue(db, settings)
    code, out, err = run(
        capsys,
        "inspections",
        "record",
        number,
        "--on",
        "2026-11-01",
        "--inspector",
        "検査員 大野",
        "--result",
        "repairs_required",
        "--findings",
        "外壁にひび割れ",
        "--repairs",
        "外壁補修",
        "--db",
        cli,
    )
    assert (code, err) == (0, "")
    assert out.startswith(f"recorded the inspection of {number} on 2026-11-01; standing ")
    with db.reading() as session:
        [inspection] = session.exec(select(Inspection)).all()
    assert (inspection.result, inspection.findings, inspection.repairs) == (
        "repairs_required",
        "外壁にひび割れ",
        "外壁補修",
    )
    assert inspection.inspector == "検査員 大野" and inspection.repairs_completed_on is None
    # Repairs required and none named: refused, nothing recorded.
    before = f.counts(db)
    code, out, err = run(
        capsys,
        "inspections",
        "record",
        number,
        "--on",
        "2026-11-02",
        "--inspector",
        "検査員 大野",
        "--result",
        "repairs_required",
        "--db",
        cli,
    )
    assert code == 1 and out == "" and "repairs" in err
    assert f.counts(db) == before


def test_serve_listens_on_the_host_it_is_given(settings, tmp_path):
    """`kaseru serve --host 127.0.0.2`: answers there, and not on 127.0.0.1 (the default)."""
    port = free_port()
    environment = {**os.environ, "KASERU_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("kaseru")),
            "serve",
            "--host",
            "127.0.0.2",
            "--port",
            str(port),
            "--workers",
            "1",
            "--db",
            settings.database_url,
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        bufsize=0,  # unbuffered, so that select sees every line that is not read yet
        start_new_session=True,
    )
    try:
        said = []
        deadline = time.monotonic() + 60
        while not any("Listening at" in line for line in said):
            assert server.stdout is not None
            ready, _, _ = readable([server.stdout], [], [], max(deadline - time.monotonic(), 0))
            line = server.stdout.readline().decode() if ready else ""
            assert line, f"kaseru serve said no more: {said}"
            said.append(line)
        assert any(f"http://127.0.0.2:{port}" in line for line in said)
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.2:{port}/healthz", timeout=5
                ) as answer:
                    assert json.loads(answer.read()) == {"status": "ok"}
                break
            except urllib.error.URLError:
                assert server.poll() is None and time.monotonic() < deadline
                # A poll: granian says when it listens, not when its worker accepts.
                time.sleep(0.05)
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # the server and its worker
        server.communicate(timeout=30)


# ---- one context per invocation: the settings read once, serve's --db not in the environment


def _count_settings_reads(monkeypatch) -> list[object]:
    """Make Settings.from_env note each call (its `env`) in the list returned."""
    calls: list[object] = []
    read = Settings.from_env.__func__

    def counted(cls, env=None):
        calls.append(env)
        return read(cls, env)

    monkeypatch.setattr(Settings, "from_env", classmethod(counted))
    return calls


def _serve_in_process(monkeypatch, capsys) -> dict[str, object]:
    """Make granian's Server run no worker process: where it would start its workers, the
    app is built as a worker builds it (the loader granian hands each worker, called in it)
    and kept with the environment as it was then."""
    seen: dict[str, object] = {}

    def workers(server, spawn_target, target_loader):
        seen["environment"] = dict(os.environ)
        # Litestar points the root logger at the sys.stderr it finds when the app is made:
        # made under capsys, later tests' log lines would go to a closed stream.
        with capsys.disabled():
            seen["app"] = target_loader()

    monkeypatch.setattr(GranianServer, "_serve", workers)
    # Nor does it name the process or configure logging (dictConfig would close pytest's
    # own log handlers), as it does for a real server.
    monkeypatch.setattr(granian_common, "setproctitle", None)
    monkeypatch.setattr(granian_common, "configure_logging", lambda *args: None)
    return seen


@pytest.mark.usefixtures("parties")
def test_serve_hands_its_db_to_the_workers_and_leaves_the_environment(
    db, settings, cli, capsys, monkeypatch, tmp_path
):
    """`kaseru serve --db X` while DATABASE_URL names another database: the workers'
    app serves X, and the environment still names the other one (serve used to write
    DATABASE_URL=X into it for the workers to read)."""
    number = f.issue(db, settings)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    monkeypatch.setenv("DATABASE_URL", other)
    code, out, _ = run(
        capsys, "apikey", "create", "--role", "staff", "--db", cli, "--name", "t", "--json"
    )
    assert code == 0
    key = json.loads(out)["key"]
    seen = _serve_in_process(monkeypatch, capsys)
    code, out, _ = run(capsys, "serve", "--db", cli, "--port", str(free_port()))
    assert code == 0 and out.startswith("serving on http://127.0.0.1:")
    assert os.environ["DATABASE_URL"] == other
    assert seen["environment"]["DATABASE_URL"] == other
    with TestClient(seen["app"]) as client:
        answer = client.get(
            f"/api/v1/certificates/{number}/record", headers={"Authorization": f"Bearer {key}"}
        )
    assert answer.status_code == 200 and answer.json()["number"] == number
    assert not (tmp_path / "other.db").exists()


@pytest.mark.usefixtures("parties")
def test_each_command_reads_the_settings_once(db, settings, cli, capsys, monkeypatch):
    """One invocation, one reading of the environment (the Context, api/cli/context.py),
    also for serve, whose workers take the settings it read (they used to read their own,
    and serve read them twice)."""
    number = f.issue(db, settings)
    calls = _count_settings_reads(monkeypatch)
    _serve_in_process(monkeypatch, capsys)
    commands = [
        ["init", "--db", cli],
        ["apikey", "create", "--role", "staff", "--db", cli],
        ["certificates", "list", "--db", cli],
        ["certificates", "show", number, "--db", cli],
        ["audit", "verify", "--db", cli],
        ["reminders", "list", "--db", cli],
        ["keys", "list"],
        ["calc", "payment-day", "--month", "2026-12"],
        ["render", "certificate", number, "--db", cli, "--out", str(settings.home / "c.pdf")],
        ["serve", "--db", cli, "--port", str(free_port())],
    ]
    for command in commands:
        calls.clear()
        code, _, err = run(capsys, *command)
        assert code == 0 and (err == "" or "development mode" in err), (command, err)
        assert len(calls) == 1, command
        # Read from the copy of the environment main took, with --db applied after.
        assert calls[0] is not os.environ and calls[0]["KASERU_HOME"] == str(settings.home)


@pytest.mark.usefixtures("parties")
def test_serve_workers_answer_from_its_db_not_database_urls(db, settings, tmp_path):
    """A real `kaseru serve --db X` with two workers, DATABASE_URL naming another database:
    every worker answers from X (a certificate and a key only X holds), and the other
    database is never made."""
    number = f.issue(db, settings)
    home = tmp_path / "home"
    kaseru = str(Path(sys.executable).with_name("kaseru"))
    environment = {
        **os.environ,
        "KASERU_HOME": str(home),
        "KASERU_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}",
    }
    made = subprocess.run(
        [kaseru, "apikey", "create", "--role", "staff", "--json", "--db", settings.database_url],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    bearer = {"Authorization": f"Bearer {json.loads(made.stdout)['key']}"}
    port = free_port()
    server = subprocess.Popen(
        [kaseru, "serve", "--port", str(port), "--workers", "2", "--db", settings.database_url],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except urllib.error.URLError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)  # a poll: granian says when it listens, not when it accepts
        # Several requests, each on a connection of its own, so both workers answer some.
        for _ in range(8):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/certificates/{number}/record", headers=bearer
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert json.loads(answer.read())["number"] == number
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # the server and its workers
        server.wait(timeout=30)
    assert not (tmp_path / "other.db").exists()
