"""The signed QR payload: test vectors, tampering, keys, expiry, size and speed of the
encoding (not wall-clock)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path

import cbor2
import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from signing import payload as P
from signing.keyring import Keyring, KeyStatus

TODAY = dt.date(2026, 11, 23)
CLAIMS = P.Claims(
    number="A0020000012015000003",
    issue_number="0000021309",
    owner_sequence=2,
    kind="fixed_floor",
    floor=45_000,
    valid_from=dt.date(2015, 10, 16),
    valid_until=dt.date(2065, 10, 16),
    issued_on=dt.date(2015, 10, 30),
    signed_on=dt.date(2026, 11, 1),
    owner_hash=P.owner_hash(b"\0" * 16, "山本 一郎"),
)


@pytest.fixture
def ring(tmp_path):
    return Keyring.create(tmp_path, dt.date(2026, 1, 1))


def _sign(ring, claims=CLAIMS):
    key, private = ring.active()
    return P.sign(claims, key.kid_bytes, private)


VECTOR_FILE = Path(__file__).resolve().parents[1] / "data" / "payload-vector.json"
VECTOR = json.loads(VECTOR_FILE.read_text(encoding="utf-8"))


def _vector_claims() -> P.Claims:
    c = VECTOR["claims"]
    return P.Claims(
        number=c["number"],
        issue_number=c["issue_number"],
        owner_sequence=c["owner_sequence"],
        kind=c["kind"],
        floor=c["floor"],
        valid_from=dt.date.fromisoformat(c["valid_from"]),
        valid_until=dt.date.fromisoformat(c["valid_until"]),
        issued_on=dt.date.fromisoformat(c["issued_on"]),
        signed_on=dt.date.fromisoformat(c["signed_on"]),
        owner_hash=bytes.fromhex(VECTOR["owner"]["hash"]),
    )


def test_vector_fields_agree_without_the_code_under_test():
    """tests/data/payload-vector.json checked with cbor2, hashlib and cryptography alone:
    what another implementation can rely on."""
    v = VECTOR
    protected, payload = bytes.fromhex(v["protected"]), bytes.fromhex(v["payload"])
    sig_structure, signature = bytes.fromhex(v["sig_structure"]), bytes.fromhex(v["signature"])
    seed = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["private_key_seed"]))
    public = seed.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert public.hex() == v["public_key"]
    assert cbor2.loads(protected) == {1: -8, 4: bytes.fromhex(v["kid"])}
    owner = v["owner"]
    assert "".join(owner["typed"].split()) == owner["normalised"]
    salted = bytes.fromhex(owner["salt"]) + owner["normalised"].encode("utf-8")
    assert owner["hash"] == hashlib.sha256(salted).digest()[:8].hex()
    days = {
        k: (dt.date.fromisoformat(v["claims"][k]) - dt.date(1970, 1, 1)).days
        for k in ("valid_from", "valid_until", "issued_on", "signed_on")
    }
    assert days == {
        "valid_from": 16724,
        "valid_until": 34987,
        "issued_on": 16738,
        "signed_on": 20758,
    }
    assert list(cbor2.loads(payload).items()) == [
        (1, 20000012015000003),  # A0020000012015000003 without its series letter
        (11, 0),  # series A
        (2, 21309),
        (3, 2),
        (4, 2),  # fixed floor
        (6, days["valid_from"]),
        (7, days["valid_until"]),
        (8, days["issued_on"]),
        (9, bytes.fromhex(owner["hash"])),
        (10, days["signed_on"]),
        (5, 45_000),
    ]
    assert {int(k): val for k, val in v["payload_map"].items()} == {
        k: val.hex() if isinstance(val, bytes) else val for k, val in cbor2.loads(payload).items()
    }
    assert sig_structure == cbor2.dumps(["Signature1", protected, b"", payload])
    Ed25519PublicKey.from_public_bytes(public).verify(signature, sig_structure)  # raises if not
    message = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))
    assert message.hex() == v["cose_sign1"]
    text = v["text"]
    assert base64.b32decode(text + "=" * (-len(text) % 8)) == message
    assert v["qr"]["segments"] == [v["qr"]["base_url"] + "/v/", text]


def test_the_code_reproduces_the_vector_byte_for_byte():
    """Ed25519 is deterministic: the same key and claims sign to exactly the same text."""
    v = VECTOR
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["private_key_seed"]))
    claims = _vector_claims()
    owner = v["owner"]
    assert P.owner_hash(bytes.fromhex(owner["salt"]), owner["typed"]).hex() == owner["hash"]
    assert P.owner_hash(bytes.fromhex(owner["salt"]), owner["normalised"]).hex() == owner["hash"]
    assert claims.to_cbor().hex() == v["payload"]
    text = P.sign(claims, bytes.fromhex(v["kid"]), private)
    assert text == v["text"]
    assert P.b32decode(text).hex() == v["cose_sign1"]
    assert P.qr_content(v["qr"]["base_url"], text) == v["qr"]["segments"]
    assert P.Claims.from_cbor(bytes.fromhex(v["payload"])) == claims
    assert claims.as_json() == v["claims"]


def test_the_vector_verifies_with_its_published_key(tmp_path):
    v = VECTOR
    path = tmp_path / "keyring.json"
    path.write_text(json.dumps(v["keys"]))
    ring = Keyring.load(path)
    on = dt.date.fromisoformat(v["verified_on"])
    verdict = P.verify("".join(v["qr"]["segments"]), ring, on)
    assert {"valid": verdict.valid, "status": verdict.status, "key": verdict.key} == v["verdict"]
    assert (verdict.kid, verdict.claims) == (v["kid"], _vector_claims())
    forged = bytearray(bytes.fromhex(v["cose_sign1"]))
    forged[-1] ^= 1  # the signature's last byte
    forged_text = base64.b32encode(bytes(forged)).decode().rstrip("=")
    assert not P.verify(forged_text, ring, on).valid


def test_genuine_payload_verifies(ring):
    verdict = P.verify("http://127.0.0.1:8000/v/" + _sign(ring), ring, TODAY)
    assert (verdict.valid, verdict.status, verdict.key) == (True, "valid", "known")
    assert verdict.claims == CLAIMS


def test_base32_decoder_agrees_with_the_standard_library():
    for size in range(0, 80):
        data = bytes((7 * i + size) % 256 for i in range(size))
        text = base64.b32encode(data).decode().rstrip("=")
        if text:
            assert P.b32decode(text) == data


@given(st.binary(min_size=1, max_size=200))
def test_base32_round_trip(data):
    assert P.b32decode(base64.b32encode(data).decode().rstrip("=")) == data


# ---- the owner hash: the name NFKC-normalised, every space removed ----------------------

SALT = bytes.fromhex("00112233445566778899aabbccddeeff")


def _hash_of(normal: str) -> bytes:
    """The rule written out: the first 8 bytes of SHA-256(salt ‖ UTF-8 of the normal form)."""
    return hashlib.sha256(SALT + normal.encode("utf-8")).digest()[:8]


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        # spacing: ASCII, ideographic (U+3000), tabs, none, around the name
        ("山本 一郎", "山本一郎"),
        ("山本\u3000一郎", "山本一郎"),
        ("山本一郎", "山本一郎"),
        (" 山本\t 一郎\u3000", "山本一郎"),
        # width: full-width Latin and digits become ASCII
        ("Ｙａｍａｍｏｔｏ\u3000Ｉｃｈｉｒｏ", "YamamotoIchiro"),
        ("Yamamoto Ichiro", "YamamotoIchiro"),
        ("株式会社住替１２３", "株式会社住替123"),
        # half-width katakana becomes katakana, its sound marks composed (ｸﾞ → グ)
        ("ﾔﾏｸﾞﾁ ｲﾁﾛｳ", "ヤマグチイチロウ"),
        ("ヤマグチ　イチロウ", "ヤマグチイチロウ"),
        # compatibility characters: ㈱, a compatibility ideograph (U+FA19 神 → U+795E 神),
        # Kangxi radicals copied out of a PDF (U+2F2D ⼭ → 山, U+2F00 ⼀ → 一)
        ("㈱住替", "(株)住替"),
        ("\ufa19田 太郎", "\u795e田太郎"),
        ("\u2f2d本 \u2f00郎", "山本一郎"),
    ],
)
def test_owner_hash_follows_the_rule(typed, normal):
    assert P.owner_hash(SALT, typed) == _hash_of(normal)


@pytest.mark.parametrize(
    ("one", "one_normal", "other", "other_normal"),
    [
        # kana: NFKC does not fold hiragana into katakana, so they stay different
        ("ヤマモト イチロウ", "ヤマモトイチロウ", "やまもと いちろう", "やまもといちろう"),
        ("ﾔﾏﾓﾄ", "ヤマモト", "やまもと", "やまもと"),
        # 旧字体 that are characters of their own (not compatibility ideographs) stay
        # different: 髙/高, 﨑 (U+FA11, one of the twelve unified ideographs in the
        # compatibility block, which NFKC leaves alone)/崎, 濱/浜, 邊/辺
        ("髙橋 一郎", "髙橋一郎", "高橋 一郎", "高橋一郎"),
        ("山\ufa11 一郎", "山\ufa11一郎", "山崎 一郎", "山崎一郎"),
        ("濱田 一郎", "濱田一郎", "浜田 一郎", "浜田一郎"),
        ("渡邊 一郎", "渡邊一郎", "渡辺 一郎", "渡辺一郎"),
        # a sound mark is part of the name; case is not folded
        ("ｶﾞ", "ガ", "ｶ", "カ"),
        ("YAMAMOTO", "YAMAMOTO", "Ｙａｍａｍｏｔｏ", "Yamamoto"),
    ],
)
def test_owner_hash_keeps_different_names_apart(one, one_normal, other, other_normal):
    """Each hashes as its own normal form, and the two differ."""
    assert P.owner_hash(SALT, one) == _hash_of(one_normal)
    assert P.owner_hash(SALT, other) == _hash_of(other_normal)
    assert P.owner_hash(SALT, one) != P.owner_hash(SALT, other)


def test_owner_hash_depends_on_the_salt():
    assert P.owner_hash(SALT, "山本 一郎") != P.owner_hash(bytes(16), "山本 一郎")
    assert (
        P.owner_hash(bytes(16), "山本 一郎")
        == (hashlib.sha256(bytes(16) + "山本一郎".encode()).digest()[:8])
    )


def test_every_single_character_change_is_refused(ring):
    text = _sign(ring)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    accepted = []
    for i in range(len(text)):
        changed = text[:i] + alphabet[(alphabet.index(text[i]) + 1) % 32] + text[i + 1 :]
        if P.verify(changed, ring, TODAY).valid:
            accepted.append(i)
    assert accepted == []


def test_truncated_payloads_are_refused(ring):
    text = _sign(ring)
    for cut in range(1, len(text)):
        assert not P.verify(text[:cut], ring, TODAY).valid


def test_changed_claims_without_a_new_signature_are_refused(ring):
    text = _sign(ring)
    message = cbor2.loads(P.b32decode(text))
    protected, _unprotected, payload, signature = message.value
    claims = dict(cbor2.loads(payload))
    claims[5] = 70_000  # a higher floor
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, cbor2.dumps(claims), signature]))
    verdict = P.verify(base64.b32encode(forged).decode().rstrip("="), ring, TODAY)
    assert (verdict.valid, verdict.status) == (False, "invalid")
    assert "forged or altered" in verdict.reason


def test_unknown_key_and_swapped_kid_are_refused(ring, tmp_path):
    stranger = Ed25519PrivateKey.generate()
    verdict = P.verify(P.sign(CLAIMS, b"\xff\xff", stranger), ring, TODAY)
    assert (verdict.valid, verdict.key) == (False, "unknown")
    key, _ = ring.active()
    verdict = P.verify(P.sign(CLAIMS, key.kid_bytes, stranger), ring, TODAY)
    assert (verdict.valid, verdict.key) == (False, "known")


def test_expired_certificate(ring):
    verdict = P.verify(_sign(ring), ring, dt.date(2065, 10, 17))
    assert (verdict.valid, verdict.status) == (False, "expired")
    assert P.verify(_sign(ring), ring, dt.date(2065, 10, 16)).valid


def test_rotation_keeps_old_signatures_valid(ring):
    old = _sign(ring)
    new_key = ring.rotate(dt.date(2026, 12, 1))
    assert (
        ring.keys[cbor2.loads(cbor2.loads(P.b32decode(old)).value[0])[4].hex()].status
        is KeyStatus.RETIRED
    )
    assert P.verify(old, Keyring.load(Keyring.path(ring.folder)), TODAY).valid
    newer = _sign(ring, CLAIMS.__class__(**{**CLAIMS.__dict__, "signed_on": dt.date(2026, 12, 2)}))
    verdict = P.verify(newer, ring, TODAY)
    assert verdict.valid and verdict.kid == new_key.kid


def test_a_retired_key_cannot_sign_after_its_service(ring):
    key, private = ring.active()
    ring.rotate(dt.date(2026, 12, 1))
    late = CLAIMS.__class__(**{**CLAIMS.__dict__, "signed_on": dt.date(2027, 1, 1)})
    verdict = P.verify(P.sign(late, key.kid_bytes, private), ring, TODAY)
    assert not verdict.valid and "not in service" in verdict.reason


def test_compromised_key_reports_everything_it_signed(ring):
    text = _sign(ring)
    key, _ = ring.active()
    ring.compromise(key.kid)
    verdict = P.verify(text, Keyring.load(Keyring.path(ring.folder)), TODAY)
    assert (verdict.valid, verdict.key) == (False, "compromised")
    assert "compromised" in verdict.reason


def test_public_set_has_no_private_material(ring):
    text = Keyring.path(ring.folder).read_text()
    assert "PRIVATE" not in text
    assert set(ring.public_set()["keys"][0]) == {
        "kid",
        "public_key",
        "not_before",
        "not_after",
        "status",
        "compromised_since",
    }


def test_payload_fits_a_version_10_code_at_level_m(ring):
    text = _sign(ring)
    for base in ("http://127.0.0.1:8000", "https://kaseru.example-institute.or.jp"):
        code = segno.make_qr(P.qr_content(base, text), error="m", boost_error=False)
        assert code.version <= 10, (base, code.version)


@pytest.mark.parametrize("text", ["", "hello", "http://x/v/", "AAAA", "1234", "HC1:NCFOXN"])
def test_garbage_is_refused_with_a_reason(ring, text):
    verdict = P.verify(text, ring, TODAY)
    assert not verdict.valid and verdict.status == "invalid" and verdict.reason


# ---- the parts of the message no signature covers (bench/forgery.py found these) --------


def _message(text: str) -> list:
    return list(cbor2.loads(P.b32decode(text)).value)


def _text(parts: list) -> str:
    return base64.b32encode(cbor2.dumps(cbor2.CBORTag(18, parts))).decode().rstrip("=")


def test_every_single_bit_flip_is_refused(ring):
    """Each of the ~1,000 bits of a genuine message flipped in turn: none verifies, none
    raises. (Flipping the empty unprotected map 0xA0 into 0x80, 0x20 or 0xE0 verified, and
    0xA2 into 0x82 raised IndexError.)"""
    raw = P.b32decode(_sign(ring))
    accepted = []
    for bit in range(8 * len(raw)):
        changed = bytearray(raw)
        changed[bit // 8] ^= 0x80 >> (bit % 8)
        if P.verify(base64.b32encode(changed).decode().rstrip("="), ring, TODAY).valid:
            accepted.append(bit)
    assert accepted == []


def test_bytes_after_the_message_are_refused(ring):
    raw = P.b32decode(_sign(ring))
    for extra in (b"\x00", b"\xa0", b"\x41x"):
        verdict = P.verify(base64.b32encode(raw + extra).decode().rstrip("="), ring, TODAY)
        assert (verdict.valid, verdict.status) == (False, "invalid")


@pytest.mark.parametrize("unprotected", [[], {4: b"\x0a\x0b"}, {}, -1, cbor2.CBORSimpleValue(0)])
def test_the_unprotected_header_stays_an_empty_map(ring, unprotected):
    parts = _message(_sign(ring))
    parts[1] = unprotected
    verdict = P.verify(_text(parts), ring, TODAY)
    assert verdict.valid is (unprotected == {})  # {}: the genuine message, rebuilt


@pytest.mark.parametrize("where", ["payload", "signature", "kid"])
def test_an_integer_for_a_byte_string_is_refused_without_allocating_it(ring, where):
    """An integer where a byte string belongs was given to bytes(), which allocates that
    many zero bytes: a one-bit flip of a genuine payload made one of 6 GB."""
    import tracemalloc

    parts = _message(_sign(ring))
    size = 1 << 26
    if where == "kid":
        parts[0] = cbor2.dumps({1: -8, 4: size})
    else:
        parts[2 if where == "payload" else 3] = size
    tracemalloc.start()
    try:
        verdict = P.verify(_text(parts), ring, TODAY)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (verdict.valid, verdict.status) == (False, "invalid")
    assert peak < size // 16
