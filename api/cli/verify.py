"""`kaseru verify qr | pdf`: a certificate checked offline, with the public keys only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from api.cli.context import Context, keys_option, pass_context, print_json
from registry import documents
from registry.errors import DomainError
from signing import payload
from signing.verify import verify_pdf as verify_pdf_file


@click.group("verify")
def verify_group() -> None:
    """Check a certificate offline, with the public keys only (exit 0 valid, 1 not)."""


@verify_group.command("qr")
@click.argument("text")
@keys_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def verify_qr(context: Context, text: str, keys_path: Path | None, as_json: bool) -> None:
    """A QR payload or its URL; `-` reads one per line from standard input."""
    settings = context.settings
    ring = context.keyring(keys_path)
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
@pass_context
def verify_pdf(
    context: Context, file: Path, keys_path: Path | None, root_path: Path | None, as_json: bool
) -> None:
    """A certificate PDF: its signature, its QR payload and the numbers it prints."""
    settings = context.settings
    ring = context.keyring(keys_path)
    root = root_path or documents.pki_files(settings).root
    if not root.exists():
        raise DomainError(f"no root certificate at {root}; give --root")
    verdict = verify_pdf_file(file.read_bytes(), ring, root.read_bytes(), settings.current_date())
    if as_json:
        print_json(verdict.as_json())
    elif verdict.valid:
        click.echo(
            f"valid: {verdict.as_json()['number']} issue {verdict.as_json()['issue_number']}"
        )
    else:
        click.echo(f"{verdict.status}: {verdict.reason}")
    if not verdict.valid:
        raise SystemExit(1)
