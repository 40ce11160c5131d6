"""`kaseru backup` and `kaseru restore` (registry/backup.py, docs/backup.md)."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli.context import Context, db_option, pass_context, print_json
from api.tables import table
from registry import backup
from registry.errors import DomainError


def _print_backup(summary: backup.Summary, done: str, as_json: bool) -> None:
    if as_json:
        print_json(summary.as_json())
        return
    click.echo(
        f"{done} {summary.path} ({summary.size:,} bytes, {summary.kind}, schema revision "
        f"{summary.revision}) in {summary.seconds:.2f} s"
    )
    for note in summary.notes:
        click.echo(note)
    click.echo(table(["table", "rows"], [[n, f"{c:,}"] for n, c in sorted(summary.counts.items())]))
    chain = summary.chain
    state = (
        "not checked"
        if chain is None
        else f"intact ({chain.events} events)"
        if chain.intact
        else f"BROKEN at event {chain.broken_seq}: {chain.reason}"
    )
    click.echo(f"audit chain {state}; head {summary.head_seq} {summary.head_hash}")


@click.command("backup")
@db_option
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def backup_command(context: Context, file: Path, as_json: bool) -> None:
    """Write a consistent copy of the registry to FILE (also while it is being served):
    SQLite's online backup, or pg_dump's custom format for PostgreSQL, sealed with the
    backup key (KASERU_BACKUP_KEY)."""
    summary = backup.backup(context.settings, file)
    _print_backup(summary, "wrote", as_json)
    if not summary.intact:
        raise DomainError(
            f"the registry's audit chain is broken; {file} holds it as it is, "
            "and restore will refuse it"
        )


@click.command("restore")
@db_option
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the registry with the backup.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def restore_command(context: Context, file: Path, yes: bool, as_json: bool) -> None:
    """Replace the registry with the backup in FILE, after checking it (its seal with the
    backup key, kind, schema revision, schema, audit chain; docs/backup.md). Needs --yes."""
    settings = context.settings
    if not yes:
        found = backup.inspect(settings, file)
        raise DomainError(
            f"restore would replace the registry at {backup.display_url(settings)} with "
            f"{file} (audit head {found.head_seq}); nothing was changed, add --yes to do it"
        )
    summary = backup.restore(settings, file)
    _print_backup(summary, f"restored {backup.display_url(settings)} from", as_json)
