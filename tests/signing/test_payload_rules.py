"""signing/payload.py's rules one by one, each verdict whole: every way `verify` refuses a
payload (and says why, with which key), the edges of a key's service, of a compromise and
of validity, the base32 decoder's refusals, the URL forms `extract` reads, and the JSON a
verdict prints (`kaseru verify qr --json`).

Written for mutation testing (`make mutate`): the tests in test_payload.py check that a
forgery is refused; these also check what the verdict says. Messages are built by hand
from RFC 9052 (COSE_Sign1) with cbor2 and cryptography, not with the module's `sign`."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from signing import payload as P
from signing.keyring import Keyring, KeyStatus, PublicKey

D = dt.date
PRIVATE = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KID = "0a0b"
TODAY = D(2026, 11, 23)

CLAIMS = P.Claims(
    number="A0020000012015000003",
    issue_number="0000021309",
    owner_sequence=2,
    kind="fixed_floor",
    floor=45_000,
    valid_from=D(2015, 10, 16),
    valid_until=D(2065, 10, 16),
    issued_on=D(2015, 10, 30),
    signed_on=D(2026, 11, 1),
    owner_hash=bytes.fromhex("0102030405060708"),
)
# The same claims as the payload's CBOR map (signing/payload.py's layout): the number's 19
# digits and its series letter's index in "AB", days since 1970-01-01.
CLAIMS_MAP = {
    1: 20000012015000003,
    11: 0,
    2: 21309,
    3: 2,
    4: 2,
    5: 45_000,
    6: (D(2015, 10, 16) - D(1970, 1, 1)).days,
    7: (D(2065, 10, 16) - D(1970, 1, 1)).days,
    8: (D(2015, 10, 30) - D(1970, 1, 1)).days,
    9: bytes.fromhex("0102030405060708"),
    10: (D(2026, 11, 1) - D(1970, 1, 1)).days,
}


def _key(**changes) -> PublicKey:
    raw = PRIVATE.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    public = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return dataclasses.replace(
        PublicKey(kid=KID, public_key=public, not_before="2015-01-01"), **changes
    )


def _ring(**changes) -> Keyring:
    return Keyring([_key(**changes)])


def _text(message: bytes) -> str:
    return base64.b32encode(message).decode().rstrip("=")


def _signed(payload: bytes, header: dict | None = None, key=PRIVATE) -> str:
    """A COSE_Sign1 written out from RFC 9052: Sig_structure ["Signature1", protected,
    external_aad b"", payload], signed with Ed25519; tag 18 over [protected, {}, payload,
    signature]."""
    protected = cbor2.dumps({1: -8, 4: bytes.fromhex(KID)} if header is None else header)
    signature = key.sign(cbor2.dumps(["Signature1", protected, b"", payload]))
    return _text(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature])))


GENUINE = _signed(cbor2.dumps(CLAIMS_MAP))


def _claims_map(key: int, value) -> bytes:
    return cbor2.dumps({**CLAIMS_MAP, key: value})


# ---- the genuine payload, and what a verdict prints ------------------------------------


def test_the_hand_made_payload_verifies_with_its_claims():
    assert P.verify(GENUINE, _ring(), TODAY) == P.Verdict(True, "valid", "", "known", KID, CLAIMS)


def test_a_verdict_prints_every_field():
    verdict = P.verify(GENUINE, _ring(), TODAY)
    claims = {
        "number": "A0020000012015000003",
        "issue_number": "0000021309",
        "owner_sequence": 2,
        "kind": "fixed_floor",
        "floor": 45_000,
        "valid_from": "2015-10-16",
        "valid_until": "2065-10-16",
        "issued_on": "2015-10-30",
        "signed_on": "2026-11-01",
    }
    common = {
        "valid": True,
        "status": "valid",
        "reason": "",
        "key": "known",
        "kid": KID,
        "number": "A0020000012015000003",
        "issue_number": "0000021309",
        "claims": claims,
    }
    assert verdict.as_json() == common
    assert verdict.as_json(GENUINE) == {**common, "payload": GENUINE}


def test_a_verdict_without_claims_prints_none_for_them():
    verdict = P.Verdict(False, "invalid", "not a kaseru payload (cannot be decoded)", "")
    expected = {
        "valid": False,
        "status": "invalid",
        "reason": "not a kaseru payload (cannot be decoded)",
        "key": "",
        "kid": None,
        "number": None,
        "issue_number": None,
    }
    assert verdict.as_json() == expected
    assert verdict.as_json("HELLO") == {**expected, "payload": "HELLO"}


def test_claims_without_a_floor_and_of_series_b_read_back():
    option = dataclasses.replace(CLAIMS, number="B0030000012015000003", kind="option", floor=None)
    raw = option.to_cbor()
    data = cbor2.loads(raw)
    assert 5 not in data
    assert (data[1], data[11], data[4]) == (30000012015000003, 1, 3)
    assert P.Claims.from_cbor(raw) == option
    standard = dataclasses.replace(CLAIMS, kind="standard")
    assert cbor2.loads(standard.to_cbor())[4] == 1
    assert P.Claims.from_cbor(standard.to_cbor()).kind == "standard"


def test_claims_that_are_not_a_map_are_refused():
    with pytest.raises(ValueError, match=r"^the payload is not a map$"):
        P.Claims.from_cbor(cbor2.dumps([1, 2, 3]))


@pytest.mark.parametrize("series", [2, -1])
def test_claims_of_no_series_are_refused_naming_it(series):
    with pytest.raises(ValueError, match=f"^no series {series}$"):
        P.Claims.from_cbor(_claims_map(11, series))


def test_every_digit_of_the_number_is_encoded():
    """The 19 digits after the series letter, the kind code's first included: every kind
    code starts with 0 today, so a test of real numbers alone could not see it dropped."""
    claims = dataclasses.replace(CLAIMS, number="A9876543210987654321")
    assert cbor2.loads(claims.to_cbor())[1] == 9876543210987654321
    assert P.Claims.from_cbor(claims.to_cbor()) == claims


def test_qr_content_is_the_url_prefix_then_the_payload():
    assert P.qr_content("https://kaseru.example", "ABC") == ["https://kaseru.example/v/", "ABC"]


# ---- each refusal, whole -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",  # nothing
        "hello!",  # not base32
        "A",  # 5 bits: not a byte
        "AB",  # a byte, with non-zero padding bits
        _text(b"\xff\xff"),  # base32 of bytes that are not CBOR
    ],
)
def test_text_that_cannot_be_decoded(text):
    assert P.verify(text, _ring(), TODAY) == P.Verdict(
        False, "invalid", "not a kaseru payload (cannot be decoded)", ""
    )


@pytest.mark.parametrize(
    "message",
    [
        cbor2.dumps({"a": 1}),  # CBOR, no tag
        cbor2.dumps(cbor2.CBORTag(17, [b"", {}, b"", b""])),  # COSE_Mac0's tag
        cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b""])),  # three parts
        cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"", b"", b""])),  # five parts
        cbor2.dumps(cbor2.CBORTag(18, "four")),  # not an array
    ],
)
def test_cbor_that_is_not_a_cose_sign1(message):
    assert P.verify(_text(message), _ring(), TODAY) == P.Verdict(
        False, "invalid", "not a signed certificate payload", ""
    )


def _parts(text: str) -> list:
    return list(cbor2.loads(P.b32decode(text)).value)


@pytest.mark.parametrize(
    "change",
    [
        lambda parts: [parts[0], {1: -8}, parts[2], parts[3]],  # something unprotected
        lambda parts: [parts[0], [], parts[2], parts[3]],  # not a map
        lambda parts: [cbor2.loads(parts[0]), {}, parts[2], parts[3]],  # not a byte string
        lambda parts: [parts[0], {}, cbor2.loads(parts[2]), parts[3]],
        lambda parts: [parts[0], {}, parts[2], parts[3].hex()],
    ],
)
def test_an_altered_encoding_of_a_genuine_message(change):
    text = _text(cbor2.dumps(cbor2.CBORTag(18, change(_parts(GENUINE)))))
    assert P.verify(text, _ring(), TODAY) == P.Verdict(
        False, "invalid", "not a signed certificate payload (altered encoding)", ""
    )


def test_bytes_after_a_genuine_message():
    text = _text(P.b32decode(GENUINE) + b"\x00")
    assert P.verify(text, _ring(), TODAY).reason == (
        "not a signed certificate payload (altered encoding)"
    )


@pytest.mark.parametrize(
    "protected",
    [
        b"\xff",  # not CBOR
        cbor2.dumps([1, -8]),  # not a map
        cbor2.dumps({1: -8}),  # no key id
        cbor2.dumps({1: -8, 4: "0a0b"}),  # a key id that is not a byte string
        cbor2.dumps({1: -8, 5: bytes.fromhex(KID)}),  # the key id under another label
    ],
)
def test_a_header_that_cannot_be_read(protected):
    parts = _parts(GENUINE)
    text = _text(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, parts[2], parts[3]])))
    assert P.verify(text, _ring(), TODAY) == P.Verdict(
        False, "invalid", "the signature header cannot be read", ""
    )


@pytest.mark.parametrize("algorithm", [-7, -35, None])
def test_an_algorithm_other_than_eddsa(algorithm):
    header = {4: bytes.fromhex(KID)} if algorithm is None else {1: algorithm, 4: bytes.fromhex(KID)}
    text = _signed(cbor2.dumps(CLAIMS_MAP), header)
    assert P.verify(text, _ring(), TODAY) == P.Verdict(
        False, "invalid", f"unsupported algorithm {algorithm!r}", "", KID
    )


def test_a_key_the_registry_does_not_know():
    text = _signed(cbor2.dumps(CLAIMS_MAP), {1: -8, 4: b"\xff\xfe"})
    assert P.verify(text, _ring(), TODAY) == P.Verdict(
        False, "invalid", "signed by key fffe, which the registry does not know", "unknown", "fffe"
    )


def _altered_claims() -> str:
    """The genuine message with a higher floor in its payload, under the old signature."""
    protected, unprotected, _, signature = _parts(GENUINE)
    payload = cbor2.dumps({**CLAIMS_MAP, 5: 90_000})
    return _text(cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload, signature])))


@pytest.mark.parametrize(
    "text",
    [
        # signed by another key under this key's id
        _signed(cbor2.dumps(CLAIMS_MAP), key=Ed25519PrivateKey.from_private_bytes(bytes(32))),
        _altered_claims(),
    ],
)
def test_a_signature_that_does_not_match(text):
    assert P.verify(text, _ring(), TODAY) == P.Verdict(
        False, "invalid", "the signature does not match: forged or altered", "known", KID
    )


@pytest.mark.parametrize(
    "payload",
    [
        cbor2.dumps([1, 2, 3]),  # not a map
        cbor2.dumps({k: v for k, v in CLAIMS_MAP.items() if k != 2}),  # no issue number
        _claims_map(4, 9),  # no kind 9
        _claims_map(11, 2),  # no series 2 (raised IndexError out of verify)
        _claims_map(11, -1),  # nor -1 (read as "AB"[-1], series B)
        _claims_map(6, "2015-10-16"),  # a day that is not a number
        b"\xff",  # not CBOR, though signed
    ],
)
def test_a_genuinely_signed_payload_that_is_malformed(payload):
    assert P.verify(_signed(payload), _ring(), TODAY) == P.Verdict(
        False, "invalid", "the signed payload is malformed", "known", KID
    )


# ---- compromise, service and validity at their edges ------------------------------------


def test_a_key_compromised_on_the_signing_day_taints_it():
    ring = _ring(status=KeyStatus.COMPROMISED, compromised_since="2026-11-01")
    assert P.verify(GENUINE, ring, TODAY) == P.Verdict(
        False,
        "invalid",
        "key 0a0b was compromised on 2026-11-01; nothing it signed from then on can be trusted",
        "compromised",
        KID,
        CLAIMS,
    )


def test_a_key_compromised_the_day_after_signing_does_not():
    ring = _ring(status=KeyStatus.COMPROMISED, compromised_since="2026-11-02")
    assert P.verify(GENUINE, ring, TODAY).valid


def test_a_compromised_key_without_a_day_taints_nothing():
    ring = _ring(status=KeyStatus.COMPROMISED)
    assert P.verify(GENUINE, ring, TODAY).valid


def test_a_compromise_is_reported_before_the_service_period():
    # Compromised since its first day and retired before the signing day: the compromise
    # is what the verdict names.
    ring = _ring(
        status=KeyStatus.COMPROMISED, compromised_since="2015-01-01", not_after="2020-01-01"
    )
    assert P.verify(GENUINE, ring, TODAY).key == "compromised"


@pytest.mark.parametrize(
    ("not_before", "not_after", "valid"),
    [
        ("2026-11-01", None, True),  # its first day
        ("2026-11-02", None, False),  # the day before it began
        ("2015-01-01", "2026-11-01", True),  # its last day
        ("2015-01-01", "2026-10-31", False),  # the day after it ended
    ],
)
def test_the_key_must_be_in_service_on_the_signing_day(not_before, not_after, valid):
    verdict = P.verify(GENUINE, _ring(not_before=not_before, not_after=not_after), TODAY)
    if valid:
        assert verdict == P.Verdict(True, "valid", "", "known", KID, CLAIMS)
    else:
        assert verdict == P.Verdict(
            False, "invalid", "key 0a0b was not in service on 2026-11-01", "known", KID, CLAIMS
        )


def test_a_certificate_is_valid_on_its_last_day_and_expired_after():
    assert P.verify(GENUINE, _ring(), D(2065, 10, 16)).valid
    assert P.verify(GENUINE, _ring(), D(2065, 10, 17)) == P.Verdict(
        False, "expired", "the certificate expired after 2065-10-16", "known", KID, CLAIMS
    )


# ---- reading the text: extract and base32 -----------------------------------------------


@pytest.mark.parametrize(
    "scanned",
    [
        "https://kaseru.example/v/{}",
        "https://kaseru.example/v/{}?utm_source=flyer",
        "https://kaseru.example/v/{}#top",
        "  https://kaseru.example/v/{}  \n",
        "https://kaseru.example/v/v/{}",  # the last /v/ counts
        "https://kaseru.example/v/old/v/{}",
        "https://kaseru.example/v/{}?a=1?b=2",  # the first ? ends it
        "https://kaseru.example/v/{}#a#b",  # and the first #
        "https://kaseru.example/v/{}#a?b",
        "{}",
    ],
)
def test_the_payload_is_read_out_of_what_was_scanned(scanned):
    assert P.extract(scanned.format(GENUINE)) == GENUINE
    assert P.extract(scanned.format(GENUINE.lower())) == GENUINE
    assert P.verify(scanned.format(GENUINE.lower()), _ring(), TODAY).valid


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("AE", b"\x01"),  # 10 bits: one byte and two zero bits
        ("74", b"\xff"),
        ("AEBAG", b"\x01\x02\x03"),  # 25 bits: three bytes and one zero bit
        ("AEBAGBA", b"\x01\x02\x03\x04"),  # 35 bits: four bytes and three zero bits
        ("AEBAGBAF", b"\x01\x02\x03\x04\x05"),  # 40 bits: no padding at all
    ],
)
def test_base32_of_each_length(text, data):
    assert base64.b32decode(text + "=" * (-len(text) % 8)) == data  # the standard says so
    assert P.b32decode(text) == data


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not base32"),
        ("ae", "not base32"),  # lower case (extract upper-cases; the decoder does not)
        ("A1", "not base32"),  # 1 is not in the alphabet
        ("AE==", "not base32"),  # no padding characters
        ("A", "not a whole number of bytes"),  # 5 bits
        ("AEB", "not a whole number of bytes"),  # 15 bits: one byte and seven bits over
        ("AEBAGB", "not a whole number of bytes"),  # 30 bits: three bytes, six bits over
        ("AF", "non-zero padding bits"),  # the two bits after the byte are not zero
        ("AEBAH", "non-zero padding bits"),  # the one bit after three bytes is not zero
        ("AEBAGBB", "non-zero padding bits"),  # the three bits after four bytes
    ],
)
def test_base32_that_is_not_canonical_is_refused(text, reason):
    with pytest.raises(ValueError, match=f"^{reason}$"):
        P.b32decode(text)


def test_a_texts_last_letter_is_never_x():
    """The text ends with the Ed25519 signature. When its length is a multiple of 8 its
    last letter is the signature's last byte, S's top byte (little-endian, S < 2^253, RFC
    8032), at most 0x10: one of A-Q. Otherwise the letter ends in padding zero bits, so its
    index is even, and X's (23) is odd. So stripping "=" alone is all that matters
    (mutate/equivalent.toml: signing.payload.x_sign__mutmut_21)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    full, padded = set(), set()
    for floor in (None, 10, 1000, 100_000):
        for sequence in (1, 30, 300):
            for serial in range(1, 30):
                claims = dataclasses.replace(
                    CLAIMS,
                    number=f"A002000001201500{serial:04d}",
                    floor=floor,
                    owner_sequence=sequence,
                )
                text = P.sign(claims, bytes.fromhex(KID), PRIVATE)
                (full if len(text) % 8 == 0 else padded).add(alphabet.index(text[-1]))
    assert full and max(full) <= 0x10
    assert padded and all(index % 2 == 0 for index in padded)
