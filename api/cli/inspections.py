"""`kaseru inspections record`: inspections (点検) and the repairs they required."""

from __future__ import annotations

import datetime as dt

import click

from api.cli.context import Context, db_option, pass_context
from api.cli.params import DATE
from registry import services
from registry.actors import SYSTEM
from registry.inputs import InspectionInput
from registry.kinds import InspectionResult


@click.group("inspections")
def inspections_group() -> None:
    """Record inspections (点検) and the repairs they required."""


@inspections_group.command("record")
@db_option
@click.argument("number")
@click.option("--on", "inspected_on", type=DATE, required=True, help="Day of the inspection.")
@click.option("--inspector", required=True, help="Who inspected.")
@click.option("--result", type=click.Choice([r.value for r in InspectionResult]), default="passed")
@click.option("--findings", default="", help="What the inspector found.")
@click.option("--repairs", default=None, help="Repairs required (with --result repairs_required).")
@pass_context
def inspections_record(
    context: Context,
    number: str,
    inspected_on: dt.date,
    inspector: str,
    result: str,
    findings: str,
    repairs: str | None,
) -> None:
    """Record an inspection of a certificate's house; its standing follows at once."""
    database = context.database
    with database.transaction() as session:
        services.record_inspection(
            session,
            SYSTEM,
            database.settings,
            InspectionInput(
                certificate_number=number,
                inspected_on=inspected_on,
                inspector=inspector,
                result=InspectionResult(result),
                findings=findings,
                repairs=repairs,
            ),
        )
    with database.reading() as session:
        view = services.certificate_view(
            session, database.settings, services.find_certificate(session, SYSTEM, number)
        )
    click.echo(
        f"recorded the inspection of {view['number']} on {inspected_on}; standing "
        f"{view['standing']}, next inspection {view['next_inspection_due'] or '-'}"
    )
