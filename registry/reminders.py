"""Inspection reminders (点検のお知らせ): which are owed on a day, and sending each once.

docs/domain.md, condition 2 and document 4: owners are told when an inspection of their house's
maintenance plan is coming due, is due, or is overdue, by letter and by e-mail where an
address is known.

Which reminder is owed: stages are days from a plan date (KASERU_REMINDER_STAGES, default
180 and 60 days before, the day itself, 30 and 180 days after). For each certificate in
force, of its open plan dates (no inspection yet) whose first stage has come, the latest
one counts, at the last stage it has reached: one late inspection satisfies every missed
date (registry/maintenance.py), so the latest date is the one the owner must act on, and
a stage passed while no run was made is not sent late.

Delivery is **at most once** per (plan date, stage), and exactly once unless a run dies
in a window of a few bytes. A run renders the letter into a hidden file of the outbox and
hands the e-mail to the SMTP server all but its final "." line (registry/mail.py); then
it *claims* the reminder by inserting its (plan date, stage) row, unique, and commits;
only then does it give the letter its name and send the ".". A run that loses the claim
to another run hangs up (the server drops the unfinished message) and deletes its file.
A run that dies before its claim commits has delivered nothing and the next run sends
the reminder; one that dies after leaves a claimed row that no run sends again: it is
reported as unconfirmed (the letter is in the outbox if the file has its name; the
e-mail went out unless the death fell between the commit and the "." line).
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from registry import documents
from registry.actors import Actor, Role
from registry.database import Database
from registry.mail import Mailer, Pending, Refused
from registry.models import Builder, Certificate, House, Issue, PlanEntry, Reminder, utcnow
from registry.paging import Page, check_page, paged
from registry.settings import Settings
from signing import failpoints
from signing.files import private_folder, write_new_private

INSTITUTE = "一般社団法人 移住・住みかえ支援機構"
STALE_PART = dt.timedelta(minutes=10)
"""A hidden letter file this old belongs to a run that died (a letter takes well under a
second from rendering to its claim)."""


def stage_name(days: int) -> str:
    """A stage's name from its days after the due date: coming_180, due, overdue_30."""
    if days < 0:
        return f"coming_{-days}"
    return "due" if days == 0 else f"overdue_{days}"


def letter_stage(days: int) -> str:
    """Which letter a stage sends (documents.STAGES)."""
    if days < 0:
        return "coming_due"
    return "due" if days == 0 else "overdue"


@dataclass(frozen=True)
class Owed:
    """One reminder owed on a day: a plan date of a certificate at one stage."""

    plan_entry_id: int
    certificate_id: int
    issue_id: int
    number: str
    issue_number: str
    owner: str
    email: str | None
    due_date: dt.date
    label: str
    days: int

    @property
    def stage(self) -> str:
        return stage_name(self.days)

    @property
    def channel(self) -> str:
        """letter, or letter+email where the owner gave an address."""
        return "letter+email" if self.email else "letter"

    def as_json(self, state: str, **more: Any) -> dict[str, Any]:
        return {
            "number": self.number,
            "issue_number": self.issue_number,
            "stage": self.stage,
            "due_date": self.due_date.isoformat(),
            "label": self.label,
            "channel": self.channel,
            "state": state,
            **more,
        }


@dataclass(frozen=True)
class Scan:
    """What a scan found: reminders owed, and those a run claimed but never marked sent."""

    owed: list[Owed]
    unconfirmed: list[Owed]


