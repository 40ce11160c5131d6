"""The `kaseru` command line: parse, call one service, print. No business rules here."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from api.calc import DATE, calc
from api.tables import table
from registry import (
    access,
    areas,
    audit,
    backup,
    demo,
    documents,
    postal,
    production,
    reminders,
    services,
)
from registry.actors import SYSTEM, Actor, Role
from registry.database import Database
from registry.errors import DomainError
from registry.inputs import InspectionInput
from registry.kinds import CertificateStatus, InspectionResult
from registry.settings import CODE_SECRET_FILE, DEVELOPMENT_MARKER, Settings
from signing import payload
from signing.files import private_folder, write_private
from signing.keyring import Keyring, KeyringError
from signing.pki import create_development_pki, create_production_pki, is_development
from signing.verify import verify_pdf as verify_pdf_file


def _settings(db: str | None) -> Settings:
    settings = Settings.from_env()
    return settings.with_url(db) if db else settings


def _open(db: str | None) -> Database:
    database = Database(_settings(db))
    database.migrate()
    return database


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


db_option = click.option(
    "--db", "db", metavar="URL", help="Database URL (default: DATABASE_URL, else var/kaseru.db)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """kaseru: the registry of compatible-housing certificates (かせるストック)."""


@cli.command()
@db_option
@click.option(
    "--production",
    is_flag=True,
    help="First make the code secret and the signing and QR keys (docs/production.md).",
)
def init(db: str | None, production: bool) -> None:
    """Create the database (or bring its schema up to date). With --production, first the
    code secret and the keys of a production registry, each readable by its owner only."""
    made = _init_production(_settings(db)) if production else None
    database = _open(db)
    click.echo(f"registry ready at {database.url}")
    if made is not None:
        _print_production(made, _settings(db))


def _init_production(settings: Settings) -> list[str]:
    """Make (or keep) the code secret, the document-signing PKI and the QR key set; what
    was done, one line each. Refuses a development registry's home and development keys."""
    home = settings.home
    if (home / DEVELOPMENT_MARKER).exists() or os.environ.get("KASERU_ENV") == "development":
        raise DomainError(
            f"{home} is a development registry ({home / DEVELOPMENT_MARKER} or "
            "KASERU_ENV=development); give a production one its own KASERU_HOME"
        )
    private_folder(home)
    done = []
    secret_file = home / CODE_SECRET_FILE
    if os.environ.get("KASERU_CODE_SECRET"):
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
        ring = _keyring(ring_path, settings)
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


@cli.command("demo")
@db_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the demo's documents (default: out).",
)
def demo_command(db: str | None, out: Path | None) -> None:
    """Create the demo registry (safe to run again) and print a summary."""
    settings = _development(_settings(db))
    database = Database(settings)
    database.migrate()
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


def _development(settings: Settings) -> Settings:
    """The demo's settings: its KASERU_HOME is marked as a development registry (the file
    DEVELOPMENT_MARKER), so every later command there runs in development mode with no
    KASERU_ENV. Refused for a home made by `kaseru init --production` or KASERU_ENV=production."""
    home = settings.home
    if (home / CODE_SECRET_FILE).exists() or os.environ.get("KASERU_ENV") == "production":
        raise DomainError(
            f"kaseru demo makes a development registry, and {home} is a production one "
            f"({home / CODE_SECRET_FILE} or KASERU_ENV=production); give the demo its own "
            "KASERU_HOME"
        )
    marker = home / DEVELOPMENT_MARKER
    if not marker.exists():
        private_folder(home)
        marker.write_text(
            "This KASERU_HOME holds a development registry (made by `kaseru demo`): every "
            "kaseru command run here is in development mode, which accepts the development "
            "code secret and keys. Never serve the public from it.\n"
        )
    fresh = Settings.from_env({**os.environ, "KASERU_HOME": str(home)})
    return fresh.with_url(settings.database_url) if settings.database_url else fresh


cli.add_command(calc)


@cli.group()
def certificates() -> None:
    """List, show and revoke certificates."""


