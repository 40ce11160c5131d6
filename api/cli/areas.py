"""`kaseru areas import | assess | show`: area assessments (エリア査定)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from api.cli.context import Context, db_option, pass_context, print_json
from api.cli.params import DATE
from registry import areas, postal
from registry.actors import Actor, Role
from registry.errors import DomainError


@click.group("areas")
def areas_group() -> None:
    """Area assessments: floor categories by postal code (エリア査定)."""


@areas_group.command("import")
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Load the good rows even when some are bad.")
@click.option("--by", "by", default="staff:cli", show_default=True, help="Staff member's name.")
@pass_context
def areas_import(context: Context, file: Path, skip_bad: bool, by: str) -> None:
    """Load a CSV of postal_code,category (70000, 50000, 30000, none, mixed)."""
    database = context.database
    with database.transaction() as session:
        report = areas.import_areas(session, Actor(by, Role.STAFF), file.read_bytes(), skip_bad)
    for line, reason in report.rejected:
        click.echo(f"{file}:{line}: {reason}", err=True)
    if report.rejected_count > len(report.rejected):
        click.echo(f"... and {report.rejected_count - len(report.rejected)} more", err=True)
    if report.rejected_count and not skip_bad:
        raise DomainError(
            f"{report.rejected_count} of {report.rows} rows are bad; nothing was loaded "
            "(--skip-bad loads the good rows)"
        )
    counts = ", ".join(f"{k}: {v:,}" for k, v in sorted(report.categories.items()))
    skipped = f"; skipped {report.rejected_count} bad row(s)" if report.rejected_count else ""
    plural = "" if report.loaded == 1 else "s"
    click.echo(f"loaded {report.loaded:,} postal code{plural} ({counts}){skipped}")


@areas_group.command("assess")
@db_option
@click.option("--postal-code", required=True)
@click.option("--address", required=True)
@click.option("--limit", "limit", type=int, required=True, help="Highest fixed floor, yen.")
@click.option("--on", "on", type=DATE, default=None, help="Assessment date (default today).")
@click.option("--note", default=None)
@click.option("--by", "by", default="staff:cli", show_default=True, help="Staff member's name.")
@pass_context
def areas_assess(
    context: Context,
    postal_code: str,
    address: str,
    limit: int,
    on: dt.date | None,
    note: str | None,
    by: str,
) -> None:
    """Record a manual assessment (個別査定) of one address; prints its reference."""
    database = context.database
    with database.transaction() as session:
        assessment = areas.record_manual_assessment(
            session,
            Actor(by, Role.STAFF),
            postal_code,
            address,
            limit,
            on or database.settings.current_date(),
            note,
        )
    click.echo(assessment.reference)


@areas_group.command("show")
@db_option
@click.argument("postal_code")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def areas_show(context: Context, postal_code: str, as_json: bool) -> None:
    """A postal code's prefecture, region and assessed category."""
    location = postal.locate(postal_code)
    database = context.database
    with database.reading() as session:
        found = areas.category(session, location.postal_code)
    data = {
        "postal_code": location.postal_code,
        "prefecture": location.prefecture,
        "region": location.region,
        "category": found,
    }
    if as_json:
        print_json(data)
    else:
        click.echo(
            f"{location.postal_code[:3]}-{location.postal_code[3:]} {location.prefecture} "
            f"({location.region}): {found or 'not assessed'}"
        )
