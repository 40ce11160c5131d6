"""What a registry outside development mode refuses to run with (issue 13;
docs/production.md).

The development values are public: the code secret is a constant in this source, so with
it anyone computes every certificate's 照会コード and every endorsement's code; the keys
`kaseru keys init` makes say "development" in what they sign; a loopback public URL puts
links into QR codes that open nothing on a phone. Outside development mode (KASERU_ENV,
registry/settings.py) `kaseru serve`, issuing and rendering therefore stop with one line
naming each problem, before they serve or write anything.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import stat
from pathlib import Path
from urllib.parse import urlsplit

from registry.errors import DomainError
from registry.keys import keyring_path, pki_files
from registry.settings import CODE_SECRET_FILE, DEVELOPMENT_CODE_SECRET, Settings
from signing.keyring import Keyring, KeyringError
from signing.pki import is_development

MIN_SECRET_BYTES = 32
"""A code secret is at least this many random bytes, given as hex or base64."""
_HEX = re.compile(r"[0-9a-fA-F]+")


class NotForProduction(DomainError):
    """The settings hold development secrets, keys or URL outside development mode."""


def secret_bytes(text: str) -> bytes | None:
    """The bytes a code secret stands for: hex (an even number of hex digits) or base64
    (standard or URL-safe, padding optional); None when it is neither."""
    text = text.strip()
    if _HEX.fullmatch(text) and len(text) % 2 == 0:
        return bytes.fromhex(text)
    try:
        normal = text.replace("-", "+").replace("_", "/")
        return base64.b64decode(normal + "=" * (-len(normal) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _secret_problem(settings: Settings) -> str | None:
    secret = settings.code_secret
    if not secret:
        return f"KASERU_CODE_SECRET is not set (nor is $KASERU_HOME/{CODE_SECRET_FILE})"
    if secret == DEVELOPMENT_CODE_SECRET:
        return "KASERU_CODE_SECRET is the development value, which is in the public source"
    raw = secret_bytes(secret)
    if raw is None:
        return "KASERU_CODE_SECRET is neither hex nor base64"
    if len(raw) < MIN_SECRET_BYTES:
        return (
            f"KASERU_CODE_SECRET is {len(raw)} bytes; it needs at least {MIN_SECRET_BYTES} "
            "random bytes (hex or base64)"
        )
    return None


def loopback(url: str) -> bool:
    """Whether `url`'s host is this machine (127.0.0.0/8, ::1, localhost, 0.0.0.0)."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _url_problem(settings: Settings) -> str | None:
    url = settings.public_url
    if not url:
        return "KASERU_PUBLIC_URL is not set (the links in QR codes start with it)"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"KASERU_PUBLIC_URL {url!r} is not an http(s) URL"
    if loopback(url):
        return f"KASERU_PUBLIC_URL {url} is this machine (loopback): phones cannot open it"
    return None


def _open_to_others(path: Path) -> str | None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return f"{path} can be read by others (mode {mode:04o}; chmod 600 it)"
    return None


def _key_problems(settings: Settings) -> list[str]:
    found = []
    files = pki_files(settings)
    if not files.exist():
        found.append(f"no document-signing key and certificates at {files.key.parent}")
    elif is_development(files):
        found.append(
            f"the document-signing keys at {files.key.parent} are development keys "
            "(kaseru keys init)"
        )
    elif problem := _open_to_others(files.key):
        found.append(problem)
    ring_path = keyring_path(settings)
    try:
        ring = Keyring.load(ring_path)
    except KeyringError as error:
        found.append(str(error))
    else:
        if ring.development:
            found.append(f"the QR key set {ring_path} is a development set (kaseru keys init)")
        found.extend(
            problem
            for private in sorted(ring_path.parent.glob("qr-*.pem"))
            if (problem := _open_to_others(private))
        )
    return found


def problems(settings: Settings) -> list[str]:
    """Each reason the settings are not fit for production (none in development mode)."""
    if settings.development:
        return []
    found = [p for p in (_secret_problem(settings), _url_problem(settings)) if p]
    secret_file = settings.home / CODE_SECRET_FILE
    if secret_file.exists() and (problem := _open_to_others(secret_file)):
        found.append(problem)
    return found + _key_problems(settings)


def require(settings: Settings, doing: str) -> None:
    """Refuse `doing` (e.g. "serve") outside development mode while `problems` finds any:
    one line naming them all."""
    found = problems(settings)
    if found:
        raise NotForProduction(
            f"refusing to {doing} outside development mode: {'; '.join(found)} "
            "(docs/production.md; KASERU_ENV=development for a demo)"
        )
