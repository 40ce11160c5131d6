"""The registry's tables (SQLModel). Enumerated values are stored as their strings.

Words: a *house* is registered once; a *certificate* (適合住宅証明書) is granted for it; each
printed document of a certificate is an *issue* (発行), and only one issue is active at a
time: an endorsement approval supersedes it with a new issue in the buyer's name.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from sqlalchemy import ForeignKeyConstraint, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from registry.columns import DecimalText, UTCDateTime


def utcnow() -> dt.datetime:
    """The current instant in UTC."""
    return dt.datetime.now(dt.UTC)


class Counter(SQLModel, table=True):
    """A named sequence for numbers that must stay unique under concurrent writers."""

    __tablename__ = "counter"
    name: str = Field(primary_key=True, max_length=64)
    value: int


class Builder(SQLModel, table=True):
    """A partner builder (施工協賛事業者)."""

    __tablename__ = "builder"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=6)
    name: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Hlp(SQLModel, table=True):
    """A Housing-Life Planner (ハウジングライフプランナー), id like HLP-000001."""

    __tablename__ = "hlp"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=10)
    name: str = Field(max_length=200)


class Development(SQLModel, table=True):
    """A builder's development (分譲地): its name is unique among that builder's, and
    another builder's of the same name is another development (issue 13: a name shared
    by two builders must never pool their lots on one page or flyer)."""

    __tablename__ = "development"
    __table_args__ = (
        # One development of a name per builder, kept by the database: two requests that
        # both start it end with one row (the second insert does nothing).
        UniqueConstraint("builder_id", "name", name="uq_development_builder_name"),
        # The target of house's composite key below.
        UniqueConstraint("id", "builder_id", name="uq_development_id_builder"),
    )
    id: int | None = Field(default=None, primary_key=True)
    builder_id: int = Field(foreign_key="builder.id")
    name: str = Field(max_length=200, index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class House(SQLModel, table=True):
    """A house record, identified by its management number (管理番号). A house in a
    development is in one of its own builder's: the key (development_id, builder_id)
    refers to development (id, builder_id), so the database refuses any other."""

    __tablename__ = "house"
    __table_args__ = (
        ForeignKeyConstraint(
            ["development_id", "builder_id"],
            ["development.id", "development.builder_id"],
            name="fk_house_development_builder",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    management_number: str = Field(unique=True, max_length=8)
    builder_id: int = Field(foreign_key="builder.id", index=True)
    development_id: int | None = Field(default=None, index=True)
    lot: str | None = Field(default=None, max_length=50)
    postal_code: str = Field(max_length=7)
    prefecture: str = Field(max_length=10, index=True)
    region: str = Field(max_length=20, index=True)
    address: str = Field(max_length=300)
    completion_date: dt.date
    construction: str = Field(max_length=10)
    grade_deterioration: int | None = None
    grade_maintenance: int | None = None
    grade_seismic: int | None = None
    longlife_authority: str | None = Field(default=None, max_length=100)
    longlife_number: str | None = Field(default=None, max_length=100)
    seismic_index: Decimal | None = Field(default=None, sa_type=DecimalText)
    insurance_from: dt.date | None = None
    insurance_until: dt.date | None = None
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Certificate(SQLModel, table=True):
    """A certificate (移住・住みかえ支援適合住宅証明書), numbered by its 適合住宅番号."""

    __tablename__ = "certificate"
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, max_length=20)
    house_id: int = Field(foreign_key="house.id", index=True)
    hlp_id: int = Field(foreign_key="hlp.id")
    kind: str = Field(max_length=20)
    floor: int | None = None
    manual_assessment_id: int | None = Field(default=None, foreign_key="manual_assessment.id")
    valid_from: dt.date
    valid_until: dt.date = Field(index=True)
    revoked_on: dt.date | None = None
    revoke_reason: str | None = Field(default=None, max_length=500)
    owner_sequence: int = 1
    version: int = 1
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Issue(SQLModel, table=True):
    """One issued document of a certificate (発行), numbered by its 発行番号."""

    __tablename__ = "issue"
    __table_args__ = (
        # One active issue per certificate, kept by the database; the reminder scan and
        # verification find it through this index without reading every issue.
        Index(
            "ux_issue_active",
            "certificate_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, max_length=10)
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    owner_sequence: int
    owner_name: str = Field(max_length=200)
    owner_address: str | None = Field(default=None, max_length=300)
    owner_email: str | None = Field(default=None, max_length=254)
    issued_on: dt.date
    status: str = Field(max_length=12)
    pdf_sha256: str | None = Field(default=None, max_length=64)
    owner_salt: str = Field(default_factory=lambda: secrets.token_hex(16), max_length=32)
    """Random per issue: the QR payload carries SHA-256(salt ‖ owner name), so the registry
    can tell whether a typed name matches without the paper telling anyone the name."""


class PlanEntry(SQLModel, table=True):
    """One due date of a certificate's maintenance plan (維持管理計画の点検時期)."""

    __tablename__ = "plan_entry"
    __table_args__ = (
        UniqueConstraint("certificate_id", "due_date"),
        # The reminder scan reads only open dates; over a million certificates most dates
        # are inspected, so a partial index keeps the scan to the few that matter.
        Index(
            "ix_plan_entry_open_due",
            "due_date",
            sqlite_where=text("inspection_id IS NULL"),
            postgresql_where=text("inspection_id IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    due_date: dt.date = Field(index=True)
    label: str = Field(max_length=100)
    inspection_id: int | None = Field(default=None, foreign_key="inspection.id")


class Inspection(SQLModel, table=True):
    """An inspection of a house (点検) and the repairs it required (補修)."""

    __tablename__ = "inspection"
    id: int | None = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    inspected_on: dt.date
    inspector: str = Field(max_length=200)
    result: str = Field(max_length=20)
    findings: str = Field(default="", max_length=2000)
    repairs: str | None = Field(default=None, max_length=2000)
    repairs_completed_on: dt.date | None = None
    recorded_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HistoryEntry(SQLModel, table=True):
    """An entry of the house history (住宅履歴): construction, repair, renovation, inspection."""

    __tablename__ = "history_entry"
    id: int | None = Field(default=None, primary_key=True)
    house_id: int = Field(foreign_key="house.id", index=True)
    kind: str = Field(max_length=20)
    on: dt.date
    description: str = Field(max_length=2000)
    document_sha256: str | None = Field(default=None, max_length=64)


class Endorsement(SQLModel, table=True):
    """A request to pass a certificate to a buyer (裏書による地位の承継) and its decision."""

    __tablename__ = "endorsement"
    id: int | None = Field(default=None, primary_key=True)
    tracking_number: str = Field(unique=True, max_length=10)
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    from_issue_id: int = Field(foreign_key="issue.id")
    seller_name: str = Field(max_length=200)
    buyer_name: str = Field(max_length=200)
    buyer_address: str = Field(max_length=300)
    buyer_email: str | None = Field(default=None, max_length=254)
    sale_date: dt.date
    requested_on: dt.date
    status: str = Field(max_length=12, index=True)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_on: dt.date | None = None
    decision_reason: str | None = Field(default=None, max_length=500)
    new_issue_id: int | None = Field(default=None, foreign_key="issue.id")
    version: int = 1


class LeaseApplication(SQLModel, table=True):
    """An owner's application to the lease programme (マイホーム借上げ制度) and its approval."""

    __tablename__ = "lease_application"
    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(unique=True, max_length=10)
    property_number: str = Field(unique=True, max_length=10)
    approval_number: str | None = Field(default=None, unique=True, max_length=10)
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    issue_id: int = Field(foreign_key="issue.id")
    hlp_id: int = Field(foreign_key="hlp.id")
    contract_form: str = Field(max_length=20)
    applied_on: dt.date
    planned_move_out: dt.date
    lease_years: int | None = None
    effective_date: dt.date | None = None
    assessed_lower: int | None = None
    assessed_upper: int | None = None
    decided_rent: int | None = None
    status: str = Field(max_length=12)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_on: dt.date | None = None
    remarks: str | None = Field(default=None, max_length=1000)
    financial_products: str | None = Field(default=None, max_length=300)
    """利用金融商品: loans or products used with the lease (printed on the approval notice)."""
    version: int = 1


class AuditEvent(SQLModel, table=True):
    """One state change, hash-chained to the one before it (see registry/audit.py)."""

    __tablename__ = "audit_event"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: dt.datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64)
    entity: str = Field(max_length=32)
    entity_key: str = Field(max_length=64)
    before: str | None = Field(default=None, sa_type=Text)
    after: str | None = Field(default=None, sa_type=Text)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The chain's head: the last sequence number and hash. Its row lock orders writers."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    seq: int
    hash: str = Field(max_length=64)


class AreaAssessment(SQLModel, table=True):
    """The Institute's pre-assessed floor category of a postal code (エリア査定): 70000,
    50000 or 30000 (the highest fixed floor allowed there), none (not assessable) or mixed."""

    __tablename__ = "area_assessment"
    postal_code: str = Field(primary_key=True, max_length=7)
    category: str = Field(max_length=8)
    imported_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ManualAssessment(SQLModel, table=True):
    """A floor limit assessed by hand for one address, where the area is not assessable or
    mixed (個別査定). Referred to by its reference number when a certificate is issued."""

    __tablename__ = "manual_assessment"
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=10)
    postal_code: str = Field(max_length=7, index=True)
    address: str = Field(max_length=300)
    floor_limit: int
    assessed_by: str = Field(max_length=200)
    assessed_on: dt.date
    note: str | None = Field(default=None, max_length=1000)


class ApiKey(SQLModel, table=True):
    """An API key of a principal. Only the SHA-256 of the secret is stored; the key itself
    is shown once, when it is made."""

    __tablename__ = "api_key"
    id: str = Field(primary_key=True, max_length=16)
    secret_sha256: str = Field(max_length=64)
    role: str = Field(max_length=10)
    builder_id: int | None = Field(default=None, foreign_key="builder.id")
    name: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a POST sent with an Idempotency-Key, written in the same
    transaction as what the POST created, so a retry gets that answer and creates nothing."""

    __tablename__ = "idempotency_record"
    key: str = Field(primary_key=True, max_length=200)
    principal: str = Field(primary_key=True, max_length=16)
    request_sha256: str = Field(max_length=64)
    status: int
    body: str = Field(sa_type=Text)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Reminder(SQLModel, table=True):
    """One inspection reminder (点検のお知らせ): a plan date at one stage, claimed by a run
    before it goes out and marked sent after. The unique (plan entry, stage) pair is what
    makes each reminder go out at most once (registry/reminders.py)."""

    __tablename__ = "reminder"
    __table_args__ = (UniqueConstraint("plan_entry_id", "stage"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_entry_id: int = Field(foreign_key="plan_entry.id")
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    issue_id: int = Field(foreign_key="issue.id")
    stage: str = Field(max_length=20)
    due_date: dt.date
    state: str = Field(max_length=12)
    """claimed (going out now, or a run died after claiming it) or sent."""
    letter: str | None = Field(default=None, max_length=200)
    email_to: str | None = Field(default=None, max_length=254)
    email_result: str | None = Field(default=None, max_length=300)
    """The SMTP server's answer to the message: accepted, or why it was refused."""
    run: str = Field(max_length=32)
    claimed_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class CodeGuard(SQLModel, table=True):
    """A day's count of guesses under one key: wrong codes for a certificate number (from
    all addresses), from one address (all numbers), from one address for one number, and
    name checks of one issue (registry/verification.py, docs/codes.md). The key is an
    HMAC of what is counted under the code secret, so a number never issued gets its row
    like any other, and the table names no number and no address."""

    __tablename__ = "code_guard"
    key: str = Field(primary_key=True, max_length=64)
    day: dt.date = Field(index=True)
    failures: int
