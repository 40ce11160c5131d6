"""The test's side of registry/failpoints.py: a named pipe to hear a process stop at a
failpoint, so that the test kills it at that moment and not at one a sleep guessed."""

from __future__ import annotations

import os
import select
import subprocess
from pathlib import Path


class Failpoint:
    """One failpoint for one process: its environment, and the wait for its arrival."""

    def __init__(self, folder: Path, name: str, nth: int = 1) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"failpoint-{name}-{nth}-{os.urandom(4).hex()}.fifo"
        os.mkfifo(self.path)
        # Open before the process starts, so that its open for writing finds a reader.
        self.fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        self.environment = {
            "KASERU_FAILPOINT": f"{name}:{nth}",
            "KASERU_FAILPOINT_FIFO": str(self.path),
        }

    def wait(self, process: subprocess.Popen | None = None, timeout: float = 120) -> bool:
        """True once the process stands at the failpoint; False if it ended without reaching
        it. Blocks on the pipe (a second at a time, to notice a process that exited)."""
        data = b""
        for _ in range(int(timeout)):
            ready, _, _ = select.select([self.fd], [], [], 1.0)
            if ready:
                chunk = os.read(self.fd, 4096)
                data += chunk
                if data.endswith(b"\n"):
                    return True
            if process is not None and process.poll() is not None:
                return False
        raise AssertionError(f"no process reached {self.environment['KASERU_FAILPOINT']}")

    def close(self) -> None:
        os.close(self.fd)
        self.path.unlink(missing_ok=True)
