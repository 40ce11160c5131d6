"""`kaseru demo`: a development registry with the demo's builder, development, houses and
signed documents, and a summary of them (registry/demo.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click

from api.cli.context import Context, db_option, pass_context
from api.tables import table
from registry import audit, demo, documents, services
from registry.actors import SYSTEM
from registry.errors import DomainError
from registry.settings import CODE_SECRET_FILE, DEVELOPMENT_MARKER, Settings
from signing.files import private_folder
from signing.keyring import Keyring
from signing.pki import create_development_pki


@click.command("demo")
@db_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the demo's documents (default: out).",
)
@pass_context
def demo_command(context: Context, out: Path | None) -> None:
    """Create the demo registry (safe to run again) and print a summary."""
    settings = _development(context)
    database = context.database
    demo.seed(database, settings)
    out = out or Path("out")
    out.mkdir(parents=True, exist_ok=True)
    files = documents.pki_files(settings)
    if not files.exist():
        create_development_pki(files)
    if not documents.keyring_path(settings).exists():
        Keyring.create(
            documents.keyring_path(settings).parent, settings.current_date(), development=True
        )
    written = demo.write_documents(database, settings, out)
    with database.reading() as session:
        rows = [
            r
            for r in services.list_certificates(session, SYSTEM, settings)
            if r["development"] == demo.DEVELOPMENT
        ]
        # Development lots (01-12) first, then the standard houses (S1-S3).
        rows.sort(key=lambda r: (r["lot"].startswith("S"), r["lot"]))
        report = audit.verify(session)
    (out / "certificates.json").write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    click.echo(f"Demo registry at {database.url} (as of {settings.current_date()})")
    click.echo(
        f"{demo.BUILDER_NAME} ({demo.BUILDER_CODE}), HLP {demo.HLP_NAME} ({demo.HLP_CODE}), "
        f"development {demo.DEVELOPMENT}\n"
    )
    click.echo(
        table(
            ["lot", "number", "kind", "floor", "owner", "status", "standing", "next due"],
            [
                [
                    r["lot"],
                    r["number"],
                    r["kind"],
                    f"{r['floor']:,}" if r["floor"] else "-",
                    r["owner"],
                    r["status"],
                    r["standing"],
                    r["next_inspection_due"] or "-",
                ]
                for r in rows
            ],
        )
    )
    kinds = Counter(r["kind"] for r in rows)
    standings = Counter(r["standing"] for r in rows)
    click.echo(
        f"\n{len(rows)} certificates: {kinds['fixed_floor']} fixed-floor, "
        f"{kinds['standard']} standard; "
        f"standing: {standings['up_to_date']} up to date, {standings['due']} due, "
        f"{standings['overdue']} overdue"
    )
    click.echo("1 endorsement approved (lot 03), 1 lease approved (lot S2)")
    state = "intact" if report.intact else f"BROKEN at event {report.broken_seq}"
    click.echo(f"audit chain: {report.events} events, {state}")
    click.echo(
        f"wrote {out / 'certificates.json'} and {len(written)} signed documents in {out}/: "
        + ", ".join(sorted({p.name.split("-")[0] + "-*.pdf" for p in written}))
    )
    click.echo(f"verify lot 01's certificate: {demo.verification_url(database, settings)}")


def _development(context: Context) -> Settings:
    """The demo's settings: its KASERU_HOME is marked as a development registry (the file
    DEVELOPMENT_MARKER), so every later command there runs in development mode with no
    KASERU_ENV. Refused for a home made by `kaseru init --production` or KASERU_ENV=production."""
    home = context.settings.home
    if (home / CODE_SECRET_FILE).exists() or context.environ.get("KASERU_ENV") == "production":
        raise DomainError(
            f"kaseru demo makes a development registry, and {home} is a production one "
            f"({home / CODE_SECRET_FILE} or KASERU_ENV=production); give the demo its own "
            "KASERU_HOME"
        )
    marker = home / DEVELOPMENT_MARKER
    if marker.exists():
        return context.settings
    private_folder(home)
    marker.write_text(
        "This KASERU_HOME holds a development registry (made by `kaseru demo`): every "
        "kaseru command run here is in development mode, which accepts the development "
        "code secret and keys. Never serve the public from it.\n"
    )
    # The home is a development one from now on, and the settings read before said it was
    # not (its mode, code secret and public URL follow from the marker).
    return context.reread_settings()
