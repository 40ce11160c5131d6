"""`kaseru certificates list | show | revoke`."""

from __future__ import annotations

import datetime as dt

import click

from api.cli.context import Context, db_option, pass_context, print_json
from api.cli.params import DATE
from api.tables import table
from registry import services
from registry.actors import SYSTEM, Actor, Role
from registry.kinds import CertificateStatus


@click.group("certificates")
def certificates() -> None:
    """List, show and revoke certificates."""


@certificates.command("list")
@db_option
@click.option("--status", type=click.Choice([s.value for s in CertificateStatus]), default=None)
@click.option("--development", default=None, help="Only this development.")
@click.option("--as-of", "as_of", type=DATE, default=None, help="Status and standing on this day.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def certificates_list(
    context: Context,
    status: str | None,
    development: str | None,
    as_of: dt.date | None,
    as_json: bool,
) -> None:
    """List certificates with their status and standing."""
    database = context.database
    with database.reading() as session:
        rows = services.list_certificates(
            session,
            SYSTEM,
            database.settings,
            CertificateStatus(status) if status else None,
            development,
            as_of,
        )
    if as_json:
        print_json(rows)
        return
    click.echo(
        table(
            ["number", "kind", "floor", "owner", "issue", "status", "standing"],
            [
                [
                    r["number"],
                    r["kind"],
                    r["floor"] or "-",
                    r["owner"],
                    r["issue_number"],
                    r["status"],
                    r["standing"],
                ]
                for r in rows
            ],
        )
    )


@certificates.command("show")
@db_option
@click.argument("number")
@click.option("--as-of", "as_of", type=DATE, default=None, help="Status and standing on this day.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def certificates_show(context: Context, number: str, as_of: dt.date | None, as_json: bool) -> None:
    """Show one certificate by its compatible-housing number (適合住宅番号)."""
    database = context.database
    with database.reading() as session:
        certificate = services.find_certificate(session, SYSTEM, number)
        view = services.certificate_view(session, database.settings, certificate, as_of)
    if as_json:
        print_json(view)
        return
    for key in (
        "number",
        "kind",
        "floor",
        "valid_from",
        "valid_until",
        "status",
        "standing",
        "next_inspection_due",
        "owner",
        "issue_number",
        "management_number",
    ):
        click.echo(f"{key:20} {view[key] if view[key] is not None else '-'}")
    click.echo(f"{'address':20} {view['house']['address']}")


@certificates.command("revoke")
@db_option
@click.argument("number")
@click.option("--reason", required=True, help="Why the certificate is revoked (printed on record).")
@click.option("--by", "by", default="staff:cli", show_default=True, help="Staff member's name.")
@pass_context
def certificates_revoke(context: Context, number: str, reason: str, by: str) -> None:
    """Revoke a certificate (Institute staff)."""
    database = context.database
    with database.transaction() as session:
        certificate = services.revoke_certificate(
            session, Actor(by, Role.STAFF), database.settings, number, reason
        )
    click.echo(f"revoked {certificate.number} on {certificate.revoked_on}")
