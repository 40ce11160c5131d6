"""`kaseru keys init | rotate | compromise | list`: the document-signing key and the QR
key set."""

from __future__ import annotations

import datetime as dt

import click

from api.cli.context import Context, pass_context, print_json
from api.cli.params import DATE
from api.tables import table
from registry import documents
from signing.keyring import Keyring
from signing.pki import create_development_pki


@click.group("keys")
def keys_group() -> None:
    """The document-signing key and certificates."""


@keys_group.command("init")
@pass_context
def keys_init(context: Context) -> None:
    """Create a development root and document-signing certificate in $KASERU_HOME/keys."""
    settings = context.settings
    files = documents.pki_files(settings)
    if files.exist():
        click.echo(f"document-signing keys exist already in {files.key.parent}")
    else:
        create_development_pki(files)
        click.echo(f"wrote {files.key}, {files.certificate} and {files.root} (development only)")
    ring_path = documents.keyring_path(settings)
    if ring_path.exists():
        click.echo(f"QR keys exist already in {ring_path}")
    else:
        ring = Keyring.create(ring_path.parent, settings.current_date(), development=True)
        click.echo(
            f"wrote the QR key set {ring_path} (key {ring.active()[0].kid}), for development"
        )


@keys_group.command("rotate")
@pass_context
def keys_rotate(context: Context) -> None:
    """Put a new QR key in service; the old one stays in the public set, retired."""
    settings = context.settings
    ring = context.keyring()
    key = ring.rotate(settings.current_date())
    click.echo(f"key {key.kid} in service from {key.not_before}")


@keys_group.command("compromise")
@click.argument("kid")
@click.option("--since", type=DATE, default=None, help="From this day (default: all it signed).")
@pass_context
def keys_compromise(context: Context, kid: str, since: dt.date | None) -> None:
    """Mark a QR key compromised: what it signed is reported so."""
    settings = context.settings
    key = context.keyring().compromise(kid, since, today=settings.current_date())
    click.echo(f"key {key.kid} marked compromised since {key.compromised_since}")


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the public key set.")
@pass_context
def keys_list(context: Context, as_json: bool) -> None:
    """The public QR key set (what offline verifiers need)."""
    ring = context.keyring()
    if as_json:
        print_json(ring.public_set())
        return
    click.echo(
        table(
            ["kid", "status", "from", "until", "compromised since"],
            [
                [
                    k.kid,
                    k.status.value,
                    k.not_before,
                    k.not_after or "-",
                    k.compromised_since or "-",
                ]
                for k in ring.keys.values()
            ],
        )
    )
