"""The signed QR payload: COSE_Sign1 (RFC 9052) over a CBOR map, Ed25519, base32.

Layout (a fixed-bytes test vector: tests/data/payload-vector.json, see tests/data/README.md):

- protected header: {1: -8 (EdDSA), 4: kid (2 bytes)}; unprotected header: {}
- payload: a CBOR map with integer keys
    1 and 11 the compatible-housing number: its 19 digits as an integer and its series
      letter as an index into "AB"; 2 issue number (int), 3 owner sequence (int),
    4 kind (1 standard, 2 fixed-floor, 3 option), 5 monthly floor in yen (absent: none),
    6 valid from, 7 valid until, 8 issue date, 10 signing date (days since 1970-01-01),
    9 owner hash: the first 8 bytes of SHA-256(salt ‖ the owner's name, NFKC, no spaces),
      with a random 16-byte salt kept by the registry per issue, so the paper proves who
      it names to the registry without telling anyone else.
- text: RFC 4648 base32 without padding. Its alphabet lies in the QR code's alphanumeric
  mode and is safe in a URL path; the QR holds `{public URL}/v/` (byte mode) followed by
  the text (alphanumeric mode), about 5.5 bits a character.

The EU Digital COVID Certificate uses the same COSE_Sign1 over CBOR; we trade its base45
(whose alphabet has space, % and / and so cannot sit in a URL path) for base32.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signing.keyring import Keyring, KeyStatus
from signing.verdicts import NO_REASON, Cause, KeyState, OfflineStatus, Reason

EPOCH = dt.date(1970, 1, 1)
SERIES = "AB"
KINDS = {"standard": 1, "fixed_floor": 2, "option": 3}
KIND_NAMES = {v: k for k, v in KINDS.items()}
ALG_EDDSA = -8
COSE_SIGN1_TAG = 18
_SPACES = re.compile(r"\s+")


_TO_HEX32 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHIJKLMNOPQRSTUV")
_BASE32 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def b32decode(text: str) -> bytes:
    """RFC 4648 base32 without padding, decoded through int(): base64.b32decode is pure
    Python and took a third of a verification. Refuses text that is not canonical."""
    if not text or not set(text) <= _BASE32:
        raise ValueError("not base32")
    bits = len(text) * 5
    size, spare = divmod(bits, 8)
    if spare >= 5:
        raise ValueError("not a whole number of bytes")
    value = int(text.translate(_TO_HEX32), 32)
    if value & ((1 << spare) - 1):
        raise ValueError("non-zero padding bits")
    return (value >> spare).to_bytes(size, "big")


def normal_name(name: str) -> str:
    """A name as the registry compares names: NFKC (full- and half-width forms, ｶﾅ and
    compatibility ideographs folded), every space removed. Kana and 旧字体 stay as typed."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", name))


def owner_hash(salt: bytes, name: str) -> bytes:
    """The 8-byte salted hash of an owner's name (normal_name)."""
    return hashlib.sha256(salt + normal_name(name).encode()).digest()[:8]


@dataclass(frozen=True)
class Claims:
    """What a certificate's QR code says."""

    number: str
    issue_number: str
    owner_sequence: int
    kind: str
    floor: int | None
    valid_from: dt.date
    valid_until: dt.date
    issued_on: dt.date
    signed_on: dt.date
    owner_hash: bytes

    def to_cbor(self) -> bytes:
        data: dict[int, Any] = {
            1: int(self.number[1:]),
            11: SERIES.index(self.number[0]),
            2: int(self.issue_number),
            3: self.owner_sequence,
            4: KINDS[self.kind],
            6: (self.valid_from - EPOCH).days,
            7: (self.valid_until - EPOCH).days,
            8: (self.issued_on - EPOCH).days,
            9: self.owner_hash,
            10: (self.signed_on - EPOCH).days,
        }
        if self.floor is not None:
            data[5] = self.floor
        return cbor2.dumps(data)

    @classmethod
    def from_cbor(cls, raw: bytes) -> Claims:
        data = cbor2.loads(raw)
        if not isinstance(data, Mapping):
            raise ValueError("the payload is not a map")

        def day(key: int) -> dt.date:
            return EPOCH + dt.timedelta(days=int(data[key]))

        series = int(data[11])
        if not 0 <= series < len(SERIES):  # SERIES[2] raised IndexError; SERIES[-1] read "B"
            raise ValueError(f"no series {series}")
        return cls(
            number=f"{SERIES[series]}{int(data[1]):019d}",
            issue_number=f"{int(data[2]):010d}",
            owner_sequence=int(data[3]),
            kind=KIND_NAMES[int(data[4])],
            floor=int(data[5]) if 5 in data else None,
            valid_from=day(6),
            valid_until=day(7),
            issued_on=day(8),
            signed_on=day(10),
            owner_hash=bytes(data[9]),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "issue_number": self.issue_number,
            "owner_sequence": self.owner_sequence,
            "kind": self.kind,
            "floor": self.floor,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "issued_on": self.issued_on.isoformat(),
            "signed_on": self.signed_on.isoformat(),
        }


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def sign(claims: Claims, kid: bytes, key: Ed25519PrivateKey) -> str:
    """The base32 text of a COSE_Sign1 over the claims."""
    protected = cbor2.dumps({1: ALG_EDDSA, 4: kid})
    payload = claims.to_cbor()
    signature = key.sign(_sig_structure(protected, payload))
    message = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))
    return base64.b32encode(message).decode().rstrip("=")


