"""`kaseru apikey create | revoke`: API keys for builders, Institute staff and admins."""

from __future__ import annotations

import json

import click

from api.cli.context import Context, db_option, pass_context
from registry import access
from registry.actors import Actor, Role


@click.group("apikey")
def apikey_group() -> None:
    """API keys for builders, Institute staff and admins."""


@apikey_group.command("create")
@db_option
@click.option("--role", type=click.Choice(["builder", "staff", "admin"]), required=True)
@click.option("--builder", "builder_code", default=None, help="The builder's code (builder keys).")
@click.option("--name", default="", help="Who or what uses the key.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def apikey_create(
    context: Context, role: str, builder_code: str | None, name: str, as_json: bool
) -> None:
    """Make a key; it is shown once and stored only as a hash."""
    database = context.database
    with database.transaction() as session:
        key_id, key = access.create_api_key(
            session, Actor("admin:cli", Role.ADMIN), Role(role), builder_code, name
        )
    if as_json:
        click.echo(json.dumps({"id": key_id, "key": key}))
    else:
        click.echo(f"key {key_id}: {key}\n(shown once; keep it safe)")


@apikey_group.command("revoke")
@db_option
@click.argument("key_id")
@pass_context
def apikey_revoke(context: Context, key_id: str) -> None:
    """Revoke a key at once."""
    database = context.database
    with database.transaction() as session:
        access.revoke_api_key(session, Actor("admin:cli", Role.ADMIN), key_id)
    click.echo(f"revoked key {key_id}")
