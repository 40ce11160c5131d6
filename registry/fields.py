"""Checks of free-text fields shared by the services: names, addresses, postal codes, e-mail."""

from __future__ import annotations

import re
import unicodedata

from registry.errors import InvalidInput

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def text(field: str, value: str | None, max_length: int, required: bool = True) -> str | None:
    """Trim a text; refuse it when required and empty, or when longer than `max_length`."""
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise InvalidInput(field, "must not be empty")
        return None
    if len(cleaned) > max_length:
        raise InvalidInput(field, f"is {len(cleaned)} characters long; at most {max_length}")
    if any(unicodedata.category(c) == "Cc" for c in cleaned):
        raise InvalidInput(field, "must not contain control characters")
    return cleaned


def required(field: str, value: str | None, max_length: int) -> str:
    """A text that must be given."""
    result = text(field, value, max_length)
    assert result is not None
    return result


def postal_code(field: str, value: str) -> str:
    """A Japanese postal code as 7 digits; accepts 〒, a hyphen and full-width digits."""
    cleaned = unicodedata.normalize("NFKC", value or "").replace("〒", "").replace("-", "").strip()
    if not (len(cleaned) == 7 and cleaned.isascii() and cleaned.isdigit()):
        raise InvalidInput(field, f"a postal code has 7 digits, like 511-0001; got {value!r}")
    return cleaned


def email(field: str, value: str | None) -> str | None:
    """An e-mail address, or None when not given."""
    cleaned = text(field, value, 254, required=False)
    if cleaned is not None and not _EMAIL.match(cleaned):
        raise InvalidInput(field, f"is not an e-mail address: {value!r}")
    return cleaned


def yen(field: str, value: int | None, required: bool = True) -> int | None:
    """A positive amount of yen (an int; money is never a float here)."""
    if value is None:
        if required:
            raise InvalidInput(field, "an amount in yen is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"must be a whole number of yen; got {value!r}")
    if value <= 0:
        raise InvalidInput(field, f"must be more than 0 yen; got {value}")
    if value > 100_000_000:
        raise InvalidInput(field, f"{value} yen is beyond any rent")
    return value