def qr_content(base_url: str, text: str) -> list[str]:
    """The QR code's segments: the URL prefix (byte mode) and the payload (alphanumeric)."""
    return [f"{base_url}/v/", text]


@dataclass(frozen=True)
class Verdict:
    """The offline answer about one payload (its enums and reasons: signing/verdicts.py)."""

    valid: bool
    status: OfflineStatus
    reason: Reason
    key: KeyState
    kid: str | None = None
    claims: Claims | None = None

    def as_json(self, text: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "valid": self.valid,
            "status": self.status,
            "reason": str(self.reason),
            "key": self.key,
            "kid": self.kid,
            "number": self.claims.number if self.claims else None,
            "issue_number": self.claims.issue_number if self.claims else None,
        }
        if self.claims:
            out["claims"] = self.claims.as_json()
        if text is not None:
            out["payload"] = text
        return out


def extract(text: str) -> str:
    """The payload from a scanned URL (…/v/PAYLOAD) or from the payload itself."""
    text = text.strip().rpartition("/v/")[2]
    return text.partition("?")[0].partition("#")[0].strip().upper()


def _invalid(
    reason: Reason,
    *,
    key: KeyState = KeyState.UNREAD,
    kid: str | None = None,
    claims: Claims | None = None,
) -> Verdict:
    """A payload the signature cannot vouch for, and why."""
    return Verdict(
        valid=False, status=OfflineStatus.INVALID, reason=reason, key=key, kid=kid, claims=claims
    )


def verify(text: str, keyring: Keyring, today: dt.date) -> Verdict:
    """Check a payload with the public keys alone: encoding, signature, key, validity."""
    raw = extract(text)
    try:
        data = b32decode(raw)
        message = cbor2.loads(data)
    except (binascii.Error, ValueError, cbor2.CBORDecodeError, TypeError, OverflowError):
        return _invalid(Reason(Cause.UNDECODABLE))
    if not (
        isinstance(message, cbor2.CBORTag)
        and message.tag == COSE_SIGN1_TAG
        and isinstance(message.value, list | tuple)
        and len(message.value) == 4
    ):
        return _invalid(Reason(Cause.NOT_SIGNED_PAYLOAD))
    protected, unprotected, payload, signature = message.value
    # Only the protected header and the payload are signed: the rest of the message is
    # pinned to exactly what `sign` writes (an empty unprotected map, byte strings, the
    # shortest encoding, nothing after it), so that no byte of a payload can change and
    # still verify, and no field makes us allocate what its header claims (bytes(10**10)).
    if not (
        isinstance(protected, bytes)
        and isinstance(unprotected, Mapping)
        and not unprotected
        and isinstance(payload, bytes)
        and isinstance(signature, bytes)
        and cbor2.dumps(message) == data
    ):
        return _invalid(Reason(Cause.ALTERED_ENCODING))
    try:
        header = cbor2.loads(protected)
    except (cbor2.CBORDecodeError, TypeError, ValueError, OverflowError):
        header = None
    if not (isinstance(header, Mapping) and isinstance(header.get(4), bytes)):
        return _invalid(Reason(Cause.UNREADABLE_HEADER))
    kid = header[4].hex()
    algorithm = header.get(1)
    if algorithm != ALG_EDDSA:
        return _invalid(Reason(Cause.UNSUPPORTED_ALGORITHM, algorithm=repr(algorithm)), kid=kid)
    key = keyring.keys.get(kid)
    if key is None:
        return _invalid(Reason(Cause.UNKNOWN_KEY, kid=kid), key=KeyState.UNKNOWN, kid=kid)
    try:
        key.key().verify(signature, _sig_structure(protected, payload))
    except (InvalidSignature, TypeError, ValueError):
        return _invalid(Reason(Cause.FORGED), key=KeyState.KNOWN, kid=kid)
    try:
        claims = Claims.from_cbor(payload)
    except (KeyError, ValueError, TypeError, OverflowError, cbor2.CBORDecodeError):
        return _invalid(Reason(Cause.MALFORMED_CLAIMS), key=KeyState.KNOWN, kid=kid)
    if (
        key.status is KeyStatus.COMPROMISED
        and key.compromised_since is not None
        and (claims.signed_on >= dt.date.fromisoformat(key.compromised_since))
    ):
        return _invalid(
            Reason(Cause.COMPROMISED_KEY, kid=kid, since=key.compromised_since),
            key=KeyState.COMPROMISED,
            kid=kid,
            claims=claims,
        )
    if claims.signed_on < dt.date.fromisoformat(key.not_before) or (
        key.not_after is not None and claims.signed_on > dt.date.fromisoformat(key.not_after)
    ):
        return _invalid(
            Reason(Cause.KEY_OUT_OF_SERVICE, kid=kid, signed_on=claims.signed_on),
            key=KeyState.KNOWN,
            kid=kid,
            claims=claims,
        )
    if today > claims.valid_until:
        return Verdict(
            valid=False,
            status=OfflineStatus.EXPIRED,
            reason=Reason(Cause.EXPIRED, valid_until=claims.valid_until),
            key=KeyState.KNOWN,
            kid=kid,
            claims=claims,
        )
    return Verdict(
        valid=True,
        status=OfflineStatus.VALID,
        reason=NO_REASON,
        key=KeyState.KNOWN,
        kid=kid,
        claims=claims,
    )
