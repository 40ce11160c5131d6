"""The one context of a `kaseru` invocation (docs/architecture.md, "Where to add a command").

`main` builds a `Context` over a copy of the process environment; click keeps it in
`ctx.obj` and hands it to each command (`pass_context`). The settings are read from that
copy once, when a command first asks, with `--db` applied; the database is opened (and its
schema brought up to date) when a command first asks for it. Nothing here writes the
environment: `kaseru serve` hands the same settings to its workers (api/cli/serve.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from registry import documents
from registry.database import Database
from registry.errors import DomainError
from registry.settings import Settings
from signing.keyring import Keyring, KeyringError


@dataclass
class Context:
    """The settings, database and QR key set one invocation works with."""

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    """The environment the settings are read from (a copy, taken when the command began)."""
    database_url: str | None = None
    """`--db`: another database than DATABASE_URL's (or the SQLite file in KASERU_HOME)."""
    _settings: Settings | None = field(default=None, init=False, repr=False)
    _database: Database | None = field(default=None, init=False, repr=False)

    def use_database(self, url: str) -> None:
        """Take `--db`; it must come before anything has read the settings."""
        if self._settings is not None:
            raise RuntimeError("--db given after the settings were read")
        self.database_url = url

    @property
    def settings(self) -> Settings:
        """The settings of this invocation, read once (registry/settings.py)."""
        if self._settings is None:
            settings = Settings.from_env(self.environ)
            self._settings = settings.with_url(self.database_url) if self.database_url else settings
        return self._settings

    def reread_settings(self) -> Settings:
        """The settings read again, for a command that has just written a file under
        KASERU_HOME they are read from (`kaseru demo`'s development marker, `kaseru init
        --production`'s code secret): what that home means has changed. Before the database
        is opened, which would keep the old settings."""
        if self._database is not None:
            raise RuntimeError("settings read again after the database was opened")
        self._settings = None
        return self.settings

    @property
    def database(self) -> Database:
        """The registry's database, its schema brought up to date when first opened."""
        return self.open_database()

    def open_database(self) -> Database:
        """Open the database now (once) and bring its schema up to date."""
        if self._database is None:
            database = Database(self.settings)
            database.migrate()
            self._database = database
        return self._database

    def keyring(self, path: Path | None = None) -> Keyring:
        """The QR key set at `path` (default: the registry's, documents.keyring_path)."""
        try:
            return Keyring.load(path or documents.keyring_path(self.settings))
        except KeyringError as error:
            raise DomainError(str(error)) from None


pass_context = click.make_pass_decorator(Context, ensure=True)
"""Hands a command the invocation's Context as its first argument."""


def _take_database(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(Context).use_database(value)


db_option = click.option(
    "--db",
    "db",
    metavar="URL",
    help="Database URL (default: DATABASE_URL, else var/kaseru.db).",
    expose_value=False,
    callback=_take_database,
)
"""`--db URL`, taken into the Context rather than passed to the command."""

keys_option = click.option(
    "--keys",
    "keys_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Public key set (default: $KASERU_HOME/keys/keyring.json).",
)
"""`--keys FILE`: a QR key set other than the registry's."""


def print_json(data: Any) -> None:
    """Print `data` as indented JSON, Japanese as it is."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))
