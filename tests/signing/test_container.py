"""signing/pdf.py's checks of a signed document, each answer whole: `check` for a genuine,
an unsigned, an updated, an altered and a foreign-rooted PDF, and `container_problem` for
each field of the signature container that no signature covers, one at a time.

A changed container is made the way a forger would: the genuine CMS container re-encoded
with one field changed (asn1crypto) and written back into the /Contents string, upper-case
hex padded with zeros to its reserved size, so only the container differs. Written for
mutation testing (`make mutate`): test_tamper.py checks that such documents are refused;
these also check which reason is given."""

from __future__ import annotations

import io
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.misc import PdfStrictReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter

from bench.tamper import Registry, container_end, contents_span
from signing import pdf as S
from signing.pki import PkiFiles, create_development_pki

CHANGED = "the document changed after it was signed ("


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Registry:
    return Registry(tmp_path_factory.mktemp("container"))


@pytest.fixture(scope="module")
def genuine(registry) -> bytes:
    return registry.certificate(registry.claims(0))


@pytest.fixture(scope="module")
def signer(registry) -> str:
    """The signing certificate's subject, read from the PKI's own file."""
    pem = registry.pki.certificate.read_bytes()
    return S.load_cert_from_pemder_bytes(pem).subject.human_friendly


def _der(pdf: bytes) -> bytes:
    start = contents_span(pdf)[0]
    return bytes.fromhex(pdf[start + 1 : container_end(pdf)].decode())


def _splice(pdf: bytes, der: bytes) -> bytes:
    """`pdf` with `der` as its signature container: upper-case hex, zero padding."""
    start, end = contents_span(pdf)
    digits = der.hex().upper().encode()
    room = end - start - 2
    assert len(digits) <= room
    return pdf[: start + 1] + digits + b"0" * (room - len(digits)) + pdf[end - 1 :]


def _altered(pdf: bytes, change: Callable[[cms.ContentInfo], None]) -> bytes:
    info = cms.ContentInfo.load(_der(pdf))
    change(info)
    return _splice(pdf, info.dump(force=True))


@pytest.fixture(scope="module")
def problem(genuine) -> Callable[[bytes, list[bytes] | None], str]:
    """container_problem of a PDF laid out as the genuine one (the same byte range, so the
    genuine signature's reading serves: pyHanko refuses to read some altered containers,
    two signer infos for one)."""
    signature = PdfFileReader(io.BytesIO(genuine), strict=False).embedded_signatures[-1]

    def answer(pdf: bytes, chain: list[bytes] | None) -> str:
        assert len(pdf) == len(genuine)
        return S.container_problem(pdf, signature, chain)

    return answer


def _chain(pdf: bytes) -> list[bytes]:
    """The genuine container's certificates: the signing certificate and the root."""
    return [c.dump() for c in cms.ContentInfo.load(_der(pdf))["content"]["certificates"]]


# ---- check ------------------------------------------------------------------------------


def test_a_genuine_document(registry, genuine, signer):
    assert S.check(genuine, registry.root) == S.SignatureCheck(True, True, True, signer, "")
    assert "kaseru document signing" in signer


def test_the_container_written_back_unchanged_is_still_genuine(registry, genuine, signer, problem):
    same = _splice(genuine, _der(genuine))
    assert same == genuine
    assert problem(genuine, _chain(genuine)) == ""
    assert problem(genuine, None) == ""


def test_an_unsigned_document(registry):
    buffer = io.BytesIO()
    PdfFileWriter().write(buffer)
    assert S.check(buffer.getvalue(), registry.root) == S.SignatureCheck(
        False, False, False, "", "the document is not signed"
    )


def test_a_document_updated_after_signing(registry, genuine, signer):
    assert S.check(genuine + b"\n% added\n", registry.root) == S.SignatureCheck(
        False, True, False, signer, "the signature does not cover the whole file"
    )


