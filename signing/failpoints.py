"""Failpoints: named moments at which a test stops a real `kaseru` process, exactly there.

Crash and race tests SIGKILL real processes (`kaseru serve`, `kaseru reminders run`) and
check what survives. Killing them after a sleep lands anywhere, depending on the machine's
speed; a failpoint lands where the test asks. With

    KASERU_FAILPOINT=NAME:N   KASERU_FAILPOINT_FIFO=PATH

the process, the N-th time it reaches `reached(NAME)`, writes "NAME PID" to the named pipe
PATH (which the test holds open for reading) and then waits there for ever, holding
whatever it holds (locks, an open transaction, an SMTP message without its "." line),
until the test kills it. Without those variables `reached` costs one dictionary lookup.
The names are listed where they are reached (`grep -rn 'failpoints.reached'`).

It sits in the lowest layer (docs/architecture.md, "Packages and arrows") because every
layer names moments, signing/files.py's private write too, and it imports only the
standard library.
"""

from __future__ import annotations

import os
import threading

_counts: dict[str, int] = {}
_lock = threading.Lock()


def reached(name: str) -> None:
    """Announce and stop here if the environment asks for the N-th arrival at `name`."""
    wanted = os.environ.get("KASERU_FAILPOINT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        if _counts[name] != int(nth or 1):
            return
    with open(os.environ["KASERU_FAILPOINT_FIFO"], "w") as fifo:
        fifo.write(f"{name} {os.getpid()}\n")
    threading.Event().wait()  # until the test's SIGKILL
