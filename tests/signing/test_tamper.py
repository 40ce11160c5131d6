"""Tampered certificate PDFs are refused: one-byte changes anywhere (the signature's
/Contents string included), incremental updates after signing, a QR code swapped.

The seeded sample of bench/tamper.py (which measures 2,000 one-byte changes and reports
detected/total by region); the mutations are that bench's own functions."""

from __future__ import annotations

import io
import random
from dataclasses import replace

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from bench.tamper import (
    Registry,
    change_byte,
    container_end,
    contents_span,
    page_reads,
    region,
    reprint,
    reprint_qr,
)
from signing.pdf import load_cert_from_pemder_bytes


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Registry:
    """Keys, a renderer and a signer for this module (bench/tamper.py's)."""
    return Registry(tmp_path_factory.mktemp("tamper"))


@pytest.fixture(scope="module")
def originals(registry) -> list[bytes]:
    """Two genuine certificates (different numbers, owners and floors), both valid."""
    pdfs = [registry.certificate(registry.claims(n)) for n in (0, 1)]
    assert [registry.verify(pdf).valid for pdf in pdfs] == [True, True]
    return pdfs


def test_one_byte_changes_anywhere_are_refused(originals, registry):
    """150 bytes at uniform offsets over the whole file, each replaced by another byte."""
    rng = random.Random(20261123)
    accepted, regions = [], set()
    for index in range(150):
        original = originals[index % 2]
        mutant, offset = change_byte(original, rng)
        regions.add(region(original, offset))
        if registry.verify(mutant).valid:
            accepted.append((index % 2, offset, region(original, offset)))
    assert accepted == []
    assert "before" in regions


def test_one_byte_changes_in_the_signature_string_are_refused(originals, registry):
    """60 bytes at uniform offsets inside /Contents: the container and its zero padding,
    which the signature cannot cover."""
    rng = random.Random(7)
    accepted, regions = [], set()
    for index in range(60):
        original = originals[index % 2]
        start, end = contents_span(original)
        mutant, offset = change_byte(original, rng, start, end)
        regions.add(region(original, offset))
        if registry.verify(mutant).valid:
            accepted.append((index % 2, offset - start, region(original, offset)))
    assert accepted == []
    assert regions == {"container", "padding"}


# ---- alterations of /Contents that pyHanko alone accepts (each was accepted before
# signing.pdf.container_problem) ------------------------------------------------------------


def _container(pdf: bytes) -> tuple[int, cms.ContentInfo, bytes]:
    """The offset of the container's first hex digit, the container and its DER."""
    start = contents_span(pdf)[0] + 1
    raw = bytes.fromhex(pdf[start : container_end(pdf)].decode())
    return start, cms.ContentInfo.load(raw), raw


def _hex_digit(pdf: bytes, offset: int, digit: bytes) -> bytes:
    assert pdf[offset : offset + 1] != digit
    return pdf[:offset] + digit + pdf[offset + 1 :]


def _byte(pdf: bytes, index: int, value: int) -> bytes:
    """Byte `index` of the container set to `value` (only one hex digit may differ)."""
    start, _, raw = _container(pdf)
    old, new = f"{raw[index]:02X}".encode(), f"{value:02X}".encode()
    assert (old[0] == new[0]) != (old[1] == new[1]), "one hex digit only"
    offset = start + 2 * index + (old[0] == new[0])
    return _hex_digit(pdf, offset, new[old[0] == new[0] :][:1])


def _padding_digit(pdf: bytes) -> bytes:
    return _hex_digit(pdf, contents_span(pdf)[1] - 2, b"7")


