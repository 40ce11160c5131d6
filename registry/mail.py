"""E-mail through an SMTP server, in two steps so that a message can be held back until the
registry has recorded it.

`Mailer.prepare` sends the envelope and the whole message except the final "." line; only
that line commits the message on the server (RFC 5321 §4.1.1.4: a server delivers a
message only once it has received the end of its data). Until then `abort` drops the
connection and nothing is delivered; `deliver` sends the "." and returns the server's
answer. Reminders use the gap to claim the message in the database in between
(registry/reminders.py).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

from registry.errors import DomainError
from registry.settings import Settings


class MailError(DomainError):
    """The SMTP server could not be reached or refused the session (not one message)."""


class Refused(Exception):
    """The server refused this one message (its recipient, say); others may still go."""


_LEADING_DOT = re.compile(rb"(?m)^\.")


@dataclass
class Pending:
    """A message whose data the server holds, waiting for the final "." line."""

    mailer: Mailer

    def deliver(self) -> str:
        """Commit the message on the server; answers its reply, e.g. `250 OK`."""
        smtp = self.mailer.connection()
        smtp.send(b".\r\n")
        code, reply = smtp.getreply()
        answer = f"{code} {reply.decode(errors='replace')}"[:300]
        if code != 250:
            raise Refused(answer)
        return answer

    def abort(self) -> None:
        """Leave the message undelivered: the only way out of DATA is to hang up."""
        self.mailer.close()


class Mailer:
    """One SMTP connection, opened on first use (STARTTLS and login from the settings)."""

    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        if not settings.smtp_host:
            raise MailError("e-mail: KASERU_SMTP_HOST is not set, so no e-mail can be sent")
        if settings.smtp_user and not settings.smtp_starttls:
            # The password would cross the network in the clear (AUTH PLAIN/LOGIN is
            # base64, not encryption): refused before any connection is made.
            raise MailError(
                "e-mail: KASERU_SMTP_USER is set but KASERU_SMTP_STARTTLS is not: the login "
                "would be sent without TLS; set KASERU_SMTP_STARTTLS=1"
            )
        self.settings = settings
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def connection(self) -> smtplib.SMTP:
        """The open connection, opening (and securing) it when needed."""
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        where = f"{s.smtp_host}:{s.smtp_port}"
        try:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout)
            smtp.ehlo()
            if s.smtp_starttls:
                context = ssl.create_default_context(
                    cafile=str(s.smtp_cafile) if s.smtp_cafile else None
                )
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
        except smtplib.SMTPAuthenticationError as error:
            raise MailError(
                f"e-mail: {where} refused the login of {s.smtp_user!r}: {error.smtp_code}"
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(f"e-mail: cannot talk to the SMTP server {where}: {error}") from None
        self._smtp = smtp
        return smtp

    def prepare(self, message: EmailMessage) -> Pending:
        """Send the envelope and the message's data, all but the final "." line."""
        smtp = self.connection()
        sender, recipient = str(message["From"]), str(message["To"])
        try:
            smtp.rset()
            code, reply = smtp.mail(self.settings.smtp_from)
            if code != 250:
                raise MailError(f"e-mail: the server refused the sender {sender}: {code} {reply!r}")
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise Refused(f"{code} {reply.decode(errors='replace')}"[:300])
            code, reply = smtp.docmd("DATA")
            if code != 354:
                raise MailError(f"e-mail: the server refused DATA: {code} {reply!r}")
            data = _LEADING_DOT.sub(b"..", message.as_bytes(policy=policy.SMTP))
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            smtp.send(data)
        except (OSError, smtplib.SMTPServerDisconnected) as error:
            self.close()
            raise MailError(f"e-mail: the SMTP server hung up: {error}") from None
        return Pending(self)

    def close(self) -> None:
        """Hang up (without QUIT when in the middle of a message: that is the point)."""
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def quit(self) -> None:
        """End the session politely."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            finally:
                self._smtp = None
