"""`kaseru serve` as a process for the benches that load it over HTTP (enumeration,
endorsement_timing): on a free port of 127.0.0.1, in a session of its own so that its
workers stop with it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def served(kaseru: str, environment: dict[str, str], log: Path, workers: int = 1) -> Iterator[str]:
    """Serve, wait until /healthz answers, yield the base URL; stop on leaving."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        server = subprocess.Popen(
            [kaseru, "serve", "--port", str(port), "--workers", str(workers)],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)  # a poll: the server gives no other sign that it listens
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