def test_a_document_changed_where_the_signature_covers(registry, genuine, signer):
    changed = bytearray(genuine)
    changed[100] ^= 0x01
    assert S.check(bytes(changed), registry.root) == S.SignatureCheck(
        False, False, True, signer, "the document changed after it was signed"
    )


def test_a_moved_startxref_is_read_leniently_and_found_changed(registry, genuine, signer):
    """A strict reader refuses the file outright (PdfStrictReadError), and the bank would
    read "not a readable signed PDF"; read leniently, it is found for what it is: a signed
    document changed where the signature covers (the startxref line is covered)."""
    at = genuine.rindex(b"startxref")
    end = genuine.index(b"%%EOF", at)
    offset = int(genuine[at + len(b"startxref") : end])
    moved = genuine[:at] + b"startxref\n%d\n" % (offset + 3) + genuine[end:]
    with pytest.raises(PdfStrictReadError):
        _ = PdfFileReader(io.BytesIO(moved), strict=True).embedded_signatures
    assert S.check(moved, registry.root) == S.SignatureCheck(
        False, False, True, signer, "the document changed after it was signed"
    )


def test_a_signature_value_that_does_not_verify(registry, genuine, signer):
    """The ECDSA signature's last byte changed: the document's digest still matches."""

    def flip(info: cms.ContentInfo) -> None:
        signer_info = info["content"]["signer_infos"][0]
        value = bytearray(signer_info["signature"].native)
        value[-1] ^= 0x01
        signer_info["signature"] = bytes(value)

    assert S.check(_altered(genuine, flip), registry.root) == S.SignatureCheck(
        False, False, True, signer, "the signature is not valid"
    )


def test_a_document_signed_under_another_root(registry, genuine, signer, tmp_path):
    other = PkiFiles.in_folder(tmp_path / "pki")
    other.key.parent.mkdir(parents=True)
    create_development_pki(other)
    # Valid as a signature, not trusted: the caller refuses it for that (signing/verify.py).
    assert S.check(genuine, other.root.read_bytes()) == S.SignatureCheck(
        True, False, True, signer, ""
    )


def test_an_altered_container_is_named_by_check(registry, genuine, signer):
    def second_digest(info: cms.ContentInfo) -> None:
        algorithms = info["content"]["digest_algorithms"]
        info["content"]["digest_algorithms"] = [algorithms[0], {"algorithm": "sha512"}]

    assert S.check(_altered(genuine, second_digest), registry.root) == S.SignatureCheck(
        False,
        True,
        True,
        signer,
        CHANGED + "unsigned fields of the signature container were altered)",
    )


# ---- container_problem, field by field ---------------------------------------------------


def _unsigned_time(info: cms.ContentInfo) -> None:
    signer_info = info["content"]["signer_infos"][0]
    signed = signer_info["signed_attrs"]
    signer_info["unsigned_attrs"] = [a for a in signed if a["type"].native == "message_digest"]


def _encapsulated(info: cms.ContentInfo) -> None:
    info["content"]["encap_content_info"] = {"content_type": "data", "content": b"x"}


def _other_content_type(info: cms.ContentInfo) -> None:
    info["content"]["encap_content_info"] = {"content_type": "signed_data"}


def _two_signers(info: cms.ContentInfo) -> None:
    one = info["content"]["signer_infos"][0]
    info["content"]["signer_infos"] = [one, cms.SignerInfo.load(one.dump())]


def _signed_data_v3(info: cms.ContentInfo) -> None:
    info["content"]["version"] = "v3"


def _signer_v3(info: cms.ContentInfo) -> None:
    info["content"]["signer_infos"][0]["version"] = "v3"


def _no_digest_algorithm(info: cms.ContentInfo) -> None:
    info["content"]["digest_algorithms"] = []


def _sha512_listed(info: cms.ContentInfo) -> None:
    info["content"]["digest_algorithms"] = [{"algorithm": "sha512"}]


