"""The `kaseru` command line: parse, call one service, print. No business rules here.

One module per command group (docs/architecture.md, "Where to add a command"); each
command gets the invocation's `Context` (api/cli/context.py), which reads the settings
once and opens the database when first asked. `main` maps every error to one line on
stderr and an exit code.
"""

from __future__ import annotations

import logging
import os

import click
from sqlalchemy.exc import OperationalError

from api.cli.apikey import apikey_group
from api.cli.areas import areas_group
from api.cli.audit import audit_group
from api.cli.backup import backup_command, restore_command
from api.cli.calc import calc
from api.cli.certificates import certificates
from api.cli.context import Context
from api.cli.demo import demo_command
from api.cli.init import init
from api.cli.inspections import inspections_group
from api.cli.keys import keys_group
from api.cli.reminders import reminders_group
from api.cli.render import render_group
from api.cli.serve import serve
from api.cli.verify import verify_group
from registry.errors import DomainError
from signing.keyring import KeyringError

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """kaseru: the registry of compatible-housing certificates (かせるストック)."""


for command in (
    init,
    demo_command,
    calc,
    certificates,
    areas_group,
    keys_group,
    serve,
    apikey_group,
    verify_group,
    render_group,
    audit_group,
    backup_command,
    restore_command,
    inspections_group,
    reminders_group,
):
    cli.add_command(command)


def _fail(message: str, code: int) -> int:
    click.echo(f"kaseru: error: {message}", err=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the command line; errors become one line on stderr and a non-zero exit."""
    # pyHanko logs a traceback when it meets a suspicious incremental update; the verdict
    # says so already, in one line.
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    context = Context(dict(os.environ))
    try:
        result = cli.main(args=argv, prog_name="kaseru", standalone_mode=False, obj=context)
    except click.exceptions.Exit as stop:
        return stop.exit_code
    except click.exceptions.Abort:
        return _fail("aborted", 130)
    except click.UsageError as error:
        return _fail(error.format_message().replace("\n", " "), 2)
    except click.ClickException as error:
        return _fail(error.format_message().replace("\n", " "), error.exit_code)
    except DomainError as error:
        return _fail(error.message, 1)
    except KeyringError as error:  # an unknown kid to compromise, no key set to rotate
        return _fail(str(error), 1)
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        return _fail(f"database error: {reason}", 1)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    except Exception as error:
        if context.environ.get("KASERU_DEBUG"):
            raise
        return _fail(
            f"internal error: {type(error).__name__}: {error} (KASERU_DEBUG=1 shows more)", 70
        )
    return result if isinstance(result, int) else 0
