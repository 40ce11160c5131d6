"""A real SMTP server process (tests/smtpsink.py) for a test, and what it received."""

from __future__ import annotations

import datetime as dt
import ipaddress
import select
import socket
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """An SMTP server process on 127.0.0.1 that keeps every message it accepts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = 0
        self.process: subprocess.Popen[str] | None = None

    free_port = staticmethod(free_port)

    def start(
        self,
        hold: bool = False,
        tls: tuple[Path, Path] | None = None,
        login: tuple[str, str] | None = None,
    ) -> Mailbox:
        self.port = free_port()
        command = [sys.executable, "-m", "tests.smtpsink", "--port", str(self.port)]
        command += ["--folder", str(self.folder)] + (["--hold"] if hold else [])
        if tls:
            command += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
        if login:
            command += ["--user", login[0], "--password", login[1]]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent.parent,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the SMTP sink did not start: {line!r}")
        return self

    def messages(self) -> list[bytes]:
        """The messages accepted so far, oldest first."""
        if not self.folder.exists():
            return []
        return [p.read_bytes() for p in sorted(self.folder.glob("*.eml"))]

    def wait_holding(self) -> str:
        """Block until the server holds back its answer to a message (started with
        `hold=True`); the message's name. The server's own words, not a guess of time."""
        assert self.process is not None and self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 120)
        assert ready, "the SMTP sink held back no answer within 120 s"
        line = self.process.stdout.readline()
        assert line.startswith("holding "), line
        return line.split()[1]

    def release(self) -> None:
        """Let the server answer what it holds back."""
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write("release\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            if self.process.stdout:
                self.process.stdout.close()
            if self.process.stdin:
                self.process.stdin.close()
            self.process = None


def tls_files(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
