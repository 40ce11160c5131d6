"""`kaseru reminders run` as a real process against a real SMTP server process: killed with
SIGKILL part-way and run again, it sends each reminder at most once, and loses one only
when the kill falls between its claim and the end of its message."""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests import factories as f
from tests.failpoints import Failpoint
from tests.mailbox import Mailbox

pytestmark = pytest.mark.usefixtures("parties")

ROOT = Path(__file__).parent.parent.parent
AS_OF = "2025-11-01"  # 16 days after the specimen's 10-year date: stage "due"


@pytest.fixture
def mailbox(tmp_path):
    box = Mailbox(tmp_path / "mailbox")
    yield box
    box.stop()


def _environment(settings, maker, mailbox) -> dict[str, str]:
    s = maker.settings
    return {
        **os.environ,
        "KASERU_HOME": str(settings.home),
        "DATABASE_URL": settings.url,
        "KASERU_SIGNING_KEY": str(s.signing_key),
        "KASERU_SIGNING_CERT": str(s.signing_cert),
        "KASERU_ROOT_CERT": str(s.root_cert),
        "KASERU_KEYRING": str(s.keyring),
        "KASERU_SMTP_HOST": "127.0.0.1",
        "KASERU_SMTP_PORT": str(mailbox.port),
        "KASERU_TODAY": AS_OF,
    }


def _start(environment) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "reminders", "run", "--as-of", AS_OF, "--send", "--json"],
        env=environment,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(environment) -> list[dict]:
    run = _start(environment)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]


def _killed_at(environment, folder, point: str, nth: int) -> None:
    """Run, and SIGKILL the run when it stands at the failpoint (signing/failpoints.py)."""
    failpoint = Failpoint(folder, point, nth)
    try:
        run = _start({**environment, **failpoint.environment})
        assert failpoint.wait(run), f"the run ended before {point} {nth}"
        run.send_signal(signal.SIGKILL)
        run.communicate(timeout=30)
    finally:
        failpoint.close()


def _received(mailbox) -> Counter[str]:
    return Counter(email.message_from_bytes(m)["X-Kaseru-Reminder"] for m in mailbox.messages())


def _certificates(db, settings, count) -> dict[str, str | None]:
    """`count` certificates; two in three owners have an e-mail address."""
    owners = {}
    for n in range(count):
        address = f"owner{n}@example.jp" if n % 3 else None
        number = f.issue(db, settings, house=f.house(lot=f"{n:02d}"), owner_email=address)
        owners[number] = address
    return owners


def test_killed_runs_then_a_rerun_send_each_reminder_at_most_once(
    db, settings, maker, mailbox, tmp_path
):
    """Three runs killed at the three kinds of moment, then one that finishes:
    - before the claim, with the message's data at the server: nothing delivered, nothing
      claimed, so a later run sends it;
    - after the claim, before the "." line: claimed but never delivered, the one way to
      lose a reminder, and the next run lists it as unconfirmed;
    - after the server's 250, before the run marks it sent: delivered once, unconfirmed."""
    owners = _certificates(db, settings, 24)
    emailed = {f"{n} 2025-10-16 due" for n, address in owners.items() if address}
    assert len(emailed) == 16
    environment = _environment(settings, maker, mailbox.start())

    _killed_at(environment, tmp_path, "reminder.prepared", 3)
    assert len(mailbox.messages()) == 2  # the third's data reached the server, not its "."
    _killed_at(environment, tmp_path, "reminder.delivering", 2)
    assert len(mailbox.messages()) == 3  # the second of this run is claimed, never delivered
    _killed_at(environment, tmp_path, "reminder.delivered", 3)
    assert len(mailbox.messages()) == 6  # all three delivered, the last not marked sent
    earlier = {key.split()[0] for key in _received(mailbox)}

    final = _finish(environment)
    received = _received(mailbox)
    assert max(received.values()) == 1  # never twice
    assert set(received) <= emailed
    lost = emailed - set(received)
    assert len(lost) == 1  # the one killed between its claim and its "."
    unconfirmed = {r["number"] for r in final if r["state"] == "unconfirmed"}
    assert len(unconfirmed) == 2  # that one, and the one delivered but not marked sent
    assert {key.split()[0] for key in lost} < unconfirmed
    assert len(received) == 15
    assert {r["number"] for r in final if r["state"] == "sent"}.isdisjoint(earlier)
    letters = {p.name.split("-")[1] for p in (settings.home / "outbox").glob("reminder-*.pdf")}
    assert set(owners) - letters <= unconfirmed
    # A last run finds nothing left to send.
    assert [r for r in _finish(environment) if r["state"] != "unconfirmed"] == []
    assert _received(mailbox) == received


def test_a_run_killed_waiting_for_the_servers_answer_is_not_sent_again(
    db, settings, maker, mailbox
):
    number = f.issue(db, settings, owner_email="owner@example.jp")
    environment = _environment(settings, maker, mailbox.start(hold=True))
    run = _start(environment)
    # The server has the whole message and holds back its 250: the claim is committed.
    mailbox.wait_holding()
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=30)
    mailbox.release()
    final = _finish(environment)
    assert [(r["number"], r["state"]) for r in final] == [(number, "unconfirmed")]
    assert _received(mailbox) == {f"{number} 2025-10-16 due": 1}
    assert (settings.home / "outbox" / f"reminder-{number}-2025-10-16-due.pdf").exists()


def test_two_processes_at_once_send_each_reminder_once(db, settings, maker, mailbox):
    owners = _certificates(db, settings, 12)
    environment = _environment(settings, maker, mailbox.start())
    runs = [_start(environment) for _ in range(2)]
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        outputs += [json.loads(line) for line in out.splitlines()]
    states = Counter(r["state"] for r in outputs)
    assert states["sent"] == 12 and set(states) <= {"sent", "taken", "unconfirmed"}, states
    # A run that scans while the other holds a claim it has not yet marked sent cannot tell
    # it from a crashed run's, and says "unconfirmed" (found in 1 of 5 runs): each such
    # reminder is one the other run sent.
    sent = {r["number"] for r in outputs if r["state"] == "sent"}
    assert {r["number"] for r in outputs if r["state"] != "sent"} <= sent
    received = _received(mailbox)
    assert set(received.values()) == {1}
    assert len(received) == sum(1 for a in owners.values() if a)


def test_the_command_explains_a_missing_smtp_server_in_one_line(db, settings, maker, mailbox):
    f.issue(db, settings, owner_email="owner@example.jp")
    environment = _environment(settings, maker, mailbox)
    environment["KASERU_SMTP_HOST"] = ""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "reminders", "run", "--as-of", AS_OF, "--send"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "kaseru: error: e-mail: KASERU_SMTP_HOST is not set, so no e-mail can be sent"
    ]
    dry = subprocess.run(
        [sys.executable, "-m", "api.cli", "reminders", "run", "--as-of", AS_OF],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dry.returncode == 0
    # The dry run needs no SMTP server.
    assert f"dry run as of {AS_OF}: 1 to send (1 letters, 1 e-mails)" in dry.stdout
