"""Files and folders only their owner may open: private keys, the code secret, the
registry's database and kept documents (docs/production.md, "Setting one up").

A file is created with its mode (0600) by `os.open` itself, never written first and
restricted after: between the two another user could open it, and an open descriptor
outlives a later chmod. It is written under a hidden temporary name and renamed, so a
crash leaves no half-written key under the real name.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from signing import failpoints

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def private_folder(path: Path) -> Path:
    """Create `path` (and each missing parent) readable by its owner only (0700). Folders
    that exist already keep their mode."""
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made by another process meanwhile
            folder.mkdir(mode=PRIVATE_FOLDER)
    return path


def write_private(path: Path, data: bytes, *, replace: bool = True) -> Path:
    """Write `data` to `path` as a file only its owner may read (0600 from its creation).
    With replace=False an existing file is an error (FileExistsError), never overwritten."""
    private_folder(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        failpoints.reached("private.written")  # written, 0600, not yet under its name
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails, changing nothing, when `path` exists
    finally:
        with contextlib.suppress(FileNotFoundError):  # renamed already, or never written
            temporary.unlink()
    return path


def create_private(path: Path) -> None:
    """Create `path` empty and 0600 unless it exists (e.g. an SQLite database file, whose
    WAL and shared-memory files SQLite then creates with the same mode)."""
    private_folder(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def write_new_private(path: Path, data: bytes) -> Path:
    """Write `data` into a new file `path` (0600 from its creation; FileExistsError when it
    exists), for a file that has a temporary name of its own already."""
    private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    return path