def scan(
    session: Session, settings: Settings, as_of: dt.date, builder_code: str | None = None
) -> Scan:
    """The reminders owed on `as_of` (see the module's docstring for which), in order of
    certificate number. Reads open plan dates through a partial index, so its cost follows
    the open dates near `as_of`, not the size of the registry."""
    offsets = sorted(settings.reminder_stages)
    try:
        horizon = as_of - dt.timedelta(days=offsets[0])
    except OverflowError:
        horizon = dt.date.max
    query = (
        select(
            col(PlanEntry.id),
            col(PlanEntry.certificate_id),
            col(PlanEntry.due_date),
            col(PlanEntry.label),
            col(Certificate.number),
            col(Issue.id),
            col(Issue.number),
            col(Issue.owner_name),
            col(Issue.owner_email),
        )
        .join(Certificate, col(Certificate.id) == PlanEntry.certificate_id)
        .join(
            Issue, (col(Issue.certificate_id) == Certificate.id) & (col(Issue.status) == "active")
        )
        .where(
            col(PlanEntry.inspection_id).is_(None),
            col(PlanEntry.due_date) <= horizon,
            col(Certificate.revoked_on).is_(None),
            col(Certificate.valid_until) >= as_of,
        )
    )
    if builder_code is not None:
        query = (
            query.join(House, col(House.id) == Certificate.house_id)
            .join(Builder, col(Builder.id) == House.builder_id)
            .where(col(Builder.code) == builder_code)
        )
    latest: dict[int, Any] = {}
    for row in session.execute(query):
        kept = latest.get(row[1])
        if kept is None or row[2] > kept[2]:
            latest[row[1]] = row
    claimed = {
        (entry, stage): state
        for entry, stage, state in session.execute(
            select(col(Reminder.plan_entry_id), col(Reminder.stage), col(Reminder.state))
            .join(PlanEntry, col(PlanEntry.id) == Reminder.plan_entry_id)
            .where(col(PlanEntry.inspection_id).is_(None), col(PlanEntry.due_date) <= horizon)
        )
    }
    owed: list[Owed] = []
    unconfirmed: list[Owed] = []
    for row in latest.values():
        reached = bisect.bisect_right(offsets, (as_of - row[2]).days)
        if reached == 0:  # no stage yet (only past the calendar's end, see horizon)
            continue
        days = offsets[reached - 1]
        state = claimed.get((row[0], stage_name(days)))
        if state == "sent":
            continue
        reminder = Owed(
            row[0], row[1], row[5], row[4], row[6], row[7], row[8], row[2], row[3], days
        )
        (owed if state is None else unconfirmed).append(reminder)
    owed.sort(key=lambda r: r.number)
    unconfirmed.sort(key=lambda r: r.number)
    return Scan(owed, unconfirmed)


def letter_name(reminder: Owed) -> str:
    """The outbox file of a reminder's letter: one name per (certificate, date, stage)."""
    return f"reminder-{reminder.number}-{reminder.due_date.isoformat()}-{reminder.stage}.pdf"


def letter(
    session: Session, maker: documents.DocumentMaker, reminder: Owed, as_of: dt.date
) -> tuple[bytes, dict[str, Any]]:
    """The signed reminder letter and the facts it prints."""
    certificate = session.get(Certificate, reminder.certificate_id)
    assert certificate is not None
    data = documents.reminder_data(
        session,
        maker,
        certificate,
        reminder.due_date,
        letter_stage(reminder.days),
        reminder.label,
        as_of,
    )
    return maker.make("reminder", data, documents.created_on(as_of)), data


