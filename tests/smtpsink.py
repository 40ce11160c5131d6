"""A real SMTP server process for tests (aiosmtpd): each message it accepts is written to
a folder, one file each, before it answers 250. Optionally it requires STARTTLS and a
login, or holds back its answer to a message's end (so a test can kill the client while
it waits) until the test writes "release" to its standard input.

    python -m tests.smtpsink --port 8025 --folder DIR [--hold]
        [--tls-cert PEM --tls-key PEM --user U --password P]

It prints "ready" once it listens, and "holding NAME" when it holds an answer back; it
stops when its standard input closes.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    """Keeps each accepted message as `<n>.eml`; `accepted-<n>` marks it was received."""

    def __init__(self, folder: Path, hold: bool) -> None:
        self.folder = folder
        self.hold = hold
        self.released = threading.Event()
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        name = f"{time.monotonic_ns()}-{self.count}"
        part = self.folder / f".{name}.part"
        part.write_bytes(envelope.original_content or envelope.content)
        part.replace(self.folder / f"{name}.eml")
        if self.hold:
            print(f"holding {name}", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, self.released.wait)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--tls-cert", type=Path)
    parser.add_argument("--tls-key", type=Path)
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    options: dict = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options.update(tls_context=context, require_starttls=True)
    if args.user:

        def authenticate(server, session, envelope, mechanism, data) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and data.login.decode() == args.user
                and data.password.decode() == args.password
            )
            return AuthResult(success=ok, handled=False)

        options.update(authenticator=authenticate, auth_required=True)
    sink = Sink(args.folder, args.hold)
    controller = Controller(sink, hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    print("ready", flush=True)
    try:
        for line in sys.stdin:  # until the test closes our stdin or kills us
            if line.strip() == "release":
                sink.released.set()
    finally:
        sink.released.set()
        controller.stop()


if __name__ == "__main__":
    main()
