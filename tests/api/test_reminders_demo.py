"""Issue 7's "done when": on the demo registry, `kaseru reminders run --as-of 2031-06-01
--send` twice sends each reminder once (a real SMTP server process counts)."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.mailbox import Mailbox

ROOT = Path(__file__).parent.parent.parent


def _kaseru(environment, *arguments):
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", *arguments],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_demo_registrys_reminders_go_out_once(settings, tmp_path):
    box = Mailbox(tmp_path / "mailbox").start()
    try:
        environment = {
            **os.environ,
            "KASERU_HOME": str(tmp_path / "home"),
            "DATABASE_URL": settings.url,
            "KASERU_SMTP_HOST": "127.0.0.1",
            "KASERU_SMTP_PORT": str(box.port),
            "KASERU_TODAY": settings.current_date().isoformat(),  # the demo's dates from it
        }
        _kaseru(environment, "demo", "--out", str(tmp_path / "out"))
        dry = _kaseru(environment, "reminders", "run", "--as-of", "2031-06-01", "--json")
        owed = [json.loads(line) for line in dry.splitlines()]
        assert owed and {r["state"] for r in owed} == {"would_send"}
        emails = sum(1 for r in owed if r["channel"] == "letter+email")
        assert 0 < emails < len(owed)  # some owners gave an address, some did not
        assert box.messages() == []  # a dry run sends nothing
        runs = [
            [
                json.loads(line)
                for line in _kaseru(
                    environment, "reminders", "run", "--as-of", "2031-06-01", "--send", "--json"
                ).splitlines()
            ]
            for _ in range(2)
        ]
        assert [(r["number"], r["stage"]) for r in runs[0]] == [
            (r["number"], r["stage"]) for r in owed
        ]
        assert {r["state"] for r in runs[0]} == {"sent"} and runs[1] == []
        received = Counter(email.message_from_bytes(m)["X-Kaseru-Reminder"] for m in box.messages())
        assert len(received) == emails and set(received.values()) == {1}
        letters = list((tmp_path / "home" / "outbox").glob("reminder-*.pdf"))
        assert len(letters) == len(owed)
    finally:
        box.stop()