def message(settings: Settings, reminder: Owed, data: dict[str, Any], pdf: bytes) -> EmailMessage:
    """The reminder as e-mail, in Japanese, with the letter attached."""
    assert reminder.email is not None
    mail = EmailMessage()
    mail["Subject"] = f"【{data['headline']}】適合住宅番号 {reminder.number}"
    mail["From"] = formataddr((INSTITUTE, settings.smtp_from))
    mail["To"] = reminder.email
    # The same id for the same reminder, so a mail system that de-duplicates by
    # Message-ID would also drop a copy.
    mail["Message-ID"] = f"<reminder.{reminder.plan_entry_id}.{reminder.stage}@kaseru>"
    mail["X-Kaseru-Reminder"] = f"{reminder.number} {reminder.due_date} {reminder.stage}"
    mail.set_content(
        f"{reminder.owner} 様\n\n"
        f"{data['lead']}\n\n"
        f"　点検の時期　　{data['due_date']}\n"
        f"　点検の種類　　{data['label']}\n"
        f"　建物所在地　　{data['address']}\n"
        f"　適合住宅番号　{reminder.number}\n\n"
        "この証明書は、機構が求める維持管理が行われている間に限り効力を有します。"
        f"点検の時期を過ぎたまま{data['grace_days']}日を超えると、証明書の状態は「点検遅延」と"
        "表示され、確認する買主や金融機関にもそのことが示されます。\n\n"
        f"施工協賛事業者（{data['builder']}）にご連絡のうえ、点検を受けてください。"
        "点検の結果は施工協賛事業者から機構に報告されます。\n\n"
        f"証明書の状態はこちらで確認できます:\n{data['url']}\n\n"
        "同じ内容の書面を添付し、郵送でもお送りしています。\n\n"
        f"{INSTITUTE}\n{settings.institute_address}\n"
    )
    mail.add_attachment(pdf, maintype="application", subtype="pdf", filename=letter_name(reminder))
    return mail


@dataclass(frozen=True)
class Outcome:
    """What became of one reminder in a run: sent, taken (another run claimed it first) or
    unconfirmed (claimed by a run that did not finish it)."""

    reminder: Owed
    state: str
    letter: str | None = None
    email_result: str | None = None

    def as_json(self) -> dict[str, Any]:
        return self.reminder.as_json(self.state, letter=self.letter, email_result=self.email_result)


