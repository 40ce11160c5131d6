"""Inspection reminders: which are owed on a day, the letter and the e-mail, each sent once,
through a real SMTP server process (tests/smtpsink.py), with STARTTLS and a login too."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import socket
import threading
from email import policy

import pytest

from registry import reminders, services, verification
from registry.errors import DomainError
from registry.mail import MailError
from registry.models import Reminder
from registry.verification import verification_code
from tests import factories as f
from tests import pdf as look
from tests.mailbox import Mailbox, tls_files

pytestmark = pytest.mark.usefixtures("parties")

DUE = dt.date(2025, 10, 16)  # the specimen house's 10-year inspection


def _issue(db, settings, lot="01", email_address=None):
    return f.issue(db, settings, house=f.house(lot=lot), owner_email=email_address)


def _scan(db, settings, as_of):
    with db.reading() as session:
        return reminders.scan(session, settings, as_of)


@pytest.mark.parametrize(
    ("as_of", "stage"),
    [
        (DUE - dt.timedelta(days=181), None),
        (DUE - dt.timedelta(days=180), "coming_180"),
        (DUE - dt.timedelta(days=61), "coming_180"),
        (DUE - dt.timedelta(days=60), "coming_60"),
        (DUE, "due"),
        (DUE + dt.timedelta(days=29), "due"),
        (DUE + dt.timedelta(days=30), "overdue_30"),
        (DUE + dt.timedelta(days=180), "overdue_180"),
        (DUE + dt.timedelta(days=800), "overdue_180"),
    ],
)
def test_the_stage_reached_on_a_day(db, settings, as_of, stage):
    number = _issue(db, settings)
    found = _scan(db, settings, as_of)
    assert [(r.number, r.stage, r.due_date) for r in found.owed] == (
        [(number, stage, DUE)] if stage else []
    )


def test_the_latest_open_date_counts_and_inspected_ones_do_not(db, settings):
    number = _issue(db, settings)
    # 2025 missed; on 2030-06-01 the 15-year date (2030-10-16) is 137 days ahead.
    found = _scan(db, settings, dt.date(2030, 6, 1))
    assert [(r.stage, r.due_date) for r in found.owed] == [("coming_180", dt.date(2030, 10, 16))]
    with db.transaction() as session:
        services.record_inspection(session, f.STAFF, settings, f.inspection(number))
    assert [r.due_date for r in _scan(db, settings, dt.date(2026, 1, 1)).owed] == []


def test_revoked_and_expired_certificates_get_no_reminders(db, settings):
    revoked = _issue(db, settings, lot="01")
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, revoked, "test")
    assert _scan(db, settings, DUE).owed == []
    # Valid until 2065-10-16, the day of its last plan date: reminded up to then, not after.
    _issue(db, settings, lot="02")
    assert [r.stage for r in _scan(db, settings, dt.date(2065, 10, 16)).owed] == ["due"]
    assert _scan(db, settings, dt.date(2065, 10, 17)).owed == []


def test_stages_come_from_the_settings(db, settings):
    _issue(db, settings)
    custom = dataclasses.replace(settings, reminder_stages=(-30, 7))
    assert _scan(db, custom, DUE - dt.timedelta(days=31)).owed == []
    assert [r.stage for r in _scan(db, custom, DUE).owed] == ["coming_30"]
    assert [r.stage for r in _scan(db, custom, DUE + dt.timedelta(days=7)).owed] == ["overdue_7"]


@pytest.fixture
def mailbox(tmp_path):
    box = Mailbox(tmp_path / "mailbox")
    yield box
    box.stop()


def _mail(maker, box, **more):
    return dataclasses.replace(
        maker.settings, smtp_host="127.0.0.1", smtp_port=box.port, outbox=None, **more
    )


def test_a_run_sends_each_reminder_once_by_letter_and_e_mail(db, maker, mailbox):
    settings = _mail(maker, mailbox.start())
    with_email = _issue(db, settings, lot="01", email_address="owner01@example.jp")
    letter_only = _issue(db, settings, lot="02")
    as_of = DUE + dt.timedelta(days=30)
    first = reminders.Run(db, settings, as_of, lambda: maker)
    outcomes = first.send(first.scan())
    assert sorted((o.reminder.number, o.state) for o in outcomes) == [
        (with_email, "sent"),
        (letter_only, "sent"),
    ]
    again = reminders.Run(db, settings, as_of, lambda: maker)
    assert again.send(again.scan()) == []
    messages = mailbox.messages()
    assert len(messages) == 1
    letters = sorted(settings.outbox_dir.glob("*.pdf"))
    assert [p.name for p in letters] == sorted(
        f"reminder-{n}-2025-10-16-overdue_30.pdf" for n in (with_email, letter_only)
    )
    assert not list(settings.outbox_dir.glob(".*"))  # no half-written files left
    # The e-mail: Japanese, to the owner, the signed letter attached.
    mail = email.message_from_bytes(messages[0], policy=policy.default)
    assert mail["To"] == "owner01@example.jp"
    assert mail["Subject"] == f"【点検時期を過ぎています】適合住宅番号 {with_email}"
    body = mail.get_body(("plain",)).get_content()
    assert "山本 一郎 様" in body and "2025年10月16日" in body and "築10年点検" in body
    (attachment,) = list(mail.iter_attachments())
    pdf = attachment.get_content()
    assert "Signature is Valid" in look.poppler("pdfsig", pdf)
    assert with_email in look.text(pdf) and "点検時期を過ぎています" in look.text(pdf)
    with db.reading() as session:
        page = reminders.sent(session, f.STAFF)
    rows = page.items
    assert page.total == 2 and {r["state"] for r in rows} == {"sent"}
    assert {r["email_result"] for r in rows} == {None, "250 Message accepted for delivery"}


def test_no_smtp_server_set_refuses_before_anything_is_sent(db, maker):
    settings = dataclasses.replace(maker.settings, smtp_host="")
    _issue(db, settings, email_address="owner@example.jp")
    run = reminders.Run(db, settings, DUE, lambda: maker)
    with pytest.raises(MailError, match="KASERU_SMTP_HOST is not set"):
        run.send(run.scan())
    assert f.count(db, Reminder) == 0
    assert not settings.outbox_dir.exists() or not any(settings.outbox_dir.iterdir())


def test_an_unreachable_server_stops_the_run_and_claims_nothing(db, maker, mailbox):
    port = mailbox.free_port()  # nobody listens there
    settings = dataclasses.replace(maker.settings, smtp_host="127.0.0.1", smtp_port=port)
    _issue(db, settings, email_address="owner@example.jp")
    run = reminders.Run(db, settings, DUE, lambda: maker)
    with pytest.raises(DomainError, match="cannot talk to the SMTP server"):
        run.send(run.scan())
    assert f.count(db, Reminder) == 0
    assert not any(settings.outbox_dir.iterdir())
    assert [r.stage for r in run.scan().owed] == ["due"]  # the next run sends it


def test_starttls_and_login(db, maker, mailbox, tmp_path):
    cert, key = tls_files(tmp_path / "tls")
    mailbox.start(tls=(cert, key), login=("kaseru", "s3cret"))
    settings = _mail(
        maker,
        mailbox,
        smtp_starttls=True,
        smtp_cafile=cert,
        smtp_user="kaseru",
        smtp_password="s3cret",
    )
    _issue(db, settings, email_address="owner@example.jp")
    run = reminders.Run(db, settings, DUE, lambda: maker)
    assert [o.state for o in run.send(run.scan())] == ["sent"]
    assert len(mailbox.messages()) == 1
    # A wrong password is named, and nothing is claimed.
    _issue(db, settings, lot="02", email_address="owner2@example.jp")
    wrong = dataclasses.replace(settings, smtp_password="nope")
    run = reminders.Run(db, wrong, DUE, lambda: maker)
    with pytest.raises(MailError, match="refused the login of 'kaseru'"):
        run.send(run.scan())
    assert f.count(db, Reminder) == 1 and len(mailbox.messages()) == 1


def test_a_login_without_tls_is_refused_before_connecting(db, maker):
    """Found by the review: with KASERU_SMTP_USER set and KASERU_SMTP_STARTTLS off, the
    password went to the server in the clear. Now the run refuses before it connects: a
    real listening socket hears no connection, and nothing is claimed or written."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        settings = dataclasses.replace(
            maker.settings,
            smtp_host="127.0.0.1",
            smtp_port=listener.getsockname()[1],
            smtp_user="kaseru",
            smtp_password="s3cret",
            outbox=None,
        )
        _issue(db, settings, email_address="owner@example.jp")
        run = reminders.Run(db, settings, DUE, lambda: maker)
        with pytest.raises(MailError) as refused:
            run.send(run.scan())
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    assert refused.value.message == (
        "e-mail: KASERU_SMTP_USER is set but KASERU_SMTP_STARTTLS is not: the login would "
        "be sent without TLS; set KASERU_SMTP_STARTTLS=1"
    )
    assert f.count(db, Reminder) == 0
    assert not settings.outbox_dir.exists() or not any(settings.outbox_dir.iterdir())


