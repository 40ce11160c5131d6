"""The keyring of Ed25519 keys that sign QR payloads, with key ids (kid).

Certificates live 50 years and keys do not: rotation adds a new key and retires the old
one, whose public key stays in the set so that what it signed while in service still
verifies. A key can be marked compromised; everything it signed then reports so.

The public set (`keyring.json`) is all an offline verifier needs. Private keys live beside
it, one PEM file per kid (0600 from its creation, in a 0700 folder: signing/files.py), and
never enter the public set. A set made by `kaseru keys init` says `"development": true`, so
that a registry outside development mode refuses to sign with it (registry/production.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signing.files import private_folder, write_private


class KeyStatus(StrEnum):
    """Where a key stands."""

    ACTIVE = "active"
    RETIRED = "retired"
    COMPROMISED = "compromised"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class PublicKey:
    """One key of the public set: its id, raw public key and period of service."""

    kid: str
    public_key: str
    """The raw 32-byte Ed25519 public key, base64url without padding."""
    not_before: str
    """First day it signs (YYYY-MM-DD)."""
    not_after: str | None = None
    """Last day it signed, once retired or compromised."""
    status: KeyStatus = KeyStatus.ACTIVE
    compromised_since: str | None = None
    """From this day on (or for all it signed, when equal to not_before) nothing it signed
    is trusted."""

    def key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(_unb64(self.public_key))

    @property
    def kid_bytes(self) -> bytes:
        return bytes.fromhex(self.kid)


class KeyringError(Exception):
    """The keyring cannot do what was asked (no active key, unknown kid...)."""


class Keyring:
    """The public key set, and (where present) the private keys beside it."""

    def __init__(
        self, keys: list[PublicKey], folder: Path | None = None, development: bool = False
    ) -> None:
        self.keys = {k.kid: k for k in keys}
        self.folder = folder
        self.development = development
        """Made by `kaseru keys init` for development (kept in keyring.json)."""
        self._private: dict[str, Ed25519PrivateKey] = {}

    # ---- files ----
    @staticmethod
    def path(folder: Path) -> Path:
        return folder / "keyring.json"

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """Read a public key set (a keyring.json, or the API's published copy)."""
        try:
            data = json.loads(path.read_text())
            keys = [PublicKey(**{**k, "status": KeyStatus(k["status"])}) for k in data["keys"]]
            development = data.get("development") is True
        except FileNotFoundError:
            raise KeyringError(f"no key set at {path}; run `kaseru keys init`") from None
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise KeyringError(f"{path} is not a key set: {error}") from None
        return cls(keys, path.parent, development)

    def public_set(self) -> dict[str, Any]:
        """The JSON anyone may have: every key's id, public key, period and status (and
        `"development": true` for a development set)."""
        keys = [asdict(k) for k in sorted(self.keys.values(), key=lambda k: k.not_before)]
        return {"development": True, "keys": keys} if self.development else {"keys": keys}

    def save(self) -> None:
        assert self.folder is not None
        private_folder(self.folder)
        path = self.path(self.folder)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.public_set(), ensure_ascii=False, indent=2) + "\n")
        temporary.replace(path)

    # ---- keys ----
    @classmethod
    def create(cls, folder: Path, today: dt.date, development: bool = False) -> Keyring:
        """A new keyring with one active key (`development`: made by `kaseru keys init`)."""
        if cls.path(folder).exists():
            raise KeyringError(f"a key set exists at {cls.path(folder)}")
        ring = cls([], folder, development)
        ring.rotate(today)
        return ring

    def rotate(self, today: dt.date) -> PublicKey:
        """Add a new active key and retire the one in service (it stays in the set)."""
        assert self.folder is not None
        private = Ed25519PrivateKey.generate()
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        kid = secrets.token_hex(2)
        while kid in self.keys:
            kid = secrets.token_hex(2)
        for old in list(self.keys.values()):
            if old.status is KeyStatus.ACTIVE:
                self.keys[old.kid] = replace(
                    old, status=KeyStatus.RETIRED, not_after=today.isoformat()
                )
        key = PublicKey(kid=kid, public_key=_b64(raw), not_before=today.isoformat())
        self.keys[kid] = key
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_private(self.folder / f"qr-{kid}.pem", pem, replace=False)
        self._private[kid] = private
        self.save()
        return key

    def compromise(
        self, kid: str, since: dt.date | None = None, today: dt.date | None = None
    ) -> PublicKey:
        """Mark a key compromised (from `since`, default: from its first day). Its
        signatures are refused from then on; an active key must be replaced by rotation.
        A key still in service ends `today` (the registry's day, KASERU_TODAY)."""
        key = self.keys.get(kid)
        if key is None:
            raise KeyringError(f"no key {kid!r} in the set")
        day = (since or dt.date.fromisoformat(key.not_before)).isoformat()
        self.keys[kid] = replace(
            key,
            status=KeyStatus.COMPROMISED,
            compromised_since=day,
            not_after=key.not_after or (today or dt.date.today()).isoformat(),
        )
        self.save()
        return self.keys[kid]

    def active(self) -> tuple[PublicKey, Ed25519PrivateKey]:
        """The key in service and its private half."""
        for key in self.keys.values():
            if key.status is KeyStatus.ACTIVE:
                if key.kid not in self._private:
                    assert self.folder is not None
                    path = self.folder / f"qr-{key.kid}.pem"
                    if not path.exists():
                        raise KeyringError(f"the private key of {key.kid} is not at {path}")
                    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
                    if not isinstance(private, Ed25519PrivateKey):
                        raise KeyringError(f"{path} is not an Ed25519 key")
                    self._private[key.kid] = private
                return key, self._private[key.kid]
        raise KeyringError("no active key: run `kaseru keys rotate`")
