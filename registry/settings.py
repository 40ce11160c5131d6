"""The one settings object, read from the environment once at start-up and passed down.

Environment variables: `DATABASE_URL` and `KASERU_*` (see README.md for the list).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from registry.errors import InvalidInput

DEVELOPMENT_CODE_SECRET = "kaseru-development-code-secret"
"""The code secret of development mode: it is in the public source, so anyone can compute
every code with it (registry/production.py refuses it outside development mode)."""
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:8000"
DEVELOPMENT_MARKER = "development"
"""The file `kaseru demo` writes into its KASERU_HOME: that home is a development registry."""
CODE_SECRET_FILE = Path("secrets") / "code-secret"
"""Where `kaseru init --production` keeps the code secret, under KASERU_HOME (0600)."""
ENVIRONMENTS = ("development", "production")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(name, f"must be a whole number, got {raw!r}") from None


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise InvalidInput(name, f"must be 1 or more, got {value}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "0").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise InvalidInput(name, f"must be 1 or 0, got {raw!r}")


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name)
    return Path(raw) if raw else None


def _networks(raw: str | None) -> tuple[str, ...]:
    parts = tuple(part.strip() for part in (raw or "").split(",") if part.strip())
    for part in parts:
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise InvalidInput(
                "KASERU_TRUSTED_PROXIES",
                f"must be addresses or CIDR blocks like 10.0.0.5,192.0.2.0/24; got {part!r}",
            ) from None
    return parts


def _environment(env: Mapping[str, str], home: Path) -> str:
    raw = (env.get("KASERU_ENV") or "").strip().lower()
    if not raw:
        return "development" if (home / DEVELOPMENT_MARKER).exists() else "production"
    if raw not in ENVIRONMENTS:
        raise InvalidInput("KASERU_ENV", f"must be development or production, got {raw!r}")
    return raw


def _code_secret(env: Mapping[str, str], home: Path, development: bool) -> str:
    given = (env.get("KASERU_CODE_SECRET") or "").strip()
    if given:
        return given
    path = home / CODE_SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return DEVELOPMENT_CODE_SECRET if development else ""
    except OSError as error:
        raise InvalidInput("KASERU_CODE_SECRET", f"cannot read {path}: {error.strerror}") from None


def _stages(raw: str | None) -> tuple[int, ...]:
    if raw is None or not raw.strip():
        return (-180, -60, 0, 30, 180)
    try:
        days = sorted({int(part) for part in raw.split(",")})
    except ValueError:
        raise InvalidInput(
            "KASERU_REMINDER_STAGES",
            f"must be whole numbers of days like -180,-60,0,30; got {raw!r}",
        ) from None
    return tuple(days)


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Defaults follow docs/domain.md; each is an env var."""

    home: Path = Path("var")
    """KASERU_HOME: folder for the embedded database and generated files."""
    env: str = "production"
    """KASERU_ENV: `production` (the default) or `development`. Outside development mode
    `kaseru serve`, issuing and rendering refuse development secrets and keys and a
    loopback public URL (registry/production.py, docs/production.md). Unset, a KASERU_HOME
    holding the file `development` (written by `kaseru demo`) is in development mode."""
    database_url: str = ""
    """DATABASE_URL: SQLAlchemy URL; default: SQLite file `$KASERU_HOME/kaseru.db`."""
    due_window_days: int = 180
    """KASERU_DUE_WINDOW_DAYS: an inspection counts as due this many days before its date."""
    grace_days: int = 90
    """KASERU_GRACE_DAYS: after the due date plus this grace, the standing is overdue."""
    endorsement_months: int = 6
    """KASERU_ENDORSEMENT_MONTHS: docs/domain.md: the seller sends the endorsed certificate
    to the Institute within six months of the sale."""
    lease_notice_months: int = 6
    """KASERU_LEASE_NOTICE_MONTHS: docs/domain.md: apply at least 6 months before move-out."""
    option_validity_new: int = 50
    """KASERU_OPTION_VALIDITY_NEW: validity in years of an option certificate, new build."""
    option_validity_existing: int = 25
    """KASERU_OPTION_VALIDITY_EXISTING: the same for an existing home."""
    option_has_floor: bool = False
    """KASERU_OPTION_HAS_FLOOR: whether an option certificate states a fixed floor."""
    bank_closing: bool = False
    """KASERU_BANK_CLOSING: count the banks' 31 Dec - 3 Jan closing as non-business days
    for payment days (docs/domain.md names only weekends and national holidays)."""
    public_url: str = DEVELOPMENT_PUBLIC_URL
    """KASERU_PUBLIC_URL: base of the links in QR codes (`{public_url}/v/...`). Unset, it is
    http://127.0.0.1:8000 in development mode and empty (refused) in production."""
    era_dates: bool = False
    """KASERU_ERA_DATES: print dates in the era form (令和8年11月23日) on documents."""
    director: str = "住替 次郎"
    """KASERU_DIRECTOR: the representative director named on documents (demo: fictional)."""
    institute_address: str = "東京都千代田区（架空の所在地）"
    """KASERU_INSTITUTE_ADDRESS: the Institute's address printed under the signature."""
    signing_key: Path | None = None
    """KASERU_SIGNING_KEY: PEM private key of the document-signing certificate
    (default $KASERU_HOME/keys/signing-key.pem, made by `kaseru keys init`)."""
    signing_cert: Path | None = None
    """KASERU_SIGNING_CERT: PEM document-signing certificate."""
    root_cert: Path | None = None
    """KASERU_ROOT_CERT: PEM root certificate the signing certificate chains to."""
    code_secret: str = DEVELOPMENT_CODE_SECRET
    """KASERU_CODE_SECRET: the key of the verification codes printed on certificates
    (照会コード): hex or base64 of at least 32 random bytes. Unset, the file
    $KASERU_HOME/secrets/code-secret (`kaseru init --production` writes it), else in
    development mode the development value, else empty (refused). Changing it changes
    every code."""
    code_failures_per_day: int = 20
    """KASERU_CODE_FAILURES_PER_DAY: wrong codes (and refused endorsement requests) a
    certificate number takes a day, from all addresses together, before it slows down: then
    an address that has already failed on that number today is refused it until the next
    day, while any other is still checked, so the right code always opens (0: no limit;
    docs/codes.md)."""
    code_failures_per_address: int = 100
    """KASERU_CODE_FAILURES_PER_ADDRESS: wrong codes (and refused endorsement requests) one
    client address may make a day, whatever the numbers, before its manual checks are
    refused until the next day (0: no limit; docs/codes.md)."""
    name_checks_per_day: int = 10
    """KASERU_NAME_CHECKS_PER_DAY: owner-name checks one issue takes a day on its
    verification page, from all addresses together (0: no limit; docs/codes.md)."""
    rate_limit: int = 120
    """KASERU_RATE_LIMIT: public requests a client may make in any 60 seconds."""
    pdf_verifications: int = 2
    """KASERU_PDF_VERIFICATIONS: uploaded PDFs one server worker verifies at once; more are
    answered 503 with Retry-After."""
    pdf_verify_seconds: int = 30
    """KASERU_PDF_VERIFY_SECONDS: an uploaded PDF not verified within this is answered 503."""
    trusted_proxies: tuple[str, ...] = ()
    """KASERU_TRUSTED_PROXIES: addresses or CIDR blocks of the reverse proxies in front of
    `kaseru serve`, comma-separated; only from them is X-Forwarded-For believed."""
    keyring: Path | None = None
    """KASERU_KEYRING: the QR keys' public set (keyring.json; private keys beside it)."""
    reminder_stages: tuple[int, ...] = (-180, -60, 0, 30, 180)
    """KASERU_REMINDER_STAGES: when reminders go out, in days from an inspection's due date
    (negative: before it), e.g. `-180,-60,0,30,180`."""
    outbox: Path | None = None
    """KASERU_OUTBOX: folder of reminder letters for printing (default $KASERU_HOME/outbox)."""
    smtp_host: str = ""
    """KASERU_SMTP_HOST: the SMTP server reminders are sent through (unset: no e-mail)."""
    smtp_port: int = 25
    """KASERU_SMTP_PORT."""
    smtp_starttls: bool = False
    """KASERU_SMTP_STARTTLS: upgrade the connection with STARTTLS before logging in."""
    smtp_cafile: Path | None = None
    """KASERU_SMTP_CAFILE: PEM certificates to trust for STARTTLS (default: the system's)."""
    smtp_user: str = ""
    """KASERU_SMTP_USER: log in with this user (and KASERU_SMTP_PASSWORD) when set."""
    smtp_password: str = ""
    """KASERU_SMTP_PASSWORD."""
    smtp_from: str = "reminders@kaseru.invalid"
    """KASERU_SMTP_FROM: the sender address of reminder e-mail."""
    backup_key: str = field(default="", repr=False)
    """KASERU_BACKUP_KEY: the key `kaseru backup` seals each backup with (HMAC-SHA256) and
    `kaseru restore` checks the seal with: at least 64 hex digits (32 random bytes, e.g.
    `openssl rand -hex 32`), kept apart from the backups (docs/backup.md). Unset (and no
    KASERU_BACKUP_KEY_FILE), backup and restore refuse."""
    backup_key_file: Path | None = None
    """KASERU_BACKUP_KEY_FILE: a file holding the backup key's hex digits instead, readable by
    its owner only (0600); not both."""
    today: dt.date | None = field(default=None)
    """KASERU_TODAY: pin "today" (YYYY-MM-DD) for demos and reproducible runs."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from `env` (default: the process environment)."""
        env = os.environ if env is None else env
        home = Path(env.get("KASERU_HOME") or "var")
        environment = _environment(env, home)
        development = environment == "development"
        today_raw = env.get("KASERU_TODAY")
        today = None
        if today_raw:
            try:
                today = dt.date.fromisoformat(today_raw)
            except ValueError:
                raise InvalidInput(
                    "KASERU_TODAY", f"must be YYYY-MM-DD, got {today_raw!r}"
                ) from None
        return cls(
            home=home,
            env=environment,
            database_url=env.get("DATABASE_URL") or "",
            due_window_days=_int(env, "KASERU_DUE_WINDOW_DAYS", 180),
            grace_days=_int(env, "KASERU_GRACE_DAYS", 90),
            endorsement_months=_int(env, "KASERU_ENDORSEMENT_MONTHS", 6),
            lease_notice_months=_int(env, "KASERU_LEASE_NOTICE_MONTHS", 6),
            option_validity_new=_int(env, "KASERU_OPTION_VALIDITY_NEW", 50),
            option_validity_existing=_int(env, "KASERU_OPTION_VALIDITY_EXISTING", 25),
            option_has_floor=_flag(env, "KASERU_OPTION_HAS_FLOOR"),
            bank_closing=_flag(env, "KASERU_BANK_CLOSING"),
            public_url=(
                env.get("KASERU_PUBLIC_URL") or (DEVELOPMENT_PUBLIC_URL if development else "")
            ).rstrip("/"),
            era_dates=_flag(env, "KASERU_ERA_DATES"),
            director=env.get("KASERU_DIRECTOR") or "住替 次郎",
            institute_address=env.get("KASERU_INSTITUTE_ADDRESS")
            or "東京都千代田区（架空の所在地）",
            signing_key=_path(env, "KASERU_SIGNING_KEY"),
            signing_cert=_path(env, "KASERU_SIGNING_CERT"),
            root_cert=_path(env, "KASERU_ROOT_CERT"),
            keyring=_path(env, "KASERU_KEYRING"),
            rate_limit=_int(env, "KASERU_RATE_LIMIT", 120),
            trusted_proxies=_networks(env.get("KASERU_TRUSTED_PROXIES")),
            pdf_verifications=_positive(env, "KASERU_PDF_VERIFICATIONS", 2),
            pdf_verify_seconds=_positive(env, "KASERU_PDF_VERIFY_SECONDS", 30),
            code_failures_per_day=_int(env, "KASERU_CODE_FAILURES_PER_DAY", 20),
            code_failures_per_address=_int(env, "KASERU_CODE_FAILURES_PER_ADDRESS", 100),
            name_checks_per_day=_int(env, "KASERU_NAME_CHECKS_PER_DAY", 10),
            code_secret=_code_secret(env, home, development),
            reminder_stages=_stages(env.get("KASERU_REMINDER_STAGES")),
            outbox=_path(env, "KASERU_OUTBOX"),
            smtp_host=env.get("KASERU_SMTP_HOST") or "",
            smtp_port=_int(env, "KASERU_SMTP_PORT", 25),
            smtp_starttls=_flag(env, "KASERU_SMTP_STARTTLS"),
            smtp_cafile=_path(env, "KASERU_SMTP_CAFILE"),
            smtp_user=env.get("KASERU_SMTP_USER") or "",
            smtp_password=env.get("KASERU_SMTP_PASSWORD") or "",
            smtp_from=env.get("KASERU_SMTP_FROM") or "reminders@kaseru.invalid",
            backup_key=env.get("KASERU_BACKUP_KEY") or "",
            backup_key_file=_path(env, "KASERU_BACKUP_KEY_FILE"),
            today=today,
        )

    @property
    def url(self) -> str:
        """The database URL in force: DATABASE_URL, else the embedded SQLite file."""
        if self.database_url:
            url = self.database_url
            # Plain postgresql:// means the psycopg 3 driver we ship, not psycopg2.
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{self.home / 'kaseru.db'}"

    def with_url(self, url: str) -> Settings:
        """A copy that uses another database."""
        return replace(self, database_url=url)

    @property
    def development(self) -> bool:
        """Whether this registry runs in development mode (KASERU_ENV)."""
        return self.env == "development"

    @property
    def keys_dir(self) -> Path:
        """Where `kaseru keys init` writes the development PKI."""
        return self.home / "keys"

    @property
    def outbox_dir(self) -> Path:
        """Where reminder letters are written for printing."""
        return self.outbox or self.home / "outbox"

    @property
    def documents_dir(self) -> Path:
        """Where each issue's signed certificate PDF is kept (its hash is in the database)."""
        return self.home / "documents"

    def current_date(self) -> dt.date:
        """Today, or KASERU_TODAY when pinned."""
        return self.today or dt.date.today()
