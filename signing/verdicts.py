"""What an offline check finds, typed: the status, the key's state and the reason, for a QR
payload (signing/payload.py) and for a certificate PDF (signing/pdf.py, signing/verify.py).

The JSON that the API and `kaseru verify` print carries these as the English strings it
always carried. The enums are StrEnums whose values are those strings, and a `Reason` is
the English text itself (a str) that also knows the `Cause` it was rendered from and the
details that filled it. The registry gives each cause in Japanese (registry/verdicts.py)
by looking the cause up, never by reading the English, so rewording an English reason
cannot change the Japanese page. Nothing here is Japanese: signing knows no registry.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class OfflineStatus(StrEnum):
    """What the signature alone says, before the registry is asked."""

    VALID = "valid"
    EXPIRED = "expired"
    """Genuine, but today is past the certificate's last day of validity."""
    INVALID = "invalid"


class KeyState(StrEnum):
    """What the registry's public key set says about the key that signed a payload."""

    KNOWN = "known"
    UNKNOWN = "unknown"
    COMPROMISED = "compromised"
    UNREAD = ""
    """The key was not looked up: the text could not be read as far as the key's id, it
    names an algorithm that is not the registry's, or there was no QR code to read."""


class Cause(StrEnum):
    """Why an offline check refuses a payload or a PDF. Each value is the English reason as
    printed, with a `{name}` field for each detail a `Reason` fills in."""

    # The QR payload (signing/payload.py), in the order verify checks it.
    UNDECODABLE = "not a kaseru payload (cannot be decoded)"
    NOT_SIGNED_PAYLOAD = "not a signed certificate payload"
    ALTERED_ENCODING = "not a signed certificate payload (altered encoding)"
    UNREADABLE_HEADER = "the signature header cannot be read"
    UNSUPPORTED_ALGORITHM = "unsupported algorithm {algorithm}"
    UNKNOWN_KEY = "signed by key {kid}, which the registry does not know"
    FORGED = "the signature does not match: forged or altered"
    MALFORMED_CLAIMS = "the signed payload is malformed"
    COMPROMISED_KEY = (
        "key {kid} was compromised on {since}; nothing it signed from then on can be trusted"
    )
    KEY_OUT_OF_SERVICE = "key {kid} was not in service on {signed_on}"
    EXPIRED = "the certificate expired after {valid_until}"
    # The PDF (signing/pdf.py, then signing/verify.py).
    UNREADABLE_PDF = "not a readable signed PDF ({error})"
    UNSIGNED_PDF = "the document is not signed"
    DOCUMENT_CHANGED = "the document changed after it was signed"
    CONTAINER_ALTERED = "the document changed after it was signed ({problem})"
    PARTIAL_COVERAGE = "the signature does not cover the whole file"
    BAD_SIGNATURE = "the signature is not valid"
    FOREIGN_SIGNER = "signed by a certificate the registry did not issue"
    UNREADABLE_PAGE = "page 1 cannot be read ({error})"
    QR_COUNT = "expected one verification QR code, found {found}"
    NUMBERS_MISMATCH = (
        "the QR code names {number} / issue {issue_number}, but the page prints {printed}"
    )


@functools.cache
def fields(template: str) -> frozenset[str]:
    """The `{name}` fields of a reason's English template."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


class Reason(str):
    """A reason as printed (the English text, a str), with the cause it was rendered from
    and the details that filled the cause's fields: `Reason(Cause.UNKNOWN_KEY, kid="0a1b")`
    is "signed by key 0a1b, which the registry does not know". `Reason()` is the empty
    reason of a verdict that refuses nothing.

    Any StrEnum of English templates can be a cause (the registry has causes of its own,
    registry/verdicts.py). A Reason equals, and hashes as, its text."""

    cause: StrEnum | None
    details: Mapping[str, object]

    def __new__(cls, cause: StrEnum | None = None, /, **details: object) -> Reason:
        template = "" if cause is None else cause.value
        if set(details) != fields(template):
            # A missing detail would raise from format(); an extra one would be lost unseen.
            raise TypeError(f"{cause!r} takes {sorted(fields(template))}, not {sorted(details)}")
        reason = super().__new__(cls, template.format(**details))
        reason.cause = cause
        reason.details = MappingProxyType(dict(details))
        return reason

    def __reduce__(self) -> tuple[Any, ...]:
        # str's own reduction would call Reason(text), taking the text for a cause.
        return (_reason, (self.cause, dict(self.details)))


def _reason(cause: StrEnum | None, details: dict[str, object]) -> Reason:
    return Reason(cause, **details)


NO_REASON = Reason()
"""The reason of a verdict that refuses nothing: ""."""
