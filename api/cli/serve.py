"""`kaseru serve`: the verification page and API, served by granian.

The workers serve the settings this command resolved (its `--db` included), not the
environment's: granian hands each worker `worker_app` with the settings bound to it (in
the worker's arguments, pickled when a worker is spawned rather than forked), and the
worker builds its app from them. Nothing is written into the environment. An ASGI server
started directly on api/asgi.py reads the environment instead, and checks it the same way.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

import click

from api.cli.context import Context, db_option, pass_context
from registry import production
from registry.settings import DEVELOPMENT_MARKER, Settings

APP_FACTORY = "api.app:create_app"
"""What each worker builds its app with, named rather than imported: only the workers need
the web application, and importing it would slow every other command's start."""


def worker_app(target: str, settings: Settings) -> Any:
    """The app one worker serves: the factory `target` ("module:function") over `settings`.
    Outside development mode it refuses development secrets and keys first, as api/asgi.py
    does, so that a worker granian starts again later checks the keys as they are then."""
    production.require(settings, "serve")
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(settings)


@click.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--workers", type=int, default=1, show_default=True)
@pass_context
def serve(context: Context, host: str, port: int, workers: int) -> None:
    """Serve the verification page and API (granian, ASGI)."""
    # Imported here: granian is needed by this command only.
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
    context.open_database()  # migrate once, before any worker starts
    click.echo(f"serving on http://{host}:{port} ({workers} worker(s)); Ctrl-C stops")
    # granian calls the loader with its target in each worker: worker_app(APP_FACTORY, ...).
    Server(
        APP_FACTORY,
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        log_access=False,
    ).serve(target_loader=functools.partial(worker_app, settings=settings))