def _padding_space(pdf: bytes) -> bytes:
    return _hex_digit(pdf, (container_end(pdf) + contents_span(pdf)[1]) // 2, b" ")


def _lower_case(pdf: bytes) -> bytes:
    start = contents_span(pdf)[0] + 1
    offset = next(i for i in range(start, container_end(pdf)) if pdf[i] in b"ABCDEF")
    return _hex_digit(pdf, offset, pdf[offset : offset + 1].lower())


def _bundled_root(pdf: bytes) -> bytes:
    """The last byte of the bundled root certificate (its self-signature): validation
    uses the trusted root, not this copy."""
    _, info, raw = _container(pdf)
    (root,) = [
        c.dump() for c in info["content"]["certificates"] if c.chosen.subject == c.chosen.issuer
    ]
    index = raw.index(root) + len(root) - 1
    return _byte(pdf, index, raw[index] ^ 0x01)


def _digest_list(pdf: bytes) -> bytes:
    """SignedData's digestAlgorithms says SHA-384 (the signer info says SHA-256)."""
    _, info, raw = _container(pdf)
    index = raw.index(info["content"]["digest_algorithms"].dump()) + 14
    assert raw[index] == 0x01  # the last arc of 2.16.840.1.101.3.4.2.1
    return _byte(pdf, index, 0x02)


def _set_tag(pdf: bytes) -> bytes:
    """digestAlgorithms' SET tag 0x31 made 0x39 (read leniently, never used)."""
    _, info, raw = _container(pdf)
    return _byte(pdf, raw.index(info["content"]["digest_algorithms"].dump()), 0x39)


def _longer_container(pdf: bytes) -> bytes:
    """The outer SEQUENCE's length grown by 256 bytes, into the zero padding."""
    _, _, raw = _container(pdf)
    assert raw[1] == 0x82 and raw[2] & 0x0F != 0x0F
    return _byte(pdf, 2, raw[2] + 1)


ALTERATIONS = {
    "a padding digit": _padding_digit,
    "a padding digit made a space": _padding_space,
    "a hex digit in lower case": _lower_case,
    "the bundled root certificate": _bundled_root,
    "the digest algorithm list": _digest_list,
    "a SET tag": _set_tag,
    "the container's length": _longer_container,
}


def _pyhanko_alone(pdf: bytes, root_pem: bytes) -> bool:
    """What pyHanko's validation says, without signing.pdf's checks of the container."""
    signature = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[-1]
    context = ValidationContext(trust_roots=[load_cert_from_pemder_bytes(root_pem)])
    status = validate_pdf_signature(signature, context)
    coverage = signature.coverage
    return bool(status.intact and status.valid and status.trusted) and (
        coverage is not None and coverage.name == "ENTIRE_FILE"
    )


@pytest.mark.parametrize("alteration", ALTERATIONS)
def test_alterations_of_the_signature_string_that_pyhanko_ignores_are_refused(
    originals, registry, alteration
):
    mutant = ALTERATIONS[alteration](originals[0])
    assert len(mutant) == len(originals[0])
    assert sum(a != b for a, b in zip(mutant, originals[0], strict=True)) == 1
    assert _pyhanko_alone(mutant, registry.root)  # the hard kind: pyHanko alone says valid
    verdict = registry.verify(mutant)
    assert (verdict.valid, verdict.status) == (False, "invalid")
    assert "signature" in verdict.reason


# ---- updates after signing and swapped QR codes ----------------------------------------


def test_incremental_updates_that_change_the_page_are_refused(originals, registry):
    a, b = registry.claims(0), registry.claims(1)
    floor = reprint(originals[0], f"{a.floor:,}", "95,000")
    owner = reprint(originals[0], registry.owner(a), "Hanako Forger")
    swapped = reprint_qr(originals[0], registry.qr_content(b))
    # Real changes: a reader that ignores the signature sees them.
    assert "95,000" in page_reads(floor)[0]
    assert "Hanako Forger" in page_reads(owner)[0]
    assert page_reads(swapped)[1] == ["".join(registry.qr_content(b))]
    for mutant in (floor, owner, swapped, originals[0] + b"\n% appended after signing\n"):
        verdict = registry.verify(mutant)
        assert (verdict.valid, verdict.reason) == (
            False,
            "the signature does not cover the whole file",
        )


def test_qr_of_another_issue_on_a_genuinely_signed_page_is_refused(registry):
    """Signed with the registry's real key: the page of a certificate's second issue (the
    buyer's) with the QR payload of its first (the seller's), and certificate 0's page
    with certificate 1's QR payload."""
    first, other = registry.claims(2), registry.claims(3)
    second = replace(registry.claims(2, issue=2), floor=first.floor)
    for page, qr in ((second, first), (first, other)):
        verdict = registry.verify(registry.certificate(page, qr_of=qr))
        assert (verdict.valid, verdict.status) == (False, "invalid")
        assert (
            f"names {qr.number} / issue {qr.issue_number}, but the page prints {page.number}"
            in verdict.reason
        )


def test_the_command_line_refuses_an_updated_pdf_in_one_line(originals, registry, tmp_path):
    # pyHanko logs a traceback for the suspicious update; the command line shows its own
    # one-line verdict only.
    import subprocess
    import sys
    from pathlib import Path

    a = registry.claims(0)
    path = tmp_path / "updated.pdf"
    path.write_bytes(reprint(originals[0], f"{a.floor:,}", "95,000"))
    kaseru = Path(sys.executable).with_name("kaseru")
    command = [str(kaseru), "verify", "pdf", str(path), "--keys", str(registry.keyring_path)]
    done = subprocess.run(
        [*command, "--root", str(registry.pki.root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) <= 1, done.stderr
    assert "signature does not cover the whole file" in done.stdout + done.stderr
