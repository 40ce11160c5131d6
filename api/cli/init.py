"""`kaseru init [--production]`: the database, and with --production the code secret and
the keys of a production registry (docs/production.md)."""

from __future__ import annotations

import secrets
from dataclasses import replace

import click

from api.cli.context import Context, db_option, pass_context
from registry import documents, production
from registry.errors import DomainError
from registry.settings import CODE_SECRET_FILE, DEVELOPMENT_MARKER, Settings
from signing.files import private_folder, write_private
from signing.keyring import Keyring
from signing.pki import create_production_pki, is_development


@click.command("init")
@db_option
@click.option(
    "--production",
    is_flag=True,
    help="First make the code secret and the signing and QR keys (docs/production.md).",
)
@pass_context
def init(context: Context, production: bool) -> None:
    """Create the database (or bring its schema up to date). With --production, first the
    code secret and the keys of a production registry, each readable by its owner only."""
    made = None
    if production:
        made = _init_production(context)
        # The code secret may have just been written into KASERU_HOME, where the settings
        # read it from: what is left to do is judged with it.
        context.reread_settings()
    click.echo(f"registry ready at {context.database.url}")
    if made is not None:
        _print_production(made, context.settings)


def _init_production(context: Context) -> list[str]:
    """Make (or keep) the code secret, the document-signing PKI and the QR key set; what
    was done, one line each. Refuses a development registry's home and development keys."""
    settings = context.settings
    home = settings.home
    if (home / DEVELOPMENT_MARKER).exists() or context.environ.get("KASERU_ENV") == "development":
        raise DomainError(
            f"{home} is a development registry ({home / DEVELOPMENT_MARKER} or "
            "KASERU_ENV=development); give a production one its own KASERU_HOME"
        )
    private_folder(home)
    done = []
    secret_file = home / CODE_SECRET_FILE
    if context.environ.get("KASERU_CODE_SECRET"):
        done.append("code secret: from KASERU_CODE_SECRET (no file written)")
    elif secret_file.exists():
        done.append(f"code secret: {secret_file} (kept)")
    else:
        write_private(secret_file, (secrets.token_hex(32) + "\n").encode(), replace=False)
        done.append(f"code secret: {secret_file} (written, 32 random bytes as hex, 0600)")
    files = documents.pki_files(settings)
    if files.exist():
        if is_development(files):
            raise DomainError(
                f"the document-signing keys at {files.key.parent} are development keys "
                "(kaseru keys init); move them away first"
            )
        done.append(f"signing key: {files.key} (kept)")
    else:
        try:
            create_production_pki(files)
        except FileExistsError as error:
            raise DomainError(str(error)) from None
        done.append(
            f"signing key: {files.key} (written, 0600), its certificate {files.certificate} "
            f"and the root certificate {files.root}"
        )
    ring_path = documents.keyring_path(settings)
    if ring_path.exists():
        ring = context.keyring(ring_path)
        if ring.development:
            raise DomainError(
                f"the QR key set {ring_path} is a development set (kaseru keys init); "
                "move it away first"
            )
        done.append(f"QR keys: {ring_path} (kept)")
    else:
        key = Keyring.create(ring_path.parent, settings.current_date()).active()[0]
        done.append(
            f"QR keys: {ring_path} (written), private key {ring_path.parent}/qr-{key.kid}.pem "
            "(0600)"
        )
    return done


def _print_production(done: list[str], settings: Settings) -> None:
    files = documents.pki_files(settings)
    ring_path = documents.keyring_path(settings)
    for line in done:
        click.echo(line)
    click.echo(
        "\nKeep safe, readable by this user only, with a copy offline (never printed here):\n"
        f"  {settings.home / CODE_SECRET_FILE} (or KASERU_CODE_SECRET): every printed "
        "照会コード depends on it; changed or lost, every printed code stops working\n"
        f"  {files.key}: signs every document\n"
        f"  {ring_path.parent}/qr-*.pem: sign the QR codes\n"
        f"Publish: {files.root} (checks the documents' signatures) and GET /api/v1/keys.\n"
        "\nSet for `kaseru serve` and every other kaseru command:\n"
        f"  KASERU_HOME={settings.home}\n"
        "  KASERU_PUBLIC_URL=https://… (the registry's public address, in every QR code)\n"
        "  DATABASE_URL=postgresql://… (recommended; default: the SQLite file in KASERU_HOME)\n"
        "  KASERU_SMTP_STARTTLS=1 when KASERU_SMTP_USER is set (reminder e-mail)\n"
        "and leave KASERU_ENV unset (production is the default). See docs/production.md."
    )
    left = production.problems(replace(settings, env="production"))
    if left:
        click.echo("Until then kaseru serve refuses to start: " + "; ".join(left))
    else:
        click.echo("kaseru serve will start with these settings.")