@certificates.command("list")
@db_option
@click.option("--status", type=click.Choice([s.value for s in CertificateStatus]), default=None)
@click.option("--development", default=None, help="Only this development.")
@click.option("--as-of", "as_of", type=DATE, default=None, help="Status and standing on this day.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def certificates_list(
    db: str | None,
    status: str | None,
    development: str | None,
    as_of: dt.date | None,
    as_json: bool,
) -> None:
    """List certificates with their status and standing."""
    database = _open(db)
    with database.reading() as session:
        rows = services.list_certificates(
            session,
            SYSTEM,
            database.settings,
            CertificateStatus(status) if status else None,
            development,
            as_of,
        )
    if as_json:
        _print_json(rows)
        return
    click.echo(
        table(
            ["number", "kind", "floor", "owner", "issue", "status", "standing"],
            [
                [
                    r["number"],
                    r["kind"],
                    r["floor"] or "-",
                    r["owner"],
                    r["issue_number"],
                    r["status"],
                    r["standing"],
                ]
                for r in rows
            ],
        )
    )


@certificates.command("show")
@db_option
@click.argument("number")
@click.option("--as-of", "as_of", type=DATE, default=None, help="Status and standing on this day.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def certificates_show(db: str | None, number: str, as_of: dt.date | None, as_json: bool) -> None:
    """Show one certificate by its compatible-housing number (適合住宅番号)."""
    database = _open(db)
    with database.reading() as session:
        certificate = services.find_certificate(session, SYSTEM, number)
        view = services.certificate_view(session, database.settings, certificate, as_of)
    if as_json:
        _print_json(view)
        return
    for key in (
        "number",
        "kind",
        "floor",
        "valid_from",
        "valid_until",
        "status",
        "standing",
        "next_inspection_due",
        "owner",
        "issue_number",
        "management_number",
    ):
        click.echo(f"{key:20} {view[key] if view[key] is not None else '-'}")
    click.echo(f"{'address':20} {view['house']['address']}")


@certificates.command("revoke")
@db_option
@click.argument("number")
@click.option("--reason", required=True, help="Why the certificate is revoked (printed on record).")
@click.option("--by", "by", default="staff:cli", show_default=True, help="Staff member's name.")
def certificates_revoke(db: str | None, number: str, reason: str, by: str) -> None:
    """Revoke a certificate (Institute staff)."""
    database = _open(db)
    with database.transaction() as session:
        certificate = services.revoke_certificate(
            session, Actor(by, Role.STAFF), database.settings, number, reason
        )
    click.echo(f"revoked {certificate.number} on {certificate.revoked_on}")


@cli.group("areas")
def areas_group() -> None:
    """Area assessments: floor categories by postal code (エリア査定)."""


@areas_group.command("import")
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Load the good rows even when some are bad.")
@click.option("--by", "by", default="staff:cli", show_default=True, help="Staff member's name.")
def areas_import(db: str | None, file: Path, skip_bad: bool, by: str) -> None:
    """Load a CSV of postal_code,category (70000, 50000, 30000, none, mixed)."""
    database = _open(db)
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
def areas_assess(
    db: str | None,
    postal_code: str,
    address: str,
    limit: int,
    on: dt.date | None,
    note: str | None,
    by: str,
) -> None:
    """Record a manual assessment (個別査定) of one address; prints its reference."""
    database = _open(db)
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
def areas_show(db: str | None, postal_code: str, as_json: bool) -> None:
    """A postal code's prefecture, region and assessed category."""
    location = postal.locate(postal_code)
    database = _open(db)
    with database.reading() as session:
        found = areas.category(session, location.postal_code)
    data = {
        "postal_code": location.postal_code,
        "prefecture": location.prefecture,
        "region": location.region,
        "category": found,
    }
    if as_json:
        _print_json(data)
    else:
        click.echo(
            f"{location.postal_code[:3]}-{location.postal_code[3:]} {location.prefecture} "
            f"({location.region}): {found or 'not assessed'}"
        )


@cli.group("keys")
def keys_group() -> None:
    """The document-signing key and certificates."""


@keys_group.command("init")
def keys_init() -> None:
    """Create a development root and document-signing certificate in $KASERU_HOME/keys."""
    settings = Settings.from_env()
    files = documents.pki_files(settings)
    if files.exist():
        click.echo(f"document-signing keys exist already in {files.key.parent}")
    else:
        create_development_pki(files)
        click.echo(f"wrote {files.key}, {files.certificate} and {files.root} (development only)")
    ring_path = documents.keyring_path(settings)
    if ring_path.exists():
        click.echo(f"QR keys exist already in {ring_path}")
    else:
        ring = Keyring.create(ring_path.parent, settings.current_date(), development=True)
        click.echo(
            f"wrote the QR key set {ring_path} (key {ring.active()[0].kid}), for development"
        )


@keys_group.command("rotate")
def keys_rotate() -> None:
    """Put a new QR key in service; the old one stays in the public set, retired."""
    settings = Settings.from_env()
    ring = _keyring(None, settings)
    key = ring.rotate(settings.current_date())
    click.echo(f"key {key.kid} in service from {key.not_before}")


@keys_group.command("compromise")
@click.argument("kid")
@click.option("--since", type=DATE, default=None, help="From this day (default: all it signed).")
def keys_compromise(kid: str, since: dt.date | None) -> None:
    """Mark a QR key compromised: what it signed is reported so."""
    settings = Settings.from_env()
    key = _keyring(None, settings).compromise(kid, since, today=settings.current_date())
    click.echo(f"key {key.kid} marked compromised since {key.compromised_since}")


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the public key set.")
def keys_list(as_json: bool) -> None:
    """The public QR key set (what offline verifiers need)."""
    ring = _keyring(None, Settings.from_env())
    if as_json:
        _print_json(ring.public_set())
        return
    click.echo(
        table(
            ["kid", "status", "from", "until", "compromised since"],
            [
                [
                    k.kid,
                    k.status.value,
                    k.not_before,
                    k.not_after or "-",
                    k.compromised_since or "-",
                ]
                for k in ring.keys.values()
            ],
        )
    )


def _keyring(path: Path | None, settings: Settings) -> Keyring:
    try:
        return Keyring.load(path or documents.keyring_path(settings))
    except KeyringError as error:
        raise DomainError(str(error)) from None


@cli.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--workers", type=int, default=1, show_default=True)
def serve(db: str | None, host: str, port: int, workers: int) -> None:
    """Serve the verification page and API (granian, ASGI)."""
    from granian.constants import Interfaces
    from granian.server import Server

    settings = _settings(db)
    if settings.development:
        click.echo(
            "kaseru: warning: development mode (KASERU_ENV=development, or "
            f"{settings.home / DEVELOPMENT_MARKER}): development code secret and keys are "
            "accepted; never serve the public like this (docs/production.md)",
            err=True,
        )
    else:
        production.require(settings, "serve")  # one line, before anything is opened
    if db:
        os.environ["DATABASE_URL"] = db  # the workers read their settings from the environment
    _open(db)  # migrate once, before any worker starts
    click.echo(f"serving on http://{host}:{port} ({workers} worker(s)); Ctrl-C stops")
    Server(
        "api.asgi:app",
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        log_access=False,
    ).serve()


@cli.group("apikey")
def apikey_group() -> None:
    """API keys for builders, Institute staff and admins."""


@apikey_group.command("create")
@db_option
@click.option("--role", type=click.Choice(["builder", "staff", "admin"]), required=True)
@click.option("--builder", "builder_code", default=None, help="The builder's code (builder keys).")
@click.option("--name", default="", help="Who or what uses the key.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def apikey_create(
    db: str | None, role: str, builder_code: str | None, name: str, as_json: bool
) -> None:
    """Make a key; it is shown once and stored only as a hash."""
    database = _open(db)
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
def apikey_revoke(db: str | None, key_id: str) -> None:
    """Revoke a key at once."""
    database = _open(db)
    with database.transaction() as session:
        access.revoke_api_key(session, Actor("admin:cli", Role.ADMIN), key_id)
    click.echo(f"revoked key {key_id}")


keys_option = click.option(
    "--keys",
    "keys_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Public key set (default: $KASERU_HOME/keys/keyring.json).",
)


@cli.group("verify")
def verify_group() -> None:
    """Check a certificate offline, with the public keys only (exit 0 valid, 1 not)."""


@verify_group.command("qr")
@click.argument("text")
@keys_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def verify_qr(text: str, keys_path: Path | None, as_json: bool) -> None:
    """A QR payload or its URL; `-` reads one per line from standard input."""
    settings = Settings.from_env()
    ring = _keyring(keys_path, settings)
    today = settings.current_date()
    lines = sys.stdin if text == "-" else [text]
    all_valid = True
    for line in lines:
        if not line.strip():
            continue
        verdict = payload.verify(line, ring, today)
        all_valid = all_valid and verdict.valid
        if as_json or text == "-":
            click.echo(json.dumps(verdict.as_json(), ensure_ascii=False))
        elif verdict.valid:
            assert verdict.claims is not None
            click.echo(
                f"valid: {verdict.claims.number} issue {verdict.claims.issue_number} "
                f"(owner {verdict.claims.owner_sequence}, until {verdict.claims.valid_until})"
            )
        else:
            click.echo(f"{verdict.status}: {verdict.reason}")
    if not all_valid:
        raise SystemExit(1)


@verify_group.command("pdf")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@keys_option
@click.option(
    "--root",
    "root_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The registry's root certificate (default: $KASERU_HOME/keys/root-cert.pem).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def verify_pdf(file: Path, keys_path: Path | None, root_path: Path | None, as_json: bool) -> None:
    """A certificate PDF: its signature, its QR payload and the numbers it prints."""
    settings = Settings.from_env()
    ring = _keyring(keys_path, settings)
    root = root_path or documents.pki_files(settings).root
    if not root.exists():
        raise DomainError(f"no root certificate at {root}; give --root")
    verdict = verify_pdf_file(file.read_bytes(), ring, root.read_bytes(), settings.current_date())
    if as_json:
        _print_json(verdict.as_json())
    elif verdict.valid:
        click.echo(
            f"valid: {verdict.as_json()['number']} issue {verdict.as_json()['issue_number']}"
        )
    else:
        click.echo(f"{verdict.status}: {verdict.reason}")
    if not verdict.valid:
        raise SystemExit(1)


@cli.group("render")
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
def render_certificate(
    db: str | None, number: str, issue_number: str | None, out: Path | None
) -> None:
    """The certificate (証明書) of its active issue, or of --issue."""
    database = _open(db)
    with database.transaction() as session:
        pdf, issue = documents.certificate_pdf(
            session, SYSTEM, _maker(database), number, issue_number
        )
    _written(out or Path(f"certificate-{issue.number}.pdf"), pdf)


@render_group.command("notice")
@db_option
@click.argument("case_number")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def render_notice(db: str | None, case_number: str, out: Path | None) -> None:
    """The approval notice (承認（決定）通知書) of a lease application."""
    database = _open(db)
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
def render_guarantee(
    db: str | None,
    development: str,
    market_rent: int | None,
    builder: str | None,
    out: Path | None,
) -> None:
    """The marketing guarantee (販促用の保証表示) of one builder's development."""
    database = _open(db)
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
def render_reminder(db: str | None, number: str, stage: str, out: Path | None) -> None:
    """An inspection reminder letter (点検時期のお知らせ) for a certificate."""
    database = _open(db)
    with database.reading() as session:
        pdf = documents.reminder_pdf(session, SYSTEM, _maker(database), number, stage)
    _written(out or Path(f"reminder-{number}.pdf"), pdf)


@cli.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def audit_verify(db: str | None, as_json: bool) -> None:
    """Check the hash chain; exit 1 naming the first broken event."""
    database = _open(db)
    with database.reading() as session:
        report = audit.verify(session)
    if as_json:
        _print_json(
            {
                "intact": report.intact,
                "events": report.events,
                "head": report.head_hash,
                "broken_seq": report.broken_seq,
                "reason": report.reason,
            }
        )
    elif report.intact:
        click.echo(f"audit chain intact: {report.events} events, head {report.head_hash}")
    else:
        click.echo(f"audit chain broken at event {report.broken_seq}: {report.reason}")
    if not report.intact:
        raise SystemExit(1)


def _print_backup(summary: backup.Summary, done: str, as_json: bool) -> None:
    if as_json:
        _print_json(summary.as_json())
        return
    click.echo(
        f"{done} {summary.path} ({summary.size:,} bytes, {summary.kind}, schema revision "
        f"{summary.revision}) in {summary.seconds:.2f} s"
    )
    for note in summary.notes:
        click.echo(note)
    click.echo(table(["table", "rows"], [[n, f"{c:,}"] for n, c in sorted(summary.counts.items())]))
    chain = summary.chain
    state = (
        "not checked"
        if chain is None
        else f"intact ({chain.events} events)"
        if chain.intact
        else f"BROKEN at event {chain.broken_seq}: {chain.reason}"
    )
    click.echo(f"audit chain {state}; head {summary.head_seq} {summary.head_hash}")


@cli.command("backup")
@db_option
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def backup_command(db: str | None, file: Path, as_json: bool) -> None:
    """Write a consistent copy of the registry to FILE (also while it is being served):
    SQLite's online backup, or pg_dump's custom format for PostgreSQL, sealed with the
    backup key (KASERU_BACKUP_KEY)."""
    summary = backup.backup(_settings(db), file)
    _print_backup(summary, "wrote", as_json)
    if not summary.intact:
        raise DomainError(
            f"the registry's audit chain is broken; {file} holds it as it is, "
            "and restore will refuse it"
        )


@cli.command("restore")
@db_option
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the registry with the backup.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def restore_command(db: str | None, file: Path, yes: bool, as_json: bool) -> None:
    """Replace the registry with the backup in FILE, after checking it (its seal with the
    backup key, kind, schema revision, schema, audit chain; docs/backup.md). Needs --yes."""
    settings = _settings(db)
    if not yes:
        found = backup.inspect(settings, file)
        raise DomainError(
            f"restore would replace the registry at {backup.display_url(settings)} with "
            f"{file} (audit head {found.head_seq}); nothing was changed, add --yes to do it"
        )
    summary = backup.restore(settings, file)
    _print_backup(summary, f"restored {backup.display_url(settings)} from", as_json)


@cli.group("inspections")
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
def inspections_record(
    db: str | None,
    number: str,
    inspected_on: dt.date,
    inspector: str,
    result: str,
    findings: str,
    repairs: str | None,
) -> None:
    """Record an inspection of a certificate's house; its standing follows at once."""
    database = _open(db)
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


@cli.group("reminders")
def reminders_group() -> None:
    """Inspection reminders (点検のお知らせ): letters and e-mail, each sent once."""


@reminders_group.command("run")
@db_option
@click.option(
    "--as-of", "as_of", type=DATE, default=None, help="The day to run for (default today)."
)
@click.option("--send", is_flag=True, help="Send (without it: a dry run that sends nothing).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")
def reminders_run(db: str | None, as_of: dt.date | None, send: bool, as_json: bool) -> None:
    """Find the reminders owed on a day; with --send, write each letter (a signed PDF) into
    the outbox and e-mail it where the owner has an address, each reminder once."""
    database = _open(db)
    run = reminders.Run(database, database.settings, as_of or database.settings.current_date())
    found = run.scan()

    def show(item: dict[str, Any]) -> None:
        if as_json:
            click.echo(json.dumps(item, ensure_ascii=False))
        else:
            click.echo(
                f"{item['number']}  {item['stage']:12} {item['due_date']}  "
                f"{item['channel']:12} {item['state']}"
            )

    if not send:
        for reminder in found.owed:
            show(reminder.as_json("would_send"))
        for reminder in found.unconfirmed:
            show(reminder.as_json("unconfirmed"))
        if not as_json:
            emails = sum(1 for r in found.owed if r.email)
            click.echo(
                f"dry run as of {run.as_of}: {len(found.owed)} to send "
                f"({len(found.owed)} letters, {emails} e-mails), {len(found.unconfirmed)} "
                "unconfirmed; nothing was sent"
            )
        return
    outcomes = run.send(found, lambda outcome: show(outcome.as_json()))
    if not as_json:
        counts = Counter(o.state for o in outcomes)
        emails = sum(1 for o in outcomes if o.state == "sent" and o.reminder.email)
        click.echo(
            f"as of {run.as_of}: {counts['sent']} sent ({counts['sent']} letters in "
            f"{run.outbox}, {emails} e-mails), {counts['taken']} taken by another run, "
            f"{counts['unconfirmed']} unconfirmed"
        )


@reminders_group.command("list")
@db_option
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def reminders_list(db: str | None, limit: int, as_json: bool) -> None:
    """Reminders sent (and claimed), newest first."""
    database = _open(db)
    with database.reading() as session:
        page = reminders.sent(session, SYSTEM, limit=limit)
    total, rows = page.total, page.items
    if as_json:
        _print_json({"total": total, "items": rows})
        return
    click.echo(
        table(
            ["number", "stage", "due", "channel", "state", "sent"],
            [
                [
                    r["number"],
                    r["stage"],
                    r["due_date"],
                    r["channel"],
                    r["state"],
                    r["sent_at"] or "-",
                ]
                for r in rows
            ],
        )
    )
    click.echo(f"{total} reminders in all")


def _fail(message: str, code: int) -> int:
    click.echo(f"kaseru: error: {message}", err=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the command line; errors become one line on stderr and a non-zero exit."""
    # pyHanko logs a traceback when it meets a suspicious incremental update; the verdict
    # says so already, in one line.
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    try:
        result = cli.main(args=argv, prog_name="kaseru", standalone_mode=False)
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
        if os.environ.get("KASERU_DEBUG"):
            raise
        return _fail(
            f"internal error: {type(error).__name__}: {error} (KASERU_DEBUG=1 shows more)", 70
        )
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
