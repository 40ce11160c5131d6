"""`kaseru audit verify`: the audit trail's hash chain."""

from __future__ import annotations

import click

from api.cli.context import Context, db_option, pass_context, print_json
from registry import audit


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def audit_verify(context: Context, as_json: bool) -> None:
    """Check the hash chain; exit 1 naming the first broken event."""
    database = context.database
    with database.reading() as session:
        report = audit.verify(session)
    if as_json:
        print_json(
            {
                "intact": report.intact,
                "events": report.events,
                "head": report.head_hash,
                "broken_seq": report.broken_seq,
                "reason": report.reason,
            }
        )
    elif report.intact:
        click.echo(f"audit chain intact: {report.events} events, head {report.head_hash}")
    else:
        click.echo(f"audit chain broken at event {report.broken_seq}: {report.reason}")
    if not report.intact:
        raise SystemExit(1)