def _a_crl(info: cms.ContentInfo) -> None:
    other = cms.OtherRevocationInfoFormat(
        {"other_rev_info_format": "1.2.3.4", "other_rev_info": core.Any.load(b"\x05\x00")}
    )
    info["content"]["crls"] = [cms.RevocationInfoChoice(name="other", value=other)]


UNSIGNED_FIELDS = {
    "an unsigned attribute": _unsigned_time,
    "encapsulated content": _encapsulated,
    "an encapsulated content type other than data": _other_content_type,
    "two signer infos": _two_signers,
    "SignedData version 3": _signed_data_v3,
    "SignerInfo version 3": _signer_v3,
    "no digest algorithm listed": _no_digest_algorithm,
    "SHA-512 listed for a SHA-256 signer": _sha512_listed,
    "a revocation list": _a_crl,
}


@pytest.mark.parametrize("field", UNSIGNED_FIELDS)
def test_each_unsigned_field_of_the_container(genuine, field, problem):
    altered = _altered(genuine, UNSIGNED_FIELDS[field])
    assert altered != genuine and len(altered) == len(genuine)
    expected = CHANGED + "unsigned fields of the signature container were altered)"
    assert problem(altered, _chain(genuine)) == expected


def test_a_container_of_another_content_type(genuine, problem):
    """The outer content type made digestedData (1.2.840.113549.1.7.5) in place: the
    SignedData inside no longer reads as what the type says."""
    raw = bytearray(_der(genuine))
    signed_data = bytes.fromhex("06092A864886F70D010702")  # 1.2.840.113549.1.7.2
    at = raw.index(signed_data)
    raw[at : at + len(signed_data)] = bytes.fromhex("06092A864886F70D010705")
    assert problem(_splice(genuine, bytes(raw)), None) == (
        CHANGED + "the signature container cannot be read as DER)"
    )


def test_a_certificate_outside_the_validated_chain(registry, genuine, tmp_path, problem):
    other = PkiFiles.in_folder(tmp_path / "pki")
    other.key.parent.mkdir(parents=True)
    create_development_pki(other)
    stranger = S.load_cert_from_pemder_bytes(other.root.read_bytes())

    def bundle(info: cms.ContentInfo) -> None:
        certificates = list(info["content"]["certificates"])
        extra = cms.CertificateChoices(name="certificate", value=stranger)
        info["content"]["certificates"] = [*certificates, extra]

    altered = _altered(genuine, bundle)
    assert problem(altered, _chain(genuine)) == (
        CHANGED + "the signature container holds a certificate outside the validated chain)"
    )
    # Without a validated chain (an untrusted signature, refused anyway) it is not compared.
    assert problem(altered, None) == ""
    # Every bundled certificate must be in the chain: the root alone is not enough.
    assert problem(genuine, _chain(genuine)[:1]) != ""
    assert problem(genuine, _chain(genuine)[1:]) != ""


def test_the_container_in_another_order_of_certificates_is_not_canonical(genuine, problem):
    """The two certificates swapped: still DER-decodable, still the chain, but DER writes
    a SET OF in sorted order, so these bytes are not canonical."""
    raw = _der(genuine)
    info = cms.ContentInfo.load(raw)
    first, second = (c.dump() for c in info["content"]["certificates"])
    swapped = raw.replace(first + second, second + first)
    assert swapped != raw
    assert problem(_splice(genuine, swapped), _chain(genuine)) == (
        CHANGED + "the signature container is not in canonical DER)"
    )


