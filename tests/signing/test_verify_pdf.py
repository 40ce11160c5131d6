"""`kaseru verify pdf` and `kaseru verify qr`: offline, with the public keys only."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from api.cli import main
from registry import documents
from signing.keyring import Keyring
from signing.pki import PkiFiles, create_development_pki
from tests import factories as f
from tests import pdf as look

pytestmark = pytest.mark.usefixtures("parties")


def _run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _certificate(db, maker, number):
    with db.transaction() as session:
        return documents.certificate_pdf(session, f.STAFF, maker, number)[0]


@pytest.fixture
def paths(tmp_path, pki, keyring_file):
    return ["--keys", str(keyring_file), "--root", str(pki.root)]


def test_genuine_certificate_is_valid(db, settings, maker, paths, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KASERU_TODAY", "2026-11-23")
    number = f.issue(db, settings)
    target = tmp_path / "c.pdf"
    target.write_bytes(_certificate(db, maker, number))
    code, out, _ = _run(capsys, "verify", "pdf", str(target), *paths, "--json")
    answer = json.loads(out)
    assert code == 0
    assert (answer["valid"], answer["status"], answer["number"]) == (True, "valid", number)
    assert answer["payload"].startswith(f"{settings.public_url}/v/")
    code, out, _ = _run(capsys, "verify", "qr", answer["payload"], "--keys", paths[1], "--json")
    assert code == 0 and json.loads(out)["issue_number"] == answer["issue_number"]


def test_tampered_pdf_is_invalid(db, settings, maker, paths, tmp_path, capsys):
    number = f.issue(db, settings)
    pdf = bytearray(_certificate(db, maker, number))
    pdf[len(pdf) // 3] ^= 0x04
    target = tmp_path / "t.pdf"
    target.write_bytes(bytes(pdf))
    code, out, _ = _run(capsys, "verify", "pdf", str(target), *paths, "--json")
    assert code == 1 and json.loads(out)["valid"] is False


def test_qr_of_another_certificate_is_caught(db, settings, maker, paths, tmp_path, capsys):
    first = f.issue(db, settings)
    second = f.issue(db, settings, house=f.house(lot="02"))
    with db.reading() as session:
        from registry.services.certificates import active_issue, find_certificate

        a = find_certificate(session, f.STAFF, first)
        b = find_certificate(session, f.STAFF, second)
        data = documents.certificate_data(session, maker, a, active_issue(session, a))
        data.update(maker.verification(b, active_issue(session, b)))  # B's QR on A's page
    forged = tmp_path / "swapped.pdf"
    forged.write_bytes(maker.make("certificate", data))
    code, out, _ = _run(capsys, "verify", "pdf", str(forged), *paths, "--json")
    answer = json.loads(out)
    assert code == 1
    assert answer["status"] == "invalid" and "but the page prints" in answer["reason"]


def test_pdf_signed_under_another_root_is_invalid(db, settings, maker, paths, tmp_path, capsys):
    number = f.issue(db, settings)
    other = PkiFiles.in_folder(tmp_path / "other")
    create_development_pki(other)
    from signing.pdf import DocumentSigner

    with db.reading() as session:
        from registry.services.certificates import active_issue, find_certificate

        c = find_certificate(session, f.STAFF, number)
        data = documents.certificate_data(session, maker, c, active_issue(session, c))
    target = tmp_path / "other.pdf"
    target.write_bytes(DocumentSigner(other).sign(maker.renderer.render("certificate", data)))
    assert "Signature is Valid" in look.poppler("pdfsig", target.read_bytes())  # genuine crypto
    code, out, _ = _run(capsys, "verify", "pdf", str(target), *paths, "--json")
    assert code == 1 and "did not issue" in json.loads(out)["reason"]


def test_compromised_key_is_reported(db, settings, maker, tmp_path, capsys, pki):
    ring = Keyring.create(tmp_path / "ring", dt.date(2015, 1, 1))
    from dataclasses import replace

    own = documents.DocumentMaker(replace(maker.settings, keyring=Keyring.path(ring.folder)))
    number = f.issue(db, settings)
    target = tmp_path / "c.pdf"
    with db.transaction() as session:
        target.write_bytes(documents.certificate_pdf(session, f.STAFF, own, number)[0])
    ring.compromise(ring.active()[0].kid)
    code, out, _ = _run(
        capsys,
        "verify",
        "pdf",
        str(target),
        "--keys",
        str(Keyring.path(ring.folder)),
        "--root",
        str(pki.root),
        "--json",
    )
    answer = json.loads(out)
    assert code == 1 and answer["key"] == "compromised"


def test_verify_qr_reads_lines_from_standard_input(
    db, settings, maker, tmp_path, capsys, monkeypatch, keyring_file
):
    number = f.issue(db, settings)
    target = tmp_path / "c.pdf"
    target.write_bytes(_certificate(db, maker, number))
    main(
        [
            "verify",
            "pdf",
            str(target),
            "--keys",
            str(keyring_file),
            "--root",
            str(maker.signer.files.root),
            "--json",
        ]
    )
    payload = json.loads(capsys.readouterr().out)["payload"]
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{payload}\n\nnot a payload\n{payload[:-3]}\n"))
    code = main(["verify", "qr", "-", "--keys", str(keyring_file)])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert [line["valid"] for line in lines] == [True, False, False]
    assert all({"valid", "status", "number", "issue_number", "reason"} <= set(x) for x in lines)


def test_missing_key_set_is_one_line(tmp_path, capsys):
    code, out, err = _run(capsys, "verify", "qr", "X", "--keys", str(tmp_path / "none.json"))
    assert code == 1 and out == "" and err.startswith("kaseru: error: no key set at")
