"""`kaseru serve` as a real process for tests and benchmarks: started in a session of its
own, so that it and its granian workers can be killed together (SIGKILL, as a crash)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.mailbox import free_port


class Server:
    """One `kaseru serve` process group on a free port of 127.0.0.1."""

    def __init__(
        self,
        environment: dict[str, str],
        log: Path,
        workers: int = 1,
        public_url: str | None = None,
    ) -> None:
        self.environment = environment
        self.log = log
        self.workers = workers
        self.public_url = public_url
        """KASERU_PUBLIC_URL (default: the server's own loopback address)."""
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        script = Path(sys.executable).with_name("kaseru")
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [str(script), "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env={**self.environment, "KASERU_PUBLIC_URL": self.public_url or self.url},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=1)
                return self
            except OSError:
                if self.process.poll() is not None:
                    break
                # A poll: granian's workers give no signal of their own once they accept.
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("kaseru serve did not start: " + self.log.read_text()[-2000:])

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown code runs anywhere."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()
        self.process = None


def environment(settings) -> dict[str, str]:
    """The process environment for a server over the test's database and keys."""
    values = {
        **os.environ,
        "DATABASE_URL": settings.url,
        "KASERU_HOME": str(settings.home),
        "KASERU_ENV": settings.env,
        "KASERU_TODAY": settings.current_date().isoformat(),
        "KASERU_RATE_LIMIT": str(settings.rate_limit),
        "KASERU_CODE_FAILURES_PER_DAY": str(settings.code_failures_per_day),
    }
    for name, value in (
        ("KASERU_KEYRING", settings.keyring),
        ("KASERU_ROOT_CERT", settings.root_cert),
        ("KASERU_SIGNING_KEY", settings.signing_key),
        ("KASERU_SIGNING_CERT", settings.signing_cert),
    ):
        if value is not None:
            values[name] = str(value)
    return values