@pytest.mark.parametrize(
    ("contents", "reason"),
    [
        (
            lambda der, room: "30" * (room // 2),
            "the signature container's padding is not all zeros",
        ),
        (
            lambda der, room: "31" + der.hex().upper()[2:],
            "the signature container's padding is not all zeros",
        ),
        (lambda der, room: "3000", "the signature container cannot be read as DER"),
    ],
)
def test_contents_that_are_not_one_container_and_zeros(genuine, contents, reason, problem):
    der = _der(genuine)
    start, end = contents_span(genuine)
    room = end - start - 2
    digits = contents(der, room).encode()
    pdf = genuine[: start + 1] + digits + b"0" * (room - len(digits)) + genuine[end - 1 :]
    assert problem(pdf, None) == CHANGED + reason + ")"


def test_contents_that_are_not_upper_case_hex(genuine, problem):
    start, end = contents_span(genuine)
    lower = genuine[:start] + genuine[start:end].lower() + genuine[end:]
    assert problem(lower, None) == (
        CHANGED + "the signature's /Contents string is not as the signer wrote it)"
    )
    odd = genuine[: end - 2] + b">" + genuine[end - 1 :]  # an odd number of digits
    assert problem(odd, None) == (
        CHANGED + "the signature's /Contents string is not as the signer wrote it)"
    )


# ---- _der_size: the length of the DER SEQUENCE at the start, header included ---------------


@pytest.mark.parametrize(
    ("raw", "size"),
    [
        (b"\x30\x00", 2),
        (b"\x30\x00\x00\x00", 2),
        (b"\x30\x03abc", 5),
        (b"\x30\x7f" + bytes(127), 129),
        (b"\x30\x81\x80" + bytes(128), 131),
        (b"\x30\x82\x01\x00" + bytes(256), 260),
        (b"\x30\x82\x01\x00" + bytes(300), 260),
        (b"\x30\x83\x00\x00\x05" + bytes(5), 10),
        (b"\x30\x84\x00\x00\x00\x01" + b"x", 7),
        (b"\x30\x81\x00", 3),  # long form, nothing after the length: as short as it gets
        (b"\x30\x82\x00\x00", 4),
    ],
)
def test_der_size_of_a_sequence(raw, size):
    assert S._der_size(raw) == size


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x30",  # no length
        b"\x31\x00",  # a SET, not a SEQUENCE
        b"\x04\x00",
        b"\x30\x03ab",  # one byte short
        b"\x30\x80" + bytes(10),  # indefinite length (BER, not DER)
        b"\x30\x80" + bytes(200),  # so also where 0x80 bytes would follow
        b"\x30\x84\x00",  # its four length bytes cut short, though they read as 0
        b"\x30\x85\x00\x00\x00\x00\x01x",  # five length bytes
        b"\x30\x82\x01",  # its length cut short
        b"\x30\x81\x80" + bytes(127),  # one byte short, long form
    ],
)
def test_der_size_refuses_what_is_not_a_whole_sequence(raw):
    assert S._der_size(raw) is None


def test_a_certificate_reads_from_pem_and_from_der(registry):
    pem = registry.pki.root.read_bytes()
    from_pem = S.load_cert_from_pemder_bytes(pem)
    assert isinstance(from_pem, asn1_x509.Certificate)
    assert S.load_cert_from_pemder_bytes(from_pem.dump()).dump() == from_pem.dump()
    assert "kaseru development root" in from_pem.subject.human_friendly


# ---- container_problem's byte range: the gap must lie inside the file, after its first byte -


@pytest.mark.parametrize(
    ("pdf", "gap", "reason"),
    [
        (b"a<00>", (1, 5), "the signature container's padding is not all zeros"),  # at the end
        (b"a<00>b", (1, 5), "the signature container's padding is not all zeros"),
        (b"<00>b", (0, 4), "the signature's byte range is malformed"),  # before the file
        (b"a<00>", (3, 3), "the signature's byte range is malformed"),  # empty
        (b"a<00>", (4, 3), "the signature's byte range is malformed"),  # backwards
        (b"a<00>", (1, 6), "the signature's byte range is malformed"),  # past the end
    ],
)
def test_the_byte_range_gap_is_checked_before_it_is_read(pdf, gap, reason):
    """pyHanko refuses such ranges first, so check never sees them; container_problem is
    public, and refuses them itself rather than read outside the file."""
    start, end = gap
    signature = SimpleNamespace(byte_range=[0, start, end, len(pdf) - end])
    assert S.container_problem(pdf, signature, None) == (
        f"the document changed after it was signed ({reason})"
    )
