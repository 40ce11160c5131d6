"""`kaseru serve`: the verification page and API, served by granian."""

from __future__ import annotations

import os

import click

from api.cli.context import Context, db_option, pass_context
from registry import production
from registry.settings import DEVELOPMENT_MARKER


@click.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--workers", type=int, default=1, show_default=True)
@pass_context
def serve(context: Context, host: str, port: int, workers: int) -> None:
    """Serve the verification page and API (granian, ASGI)."""
    from granian.constants import Interfaces
    from granian.server import Server

    settings = context.settings
    if settings.development:
        click.echo(
            "kaseru: warning: development mode (KASERU_ENV=development, or "
            f"{settings.home / DEVELOPMENT_MARKER}): development code secret and keys are "
            "accepted; never serve the public like this (docs/production.md)",
            err=True,
        )
    else:
        production.require(settings, "serve")  # one line, before anything is opened
    if context.database_url:
        # the workers read their settings from the environment
        os.environ["DATABASE_URL"] = context.database_url
    context.open_database()  # migrate once, before any worker starts
    click.echo(f"serving on http://{host}:{port} ({workers} worker(s)); Ctrl-C stops")
    Server(
        "api.asgi:app",
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        log_access=False,
    ).serve()
