"""Waiting for something another process does, where it offers no signal but a state to
look at (a row in pg_stat_activity, a port that answers): look again until it holds, up
to a limit far beyond any machine's slowness. Where the code under test can announce a
moment itself, tests wait for that instead (signing/failpoints.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

# Between two looks: short enough not to slow a test, long enough not to spin a core.
INTERVAL = 0.01


def wait_until(condition: Callable[[], object], what: str, timeout: float = 120.0) -> None:
    """Return once `condition()` is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(INTERVAL)  # a poll: the state has no signal to wait on
