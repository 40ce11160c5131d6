"""`kaseru render certificate | notice | guarantee | reminder`: signed PDF documents."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli.context import Context, db_option, pass_context
from registry import documents
from registry.actors import SYSTEM, Actor, Role
from registry.database import Database


@click.group("render")
def render_group() -> None:
    """Write a signed PDF document."""


def _maker(database: Database) -> documents.DocumentMaker:
    return documents.DocumentMaker(database.settings)


def _written(path: Path, pdf: bytes) -> None:
    documents.write(path, pdf)
    click.echo(f"wrote {path} ({len(pdf):,} bytes)")


@render_group.command("certificate")
@db_option
@click.argument("number")
@click.option("--issue", "issue_number", default=None, help="An earlier issue (発行番号).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@pass_context
def render_certificate(
    context: Context, number: str, issue_number: str | None, out: Path | None
) -> None:
    """The certificate (証明書) of its active issue, or of --issue."""
    database = context.database
    with database.transaction() as session:
        pdf, issue = documents.certificate_pdf(
            session, SYSTEM, _maker(database), number, issue_number
        )
    _written(out or Path(f"certificate-{issue.number}.pdf"), pdf)


@render_group.command("notice")
@db_option
@click.argument("case_number")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@pass_context
def render_notice(context: Context, case_number: str, out: Path | None) -> None:
    """The approval notice (承認（決定）通知書) of a lease application."""
    database = context.database
    with database.reading() as session:
        pdf = documents.notice_pdf(
            session, Actor("staff:cli", Role.STAFF), _maker(database), case_number
        )
    _written(out or Path(f"notice-{case_number}.pdf"), pdf)


@render_group.command("guarantee")
@db_option
@click.argument("development")
@click.option("--market-rent", type=int, default=None, help="Current market rent (yen a month).")
@click.option("--builder", default=None, help="The builder's code, when two builders use the name.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@pass_context
def render_guarantee(
    context: Context,
    development: str,
    market_rent: int | None,
    builder: str | None,
    out: Path | None,
) -> None:
    """The marketing guarantee (販促用の保証表示) of one builder's development."""
    database = context.database
    with database.reading() as session:
        pdf = documents.guarantee_pdf(
            session, SYSTEM, _maker(database), development, market_rent, builder
        )
    _written(out or Path("guarantee.pdf"), pdf)


@render_group.command("reminder")
@db_option
@click.argument("number")
@click.option("--stage", type=click.Choice(list(documents.STAGES)), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@pass_context
def render_reminder(context: Context, number: str, stage: str, out: Path | None) -> None:
    """An inspection reminder letter (点検時期のお知らせ) for a certificate."""
    database = context.database
    with database.reading() as session:
        pdf = documents.reminder_pdf(session, SYSTEM, _maker(database), number, stage)
    _written(out or Path(f"reminder-{number}.pdf"), pdf)