def test_two_runs_at_once_send_each_reminder_once(db, maker, mailbox):
    settings = _mail(maker, mailbox.start())
    numbers = [
        _issue(db, settings, lot=f"{n:02d}", email_address=f"o{n}@example.jp") for n in range(8)
    ]
    runs = [reminders.Run(db, settings, DUE, lambda: maker) for _ in range(2)]
    found = [run.scan() for run in runs]  # both see all eight owed
    assert all(len(scan.owed) == 8 for scan in found)
    results: list[list[reminders.Outcome]] = [[], []]
    errors: list[BaseException] = []

    def go(i: int) -> None:
        try:
            # Each run renders with a maker of its own, as two processes would.
            results[i] = reminders.Run(db, settings, DUE, lambda: type(maker)(maker.settings)).send(
                found[i]
            )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    states = [o.state for outcome in results for o in outcome]
    assert states.count("sent") == 8 and states.count("taken") == 8
    received = [email.message_from_bytes(m)["X-Kaseru-Reminder"] for m in mailbox.messages()]
    assert sorted(received) == sorted(f"{n} 2025-10-16 due" for n in numbers)
    assert len(list(settings.outbox_dir.glob("*.pdf"))) == 8


def test_overdue_past_the_grace_shows_in_verification_until_an_inspection(db, settings, capsys):
    from api.cli import main

    number = _issue(db, settings)
    grace_end = DUE + dt.timedelta(days=settings.grace_days)

    def seen_on(day):
        on_day = dataclasses.replace(settings, today=day)
        with db.reading() as session:
            issue_number = services.certificate_view(
                session, on_day, services.find_certificate(session, f.STAFF, number)
            )["issue_number"]
            code = verification_code(settings.code_secret, number, issue_number)
            return verification.by_code(session, on_day, number, code)

    assert seen_on(grace_end)["standing"] == "due"
    late = seen_on(grace_end + dt.timedelta(days=1))
    assert late["standing"] == "overdue" and late["overdue_since"] == "2025-10-16"
    # Recording the inspection from the command line restores it.
    code = main(
        [
            "inspections",
            "record",
            number,
            "--db",
            settings.url,
            "--on",
            "2026-11-01",
            "--inspector",
            "検査員 大野",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert "standing up_to_date" in capsys.readouterr().out
    assert seen_on(grace_end + dt.timedelta(days=1))["standing"] == "up_to_date"


def test_a_run_sweeps_letters_that_a_killed_run_left_half_made(db, maker, mailbox):
    import os
    import time

    settings = _mail(maker, mailbox.start())
    outbox = settings.outbox_dir
    outbox.mkdir(parents=True)
    stale, fresh = outbox / ".reminder-old.pdf.dead.part", outbox / ".reminder-new.pdf.live.part"
    for part in (stale, fresh):
        part.write_bytes(b"%PDF-")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    run = reminders.Run(db, settings, DUE, lambda: maker)
    run.send(run.scan())
    assert not stale.exists() and fresh.exists()  # a live run's file is left alone


def test_a_scan_at_the_end_of_the_calendar_does_not_overflow(db, settings):
    # Found by schemathesis: as_of=9999-12-31 plus 180 days overflowed the date type.
    _issue(db, settings)
    assert _scan(db, settings, dt.date.max).owed == []
