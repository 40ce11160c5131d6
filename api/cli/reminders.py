"""`kaseru reminders run | list`: inspection reminders (点検のお知らせ), each sent once."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import click

from api.cli.context import Context, db_option, pass_context, print_json
from api.cli.params import DATE
from api.tables import table
from registry import reminders
from registry.actors import SYSTEM


@click.group("reminders")
def reminders_group() -> None:
    """Inspection reminders (点検のお知らせ): letters and e-mail, each sent once."""


@reminders_group.command("run")
@db_option
@click.option(
    "--as-of", "as_of", type=DATE, default=None, help="The day to run for (default today)."
)
@click.option("--send", is_flag=True, help="Send (without it: a dry run that sends nothing).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")
@pass_context
def reminders_run(context: Context, as_of: dt.date | None, send: bool, as_json: bool) -> None:
    """Find the reminders owed on a day; with --send, write each letter (a signed PDF) into
    the outbox and e-mail it where the owner has an address, each reminder once."""
    database = context.database
    run = reminders.Run(database, database.settings, as_of or database.settings.current_date())
    found = run.scan()

    def show(item: dict[str, Any]) -> None:
        if as_json:
            click.echo(json.dumps(item, ensure_ascii=False))
        else:
            click.echo(
                f"{item['number']}  {item['stage']:12} {item['due_date']}  "
                f"{item['channel']:12} {item['state']}"
            )

    if not send:
        for reminder in found.owed:
            show(reminder.as_json("would_send"))
        for reminder in found.unconfirmed:
            show(reminder.as_json("unconfirmed"))
        if not as_json:
            emails = sum(1 for r in found.owed if r.email)
            click.echo(
                f"dry run as of {run.as_of}: {len(found.owed)} to send "
                f"({len(found.owed)} letters, {emails} e-mails), {len(found.unconfirmed)} "
                "unconfirmed; nothing was sent"
            )
        return
    outcomes = run.send(found, lambda outcome: show(outcome.as_json()))
    if not as_json:
        counts = Counter(o.state for o in outcomes)
        emails = sum(1 for o in outcomes if o.state == "sent" and o.reminder.email)
        click.echo(
            f"as of {run.as_of}: {counts['sent']} sent ({counts['sent']} letters in "
            f"{run.outbox}, {emails} e-mails), {counts['taken']} taken by another run, "
            f"{counts['unconfirmed']} unconfirmed"
        )


@reminders_group.command("list")
@db_option
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def reminders_list(context: Context, limit: int, as_json: bool) -> None:
    """Reminders sent (and claimed), newest first."""
    database = context.database
    with database.reading() as session:
        page = reminders.sent(session, SYSTEM, limit=limit)
    total, rows = page.total, page.items
    if as_json:
        print_json({"total": total, "items": rows})
        return
    click.echo(
        table(
            ["number", "stage", "due", "channel", "state", "sent"],
            [
                [
                    r["number"],
                    r["stage"],
                    r["due_date"],
                    r["channel"],
                    r["state"],
                    r["sent_at"] or "-",
                ]
                for r in rows
            ],
        )
    )
    click.echo(f"{total} reminders in all")
