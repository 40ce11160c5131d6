"""Where the registry's signing keys lie: the document-signing key and certificates, and
the QR key set, as the settings name them (default: $KASERU_HOME/keys).

Both the documents, which sign with them, and the production checks, which refuse
development keys before anything is signed, read the paths from here.
"""

from __future__ import annotations

from pathlib import Path

from registry.settings import Settings
from signing.keyring import Keyring
from signing.pki import PkiFiles


def pki_files(settings: Settings) -> PkiFiles:
    """The signing key and certificates named in settings (default: $KASERU_HOME/keys)."""
    default = PkiFiles.in_folder(settings.keys_dir)
    return PkiFiles(
        settings.signing_key or default.key,
        settings.signing_cert or default.certificate,
        settings.root_cert or default.root,
    )


def keyring_path(settings: Settings) -> Path:
    """The QR keys' public set (KASERU_KEYRING, default $KASERU_HOME/keys/keyring.json); the
    private keys lie beside it."""
    return settings.keyring or Keyring.path(settings.keys_dir)
