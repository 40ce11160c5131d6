"""Permissions (issue 13, finding 7): private keys were written first and restricted to
0600 after; the database, kept documents and outbox letters were 0644 in 0755 folders.
Now each is created owner-only from the start, under the usual umask 022."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry import documents, reminders
from registry.database import Database
from registry.settings import Settings
from signing.files import write_private
from tests import factories as f
from tests.failpoints import Failpoint

KASERU = str(Path(sys.executable).with_name("kaseru"))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems give (022): files 0644 and folders 0755 unless asked."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_database_file_is_owner_only(tmp_path):
    home = tmp_path / "home"
    database = Database(Settings(home=home, env="development"))
    database.migrate()
    f.register_parties(database)  # a write: WAL and shared memory exist now
    database.dispose()
    assert _mode(home) == 0o700
    for path in home.glob("kaseru.db*"):  # the database, and its WAL and shm if any
        assert _mode(path) == 0o600, path


@pytest.mark.usefixtures("parties")
def test_kept_documents_and_letters_are_owner_only(db, settings, maker):
    number = f.issue(db, settings)
    with db.transaction() as session:
        documents.certificate_pdf(session, f.STAFF, maker, number)
    kept = maker.settings.documents_dir
    assert _mode(kept) == 0o700
    [pdf] = kept.glob("*.pdf")
    assert _mode(pdf) == 0o600
    assert _mode(settings.home) == 0o700
    # A reminder letter into the outbox (no e-mail owed, so no SMTP).
    run = reminders.Run(db, maker.settings, dt.date(2025, 10, 16))  # its inspection's day
    run.send(run.scan())
    letters = list(maker.settings.outbox_dir.glob("*.pdf"))
    assert letters and all(_mode(p) == 0o600 for p in letters)
    assert _mode(maker.settings.outbox_dir) == 0o700
    out = documents.write(settings.home / "rendered" / "c.pdf", b"%PDF-1.7")
    assert (_mode(out), _mode(out.parent)) == (0o600, 0o700)


def test_a_key_is_0600_before_it_has_its_name(tmp_path):
    """`kaseru keys init` stopped after writing the signing key's bytes, before the rename
    (failpoint private.written): the bytes are in a 0600 file already, and nothing has the
    key's name yet. (Write-then-chmod had a 0644 key file at that moment.)"""
    home = tmp_path / "home"
    failpoint = Failpoint(tmp_path, "private.written")
    env = {**os.environ, "KASERU_HOME": str(home), **failpoint.environment}
    process = subprocess.Popen(
        [KASERU, "keys", "init"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert failpoint.wait(process)
        [written] = (home / "keys").glob(".signing-key.pem.*.tmp")
        assert _mode(written) == 0o600
        assert b"PRIVATE KEY" in written.read_bytes()
        assert not (home / "keys" / "signing-key.pem").exists()
        assert _mode(home / "keys") == 0o700
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
    # Run to the end: every private key 0600, the public files as usual.
    done = subprocess.run(
        [KASERU, "keys", "init"],
        env={**os.environ, "KASERU_HOME": str(tmp_path / "home2")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    keys = tmp_path / "home2" / "keys"
    private = [keys / "signing-key.pem", *keys.glob("qr-*.pem")]
    assert len(private) == 2 and all(_mode(p) == 0o600 for p in private)
    assert not list(keys.glob(".*.tmp"))
    assert _mode(keys / "root-cert.pem") == 0o644


def test_write_private_never_overwrites_when_asked(tmp_path):
    path = write_private(tmp_path / "k.pem", b"one", replace=False)
    with pytest.raises(FileExistsError):
        write_private(path, b"two", replace=False)
    assert path.read_bytes() == b"one" and not list(tmp_path.glob(".*.tmp"))
    write_private(path, b"three")
    assert path.read_bytes() == b"three" and _mode(path) == 0o600