class Run:
    """One reminder run: a scan, then each owed reminder claimed and sent (module
    docstring). `send=False` is the dry run."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        as_of: dt.date,
        maker_factory: Callable[[], documents.DocumentMaker] | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.as_of = as_of
        self.id = uuid.uuid4().hex
        self.outbox = settings.outbox_dir
        self._maker_factory = maker_factory or (lambda: documents.DocumentMaker(settings))

    def scan(self) -> Scan:
        """What is owed now."""
        with self.database.reading() as session:
            return scan(session, self.settings, self.as_of)

    def send(self, found: Scan, each: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        """Send what `found` owes; `each` hears of every outcome as it happens. Refuses at
        once (sending nothing) when e-mail is owed and no SMTP server is set."""
        mailer = Mailer(self.settings) if any(r.email for r in found.owed) else None
        maker = self._maker_factory() if found.owed else None
        outcomes = [Outcome(r, "unconfirmed") for r in found.unconfirmed]
        for outcome in outcomes:
            if each:
                each(outcome)
        private_folder(self.outbox)  # letters name their owners: 0700, each letter 0600
        self._sweep()
        try:
            for reminder in found.owed:
                assert maker is not None
                outcome = self._one(reminder, maker, mailer)
                outcomes.append(outcome)
                if each:
                    each(outcome)
        finally:
            if mailer is not None:
                mailer.quit()
        return outcomes

    def _sweep(self, older_than: dt.timedelta = STALE_PART) -> None:
        """Delete letters a killed run rendered but never claimed: hidden `.part` files
        old enough that no live run is still working on them."""
        limit = time.time() - older_than.total_seconds()
        for part in self.outbox.glob(".*.part"):
            with contextlib.suppress(FileNotFoundError):
                if part.stat().st_mtime < limit:
                    part.unlink()

    def _one(
        self, reminder: Owed, maker: documents.DocumentMaker, mailer: Mailer | None
    ) -> Outcome:
        with self.database.reading() as session:
            pdf, data = letter(session, maker, reminder, self.as_of)
        final = self.outbox / letter_name(reminder)
        hidden = self.outbox / f".{final.name}.{self.id}.part"
        write_new_private(hidden, pdf)
        pending: Pending | None = None
        refused: str | None = None
        try:
            if mailer is not None and reminder.email:
                try:
                    pending = mailer.prepare(message(self.settings, reminder, data, pdf))
                    failpoints.reached("reminder.prepared")
                except Refused as error:
                    refused = f"refused: {error}"
            if not self._claim(reminder, refused):
                if pending is not None:
                    pending.abort()
                hidden.unlink(missing_ok=True)
                return Outcome(reminder, "taken")
        except BaseException:
            hidden.unlink(missing_ok=True)
            raise
        # Claimed: from here on the reminder is never sent again by any run.
        hidden.replace(final)
        result = refused
        if pending is not None:
            failpoints.reached("reminder.delivering")
            try:
                result = pending.deliver()
            except Refused as error:
                result = f"refused: {error}"
            failpoints.reached("reminder.delivered")
        self._mark_sent(reminder, final, result)
        return Outcome(reminder, "sent", str(final), result)

    def _claim(self, reminder: Owed, refused: str | None) -> bool:
        try:
            # The block's end commits the claim, or finds it taken (IntegrityError), before
            # this returns: only a committed claim lets the letter take its name and the
            # e-mail its final "." (the order the module's docstring gives).
            with self.database.transaction() as session:
                session.add(
                    Reminder(
                        plan_entry_id=reminder.plan_entry_id,
                        certificate_id=reminder.certificate_id,
                        issue_id=reminder.issue_id,
                        stage=reminder.stage,
                        due_date=reminder.due_date,
                        state="claimed",
                        email_to=reminder.email,
                        email_result=refused,
                        run=self.id,
                    )
                )
        except IntegrityError:
            return False
        return True

    def _mark_sent(self, reminder: Owed, letter_path: Path, result: str | None) -> None:
        with self.database.transaction() as session:
            row = session.execute(
                select(Reminder).where(
                    col(Reminder.plan_entry_id) == reminder.plan_entry_id,
                    col(Reminder.stage) == reminder.stage,
                )
            ).scalar_one()
            row.state = "sent"
            row.letter = letter_path.name
            row.email_result = result
            row.sent_at = utcnow()
            session.add(row)


def sent(session: Session, actor: Actor, limit: int = 100, offset: int = 0) -> Page:
    """Reminders claimed or sent, newest first, of the certificates the actor may see."""
    actor.require(Role.BUILDER, Role.STAFF, Role.ADMIN)
    query = (
        select(Reminder, col(Certificate.number))
        .join(Certificate, col(Certificate.id) == Reminder.certificate_id)
        .order_by(col(Reminder.claimed_at).desc(), col(Reminder.id).desc())
    )
    if actor.role is Role.BUILDER:
        query = (
            query.join(House, col(House.id) == Certificate.house_id)
            .join(Builder, col(Builder.id) == House.builder_id)
            .where(col(Builder.code) == actor.builder_code)
        )
    total, rows = paged(session, query, limit, offset)
    items = [
        {
            "number": number,
            "stage": r.stage,
            "due_date": r.due_date.isoformat(),
            "state": r.state,
            "channel": "letter+email" if r.email_to else "letter",
            "letter": r.letter,
            "email_result": r.email_result,
            "claimed_at": r.claimed_at.isoformat(),
            "sent_at": r.sent_at.isoformat() if r.sent_at else None,
        }
        for r, number in rows
    ]
    return Page(total, limit, offset, items)


def coming(
    session: Session,
    actor: Actor,
    settings: Settings,
    as_of: dt.date,
    limit: int = 100,
    offset: int = 0,
) -> Page:
    """Reminders owed on `as_of` and not yet sent (then those a run claimed but did not
    finish), of the certificates the actor may see."""
    actor.require(Role.BUILDER, Role.STAFF, Role.ADMIN)
    check_page(limit, offset)
    builder = actor.builder_code if actor.role is Role.BUILDER else None
    found = scan(session, settings, as_of, builder)
    items = [r.as_json("owed") for r in found.owed] + [
        r.as_json("unconfirmed") for r in found.unconfirmed
    ]
    return Page(len(items), limit, offset, items[offset : offset + limit])
