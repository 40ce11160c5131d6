"""Production mode (issue 13, finding 1): outside KASERU_ENV=development, `kaseru serve`,
issuing and rendering refuse the development code secret (a constant in the public
source), the keys `kaseru keys init` makes and a loopback or missing public URL, with one
line naming each; `kaseru init --production` makes what a production registry needs, with
the right permissions; the demo's home remembers that it is a development registry.

Each `kaseru serve` here is a real process; a refusal is judged by its exit code, its one
line on stderr and a port nobody listens on."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from api.cli import main
from registry import services
from registry.errors import DomainError
from registry.production import NotForProduction, problems, secret_bytes
from registry.services.certificates import active_issue, find_certificate
from registry.settings import DEVELOPMENT_CODE_SECRET, Settings
from registry.verification import tracking_code, verification_code
from signing.keyring import Keyring
from signing.pki import PkiFiles, create_development_pki
from tests import factories as f
from tests.mailbox import free_port
from tests.server import Server, environment

KASERU = str(Path(sys.executable).with_name("kaseru"))
PUBLIC_URL = "https://kaseru.example.jp"
REFUSAL = "kaseru: error: refusing to serve outside development mode: "


def _clean_environment(**values: str) -> dict[str, str]:
    """The process environment without the suite's development mode or any registry
    setting, plus `values`."""
    kept = {
        k: v for k, v in os.environ.items() if not k.startswith("KASERU_") and k != "DATABASE_URL"
    }
    return {**kept, **values}


@pytest.fixture(scope="module")
def production_home(tmp_path_factory) -> tuple[Path, str]:
    """A home made by `kaseru init --production` (once per module), and what it printed."""
    home = tmp_path_factory.mktemp("production") / "home"
    done = subprocess.run(
        [KASERU, "init", "--production"],
        env=_clean_environment(KASERU_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return home, done.stdout


@pytest.fixture
def home(production_home, tmp_path) -> Path:
    """A copy of the production home (modes kept) for a test to spoil."""
    copy = tmp_path / "home"
    shutil.copytree(production_home[0], copy)
    return copy


def _serve(env: dict[str, str]) -> tuple[int, str, int]:
    """Start `kaseru serve` and wait for it to end: exit code, stderr, its port. A server
    that starts instead of refusing is killed (with its workers) after 60 s and fails."""
    port = free_port()
    process = subprocess.Popen(
        [KASERU, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=10)
        raise AssertionError("kaseru serve started instead of refusing") from None
    return process.returncode, err, port


def _nobody_listens(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except urllib.error.URLError:
        return True
    return False


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# ---- the finding, reproduced, then refused ----


@pytest.mark.usefixtures("parties")
def test_the_source_code_secret_opens_records_so_production_refuses_to_serve_it(
    db, settings, maker, tmp_path, production_home
):
    """Found by the review: with KASERU_CODE_SECRET unset the registry used a constant from
    its source, and a code computed from it opened GET /api/v1/certificates/{number} and an
    endorsement's status. In development mode it still does (that is what the mode is
    for); outside it, `kaseru serve` with that secret does not start."""
    number = f.issue(db, settings)
    with db.transaction() as session:
        request = services.request_endorsement(session, f.STAFF, settings, f.endorsement(number))
    with db.reading() as session:
        issue_number = active_issue(session, find_certificate(session, f.STAFF, number)).number
    # Computed from the public constant alone, not from the registry's settings.
    code = verification_code(DEVELOPMENT_CODE_SECRET, number, issue_number)
    tracking = request.tracking_number
    status_code = tracking_code(DEVELOPMENT_CODE_SECRET, tracking)

    development = Server(environment(maker.settings), tmp_path / "dev.log").start()
    try:
        opened, body = _get(f"{development.url}/api/v1/certificates/{number}?code={code}")
        status, _ = _get(f"{development.url}/api/v1/endorsements/{tracking}?code={status_code}")
    finally:
        development.stop()
    assert (opened, status) == (200, 200)
    assert number.encode() in body

    # The same registry and secret outside development mode, all else fit for production.
    env = _clean_environment(
        KASERU_HOME=str(production_home[0]),
        DATABASE_URL=settings.url,
        KASERU_PUBLIC_URL=PUBLIC_URL,
        KASERU_CODE_SECRET=DEVELOPMENT_CODE_SECRET,
    )
    code_, err, port = _serve(env)
    assert code_ == 1
    assert err.splitlines() == [
        REFUSAL + "KASERU_CODE_SECRET is the development value, which is in the public "
        "source (docs/production.md; KASERU_ENV=development for a demo)"
    ]
    assert _nobody_listens(port)


# ---- each reason ----


def _spoil_pki(home: Path) -> None:
    keys = home / "keys"
    for name in ("signing-key.pem", "signing-cert.pem", "root-cert.pem"):
        (keys / name).unlink()
    create_development_pki(PkiFiles.in_folder(keys))


def _spoil_ring(home: Path) -> None:
    for path in (home / "keys").glob("qr-*.pem"):
        path.unlink()
    (home / "keys" / "keyring.json").unlink()
    Keyring.create(home / "keys", f.TODAY, development=True)


SHORT_HEX = "ab" * 31
SHORT_BASE64 = base64.b64encode(b"x" * 31).decode()

REASONS = {
    "secret unset": (
        {},
        lambda home: (home / "secrets" / "code-secret").unlink(),
        "KASERU_CODE_SECRET is not set (nor is $KASERU_HOME/secrets/code-secret)",
    ),
    "secret the development value": (
        {"KASERU_CODE_SECRET": DEVELOPMENT_CODE_SECRET},
        None,
        "KASERU_CODE_SECRET is the development value, which is in the public source",
    ),
    "secret 31 bytes of hex": (
        {"KASERU_CODE_SECRET": SHORT_HEX},
        None,
        "KASERU_CODE_SECRET is 31 bytes; it needs at least 32 random bytes (hex or base64)",
    ),
    "secret 31 bytes of base64": (
        {"KASERU_CODE_SECRET": SHORT_BASE64},
        None,
        "KASERU_CODE_SECRET is 31 bytes; it needs at least 32 random bytes (hex or base64)",
    ),
    "secret a passphrase": (
        {"KASERU_CODE_SECRET": "correct horse battery staple!"},
        None,
        "KASERU_CODE_SECRET is neither hex nor base64",
    ),
    "development signing keys": ({}, _spoil_pki, "are development keys (kaseru keys init)"),
    "development QR key set": ({}, _spoil_ring, "is a development set (kaseru keys init)"),
    "public URL unset": (
        {"KASERU_PUBLIC_URL": ""},
        None,
        "KASERU_PUBLIC_URL is not set (the links in QR codes start with it)",
    ),
    "public URL 127.0.0.1": (
        {"KASERU_PUBLIC_URL": "http://127.0.0.1:8000"},
        None,
        "KASERU_PUBLIC_URL http://127.0.0.1:8000 is this machine (loopback)",
    ),
    "public URL localhost": (
        {"KASERU_PUBLIC_URL": "https://localhost"},
        None,
        "is this machine (loopback)",
    ),
    "public URL ::1": ({"KASERU_PUBLIC_URL": "https://[::1]:8443"}, None, "(loopback)"),
    "public URL 127.8.9.10": ({"KASERU_PUBLIC_URL": "http://127.8.9.10"}, None, "(loopback)"),
    "public URL not http": (
        {"KASERU_PUBLIC_URL": "kaseru.example.jp"},
        None,
        "KASERU_PUBLIC_URL 'kaseru.example.jp' is not an http(s) URL",
    ),
    "signing key readable by others": (
        {},
        lambda home: (home / "keys" / "signing-key.pem").chmod(0o644),
        "signing-key.pem can be read by others (mode 0644; chmod 600 it)",
    ),
}


@pytest.mark.parametrize("reason", list(REASONS))
def test_serve_refuses_outside_development_mode(home, reason):
    values, spoil, expected = REASONS[reason]
    if spoil is not None:
        spoil(home)
    env = _clean_environment(
        **{"KASERU_HOME": str(home), "KASERU_PUBLIC_URL": PUBLIC_URL, **values}
    )
    code, err, port = _serve(env)
    assert code == 1
    [line] = err.splitlines()
    assert line.startswith(REFUSAL) and expected in line, line
    assert _nobody_listens(port)


def test_every_reason_is_named_at_once(tmp_path):
    """A home with nothing in production mode: each problem in the one line."""
    env = _clean_environment(KASERU_HOME=str(tmp_path / "empty"), KASERU_ENV="production")
    code, err, _ = _serve(env)
    [line] = err.splitlines()
    assert code == 1
    for part in (
        "KASERU_CODE_SECRET is not set",
        "KASERU_PUBLIC_URL is not set",
        "no document-signing key",
        "no key set at",
    ):
        assert part in line, part


def test_secrets_are_hex_or_base64_of_32_bytes_or_more():
    assert secret_bytes("00" * 32) == bytes(32)
    assert secret_bytes(base64.urlsafe_b64encode(b"\xfb" * 32).decode().rstrip("=")) == (
        b"\xfb" * 32
    )
    assert secret_bytes("ab!c") is None  # neither hex nor base64
    fine = Settings(code_secret=secrets.token_urlsafe(32), public_url=PUBLIC_URL)
    assert not any("KASERU_CODE_SECRET" in p for p in problems(fine))
    assert not any("KASERU_PUBLIC_URL" in p for p in problems(fine))
    assert problems(replace(fine, env="development", code_secret=DEVELOPMENT_CODE_SECRET)) == []


@pytest.mark.usefixtures("parties")
def test_issuing_and_rendering_refuse_outside_development_mode(db, settings, maker, capsys):
    """The same check guards the services, whoever calls them: nothing is issued."""
    production = replace(settings, env="production")
    before = f.counts(db)
    with db.transaction() as session, pytest.raises(NotForProduction) as refused:
        services.issue_certificate(session, f.BUILDER_ACTOR, production, f.certificate())
    assert refused.value.message.startswith("refusing to issue certificates outside")
    assert f.counts(db) == before
    from registry.documents import DocumentMaker

    with pytest.raises(NotForProduction, match="refusing to sign documents outside"):
        DocumentMaker(replace(maker.settings, env="production"))


def test_render_refuses_on_the_command_line(home, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KASERU_ENV", "production")
    monkeypatch.setenv("KASERU_HOME", str(home))
    monkeypatch.setenv("KASERU_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("KASERU_CODE_SECRET", DEVELOPMENT_CODE_SECRET)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    code = main(["render", "certificate", "A0020000012015000004", "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("kaseru: error: refusing to sign documents outside development mode")
    assert not (tmp_path / "c").exists()


# ---- development mode ----


def test_serve_warns_in_development_mode(settings, maker, tmp_path):
    server = Server(environment(maker.settings), tmp_path / "server.log").start()
    try:
        assert _get(f"{server.url}/healthz")[0] == 200
    finally:
        server.stop()
    warnings = [
        line
        for line in (tmp_path / "server.log").read_text().splitlines()
        if line.startswith("kaseru: warning: development mode")
    ]
    assert len(warnings) == 1
    assert "never serve the public like this" in warnings[0]


def test_the_demo_home_remembers_it_is_a_development_registry(
    settings, tmp_path, monkeypatch, capsys, production_home
):
    """`make run` sets no KASERU_ENV; every command after it works there as before."""
    monkeypatch.delenv("KASERU_ENV")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("KASERU_HOME", str(tmp_path / "var"))
    monkeypatch.setenv("KASERU_TODAY", settings.current_date().isoformat())
    assert Settings.from_env().env == "production"  # a fresh home, before the demo
    assert main(["demo", "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    marker = tmp_path / "var" / "development"
    assert "development registry" in marker.read_text()
    later = Settings.from_env()
    assert (later.env, later.code_secret) == ("development", DEVELOPMENT_CODE_SECRET)
    assert later.public_url == "http://127.0.0.1:8000"
    number = json.loads((tmp_path / "out" / "certificates.json").read_text())[0]["number"]
    out = tmp_path / "again.pdf"
    assert main(["render", "certificate", number, "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    # KASERU_ENV=production still wins over the marker.
    monkeypatch.setenv("KASERU_ENV", "production")
    assert main(["render", "certificate", number, "--out", str(out)]) == 1
    assert "refusing to sign documents" in capsys.readouterr().err
    # The demo never marks a production home.
    monkeypatch.delenv("KASERU_ENV")
    monkeypatch.setenv("KASERU_HOME", str(production_home[0]))
    assert main(["demo", "--out", str(tmp_path / "out2")]) == 1
    assert "is a production one" in capsys.readouterr().err
    assert not (production_home[0] / "development").exists()


# ---- kaseru init --production ----


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_production_makes_secrets_and_keys_owner_only(production_home, tmp_path):
    home, printed = production_home
    keys = home / "keys"
    [qr_key] = keys.glob("qr-*.pem")
    assert {p: _mode(p) for p in (home, home / "secrets", keys)} == dict.fromkeys(
        (home, home / "secrets", keys), 0o700
    )
    for private in (home / "secrets" / "code-secret", keys / "signing-key.pem", qr_key):
        assert _mode(private) == 0o600, private
    assert _mode(home / "kaseru.db") == 0o600
    secret = (home / "secrets" / "code-secret").read_text().strip()
    assert len(secret_bytes(secret) or b"") == 32
    ring = Keyring.load(keys / "keyring.json")
    assert not ring.development
    # What it prints: where everything is, what to keep safe, what to set; no secret.
    for needle in (
        "code secret: ",
        "Keep safe",
        str(keys / "signing-key.pem"),
        "qr-*.pem",
        f"KASERU_HOME={home}",
        "KASERU_PUBLIC_URL=https://",
        "Until then kaseru serve refuses to start: KASERU_PUBLIC_URL is not set",
    ):
        assert needle in printed, needle
    assert secret not in printed
    assert "PRIVATE KEY" not in printed
    for private in (keys / "signing-key.pem", qr_key):
        body = b"".join(private.read_bytes().splitlines()[1:-1]).decode()
        assert body[:40] not in printed

    # Run again: everything is kept, nothing is replaced.
    again = subprocess.run(
        [KASERU, "init", "--production"],
        env=_clean_environment(KASERU_HOME=str(home), KASERU_PUBLIC_URL=PUBLIC_URL),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert "(kept)" in again.stdout and "kaseru serve will start" in again.stdout
    assert (home / "secrets" / "code-secret").read_text().strip() == secret

    # Then kaseru serve starts in production mode with a public URL, and warns of nothing.
    server = Server(
        _clean_environment(KASERU_HOME=str(home)), tmp_path / "prod.log", public_url=PUBLIC_URL
    ).start()
    try:
        assert _get(f"{server.url}/healthz")[0] == 200
        keys_status, published = _get(f"{server.url}/api/v1/keys")
        schema_page = _get(f"{server.url}/schema")
        schema_json = _get(f"{server.url}/schema/openapi.json")[0]
    finally:
        server.stop()
    assert keys_status == 200 and b'"development"' not in published
    # No interactive page outside development mode: /schema is the JSON itself.
    assert schema_page[0] == 200 and schema_page[1].startswith(b'{"')
    assert b"<script" not in schema_page[1] and schema_json == 200
    assert "warning" not in (tmp_path / "prod.log").read_text()


def test_init_production_refuses_a_development_home(tmp_path, settings, maker):
    """A demo's home, or development keys where the production ones would go."""
    demo_home = tmp_path / "demo"
    demo_home.mkdir()
    (demo_home / "development").write_text("demo\n")
    done = subprocess.run(
        [KASERU, "init", "--production"],
        env=_clean_environment(KASERU_HOME=str(demo_home)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("kaseru: error: ") and "is a development registry" in done.stderr
    assert not (demo_home / "secrets").exists()

    dev_keys = tmp_path / "devkeys"
    create_development_pki(PkiFiles.in_folder(dev_keys / "keys"))
    done = subprocess.run(
        [KASERU, "init", "--production"],
        env=_clean_environment(KASERU_HOME=str(dev_keys)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "are development keys (kaseru keys init); move them away first" in done.stderr


def test_init_production_refuses_development_mode(tmp_path, monkeypatch, capsys):
    """KASERU_ENV=development (as in this suite) is no place to make production secrets."""
    monkeypatch.setenv("KASERU_HOME", str(tmp_path / "home"))
    assert main(["init", "--production"]) == 1
    assert "is a development registry" in capsys.readouterr().err
    assert not (tmp_path / "home" / "secrets").exists()


def test_the_demo_refuses_explicit_production(settings, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KASERU_ENV", "production")
    monkeypatch.setenv("KASERU_HOME", str(tmp_path / "fresh"))
    assert main(["demo", "--db", settings.database_url, "--out", str(tmp_path / "o")]) == 1
    assert "kaseru demo makes a development registry" in capsys.readouterr().err
    assert not (tmp_path / "fresh" / "development").exists()


def test_a_bad_kaseru_env_is_named(monkeypatch):
    with pytest.raises(DomainError, match="KASERU_ENV: must be development or production"):
        Settings.from_env({"KASERU_ENV": "staging"})
