"""What every route works with, made once per application: the database, the settings, the
document maker (made on first use: loading the signing keys costs), the public key set and
the bounds on PDF verification. Handlers take it as their `context` parameter."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from api.pdfslots import PdfSlots
from api.ratelimit import Network, client_address, networks
from registry import documents
from registry.database import Database
from registry.settings import Settings
from signing.keyring import Keyring

PDF = "application/pdf"


class KeyringCache:
    """The public key set, re-read when its file changes (a compromise takes effect at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._ring: Keyring | None = None

    def get(self) -> Keyring:
        """The key set as its file holds it now."""
        stamp = self.path.stat().st_mtime
        if self._ring is None or stamp != self._stamp:
            self._ring, self._stamp = Keyring.load(self.path), stamp
        return self._ring


@dataclass
class Context:
    """One registry's database and settings, and what the routes make from them."""

    database: Database
    settings: Settings
    trusted: tuple[Network, ...] = ()
    keys: KeyringCache = field(init=False)
    pdf_slots: PdfSlots = field(init=False)
    root: Path = field(init=False)
    _makers: list[documents.DocumentMaker] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.trusted = networks(self.settings.trusted_proxies)
        self.keys = KeyringCache(documents.keyring_path(self.settings))
        self.pdf_slots = PdfSlots(self.settings.pdf_verifications, self.settings.pdf_verify_seconds)
        self.root = documents.pki_files(self.settings).root

    def maker(self) -> documents.DocumentMaker:
        """The document maker, made on first use."""
        if not self._makers:
            self._makers.append(documents.DocumentMaker(self.settings))
        return self._makers[0]

    def address_of(self, request: Request[Any, Any, Any]) -> str:
        """The client's address, as the rate limit sees it (`address_of`)."""
        return address_of(request, self.trusted)

    def provide(self) -> Provide:
        """The app-level dependency giving handlers this context as `context`."""

        def context() -> Context:
            return self

        return Provide(context, sync_to_thread=False, use_cache=True)


def address_of(request: Request[Any, Any, Any], trusted: tuple[Network, ...]) -> str:
    """The client's address, as the rate limit sees it (behind trusted proxies, the one
    they forwarded): the key of the per-address guessing budgets (docs/codes.md)."""
    return client_address(dict(request.scope), trusted)


def attachment(filename: str) -> dict[str, str]:
    """The headers of a PDF answered as a download named `filename`."""
    return {"content-disposition": f'attachment; filename="{filename}"'}


ContextDependency = NamedDependency[SkipValidation[Context]]
"""A handler's `context` parameter: given by the app, taken as it is (not validated)."""
