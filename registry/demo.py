"""The demo registry: a fictional builder, HLP and development, carried through the
certificate's life. Every step checks whether it was done before, so a rerun, or a run
after an interrupted one, completes the data without duplicating anything."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, col, select

from registry import areas, documents, maintenance, services
from registry.actors import Actor, Role
from registry.database import Database
from registry.inputs import (
    CertificateInput,
    EndorsementInput,
    HouseInput,
    InspectionInput,
    LeaseApproval,
    LeaseInput,
)
from registry.kinds import Construction, ContractForm, InspectionResult, Kind
from registry.models import (
    Builder,
    Certificate,
    Development,
    Endorsement,
    House,
    Inspection,
    LeaseApplication,
)
from registry.queries import active_issue, open_dues
from registry.settings import Settings

BUILDER_CODE = "000001"
BUILDER_NAME = "住替ハウス株式会社"
HLP_CODE = "HLP-000001"
HLP_NAME = "移住 太郎"
DEVELOPMENT = "桑名和泉ガーデンタウン"
OWNERS = [
    "山本 一郎",
    "佐藤 花子",
    "鈴木 健",
    "高橋 美咲",
    "田中 修",
    "伊藤 恵",
    "渡辺 大輔",
    "中村 由美",
    "小林 誠",
    "加藤 彩",
    "吉田 隆",
    "山田 直子",
]
STAFF = Actor("staff:demo", Role.STAFF)
BUILDER = Actor(f"builder:{BUILDER_CODE}", Role.BUILDER, BUILDER_CODE)
ADMIN = Actor("admin:demo", Role.ADMIN)


@dataclass(frozen=True)
class Standard:
    lot: str
    owner: str
    postal_code: str
    address: str
    completion: dt.date
    issued: dt.date
    construction: Construction


STANDARD = [
    Standard(
        "S1",
        "松本 拓也",
        "5110061",
        "三重県桑名市寿町二丁目4番地",
        dt.date(2020, 3, 20),
        dt.date(2020, 4, 1),
        Construction.NEW,
    ),
    Standard(
        "S2",
        "井上 春香",
        "5110011",
        "三重県桑名市船馬町12番地",
        dt.date(2005, 6, 1),
        dt.date(2019, 9, 2),
        Construction.EXISTING,
    ),
    Standard(
        "S3",
        "木村 翔",
        "5110838",
        "三重県桑名市和泉88番地",
        dt.date(2016, 12, 1),
        dt.date(2016, 12, 20),
        Construction.NEW,
    ),
]


def _house(db: Database, lot: str) -> House | None:
    with db.reading() as session:
        return session.exec(
            select(House)
            .join(Development, col(Development.id) == House.development_id)
            .join(Builder, col(Builder.id) == Development.builder_id)
            .where(Development.name == DEVELOPMENT, Builder.code == BUILDER_CODE, House.lot == lot)
        ).first()


def _certificate_of(session: Session, house: House) -> Certificate:
    return session.exec(select(Certificate).where(Certificate.house_id == house.id)).one()


def _issue_development(db: Database, settings: Settings) -> None:
    for n, owner in enumerate(OWNERS, start=1):
        lot = f"{n:02d}"
        if _house(db, lot) is not None:
            continue
        longlife = n % 3 == 0
        house = HouseInput(
            builder_code=BUILDER_CODE,
            postal_code="5110838",
            address=f"三重県桑名市和泉{100 + n}番地",
            completion_date=dt.date(2015, 10, 16),
            development=DEVELOPMENT,
            lot=lot,
            grade_deterioration=None if longlife else 3,
            grade_maintenance=None if longlife else 3,
            grade_seismic=None if longlife else (3 if n % 2 else 2),
            longlife_authority="桑名市長" if longlife else None,
            longlife_number=f"H27長期建築桑名市{n:04d}号" if longlife else None,
        )
        with db.transaction() as session:
            services.issue_certificate(
                session,
                BUILDER,
                settings,
                CertificateInput(
                    house=house,
                    kind=Kind.FIXED_FLOOR,
                    floor=45_000 if n <= 8 else 50_000,
                    hlp_code=HLP_CODE,
                    owner_name=owner,
                    owner_address=house.address,
                    owner_email=f"owner{n:02d}@example.jp" if n % 2 == 0 else None,
                    issued_on=dt.date(2015, 10, 30),
                ),
            )


def _issue_standard(db: Database, settings: Settings) -> None:
    for item in STANDARD:
        if _house(db, item.lot) is not None:
            continue
        existing = item.construction is Construction.EXISTING
        house = HouseInput(
            builder_code=BUILDER_CODE,
            postal_code=item.postal_code,
            address=item.address,
            completion_date=item.completion,
            construction=item.construction,
            development=DEVELOPMENT,
            lot=item.lot,
            grade_deterioration=None if existing else 3,
            grade_maintenance=None if existing else 3,
            grade_seismic=None if existing else 2,
            seismic_index=Decimal("1.12") if existing else None,
            insurance_from=dt.date(2019, 8, 1) if existing else None,
            insurance_until=dt.date(2024, 7, 31) if existing else None,
            repair_on=dt.date(2019, 7, 15) if existing else None,
            repair_description="耐震改修・外壁および屋根の改修" if existing else None,
        )
        with db.transaction() as session:
            services.issue_certificate(
                session,
                BUILDER,
                settings,
                CertificateInput(
                    house=house,
                    kind=Kind.STANDARD,
                    hlp_code=HLP_CODE,
                    owner_name=item.owner,
                    owner_address=item.address,
                    issued_on=item.issued,
                ),
            )


def _inspect(db: Database, settings: Settings) -> None:
    """Ten-year inspections for lots 01-09 (10-12 left overdue); lot S2's five-year
    inspection required repairs, finished later."""
    plans: list[tuple[str, dt.date, InspectionResult, str | None]] = [
        (f"{n:02d}", dt.date(2025, 9, 1) + dt.timedelta(days=3 * n), InspectionResult.PASSED, None)
        for n in range(1, 10)
    ]
    plans.append(
        ("S2", dt.date(2024, 8, 20), InspectionResult.REPAIRS_REQUIRED, "浴室土台の防腐補修")
    )
    for lot, day, result, repairs in plans:
        house = _house(db, lot)
        assert house is not None
        with db.reading() as session:
            certificate = _certificate_of(session, house)
            done = session.exec(
                select(Inspection).where(Inspection.certificate_id == certificate.id)
            ).first()
        if done is not None:
            continue
        with db.transaction() as session:
            services.record_inspection(
                session,
                BUILDER,
                settings,
                InspectionInput(
                    certificate_number=certificate.number,
                    inspected_on=day,
                    inspector="桑名建築検査センター 検査員 大野",
                    result=result,
                    findings="外壁・屋根・床下に劣化なし" if repairs is None else "浴室土台に腐朽",
                    repairs=repairs,
                ),
            )
        if repairs is not None:
            with db.transaction() as session:
                services.complete_repairs(
                    session,
                    BUILDER,
                    settings,
                    certificate.number,
                    dt.date(2024, 10, 5),
                    "浴室土台を交換し防腐処理",
                )


def _endorse(db: Database, settings: Settings) -> None:
    """Lot 03 was sold; the endorsement is requested and approved."""
    house = _house(db, "03")
    assert house is not None
    with db.reading() as session:
        certificate = _certificate_of(session, house)
        known = session.exec(
            select(Endorsement).where(Endorsement.certificate_id == certificate.id)
        ).first()
    if known is None:
        with db.transaction() as session:
            known = services.request_endorsement(
                session,
                STAFF,
                settings,
                EndorsementInput(
                    certificate_number=certificate.number,
                    seller_name=OWNERS[2],
                    buyer_name="森 陽介",
                    buyer_address="三重県桑名市和泉103番地",
                    buyer_email="mori@example.jp",
                    sale_date=dt.date(2025, 6, 1),
                    requested_on=dt.date(2025, 7, 15),
                ),
            )
    if known.status == "pending":
        with db.transaction() as session:
            services.approve_endorsement(
                session, STAFF, settings, known.tracking_number, decided_on=dt.date(2025, 8, 1)
            )


def _lease(db: Database, settings: Settings) -> None:
    """Lot S2's owner moves away; the lease is applied for and approved."""
    house = _house(db, "S2")
    assert house is not None
    with db.reading() as session:
        certificate = _certificate_of(session, house)
        known = session.exec(
            select(LeaseApplication).where(LeaseApplication.certificate_id == certificate.id)
        ).first()
    if known is None:
        with db.transaction() as session:
            known = services.apply_lease(
                session,
                STAFF,
                settings,
                LeaseInput(
                    certificate_number=certificate.number,
                    hlp_code=HLP_CODE,
                    contract_form=ContractForm.FIXED_PERIOD,
                    planned_move_out=dt.date(2026, 10, 1),
                    lease_years=15,
                    applied_on=dt.date(2026, 3, 2),
                    assessed_lower=88_000,
                    assessed_upper=98_000,
                ),
            )
    if known.status == "applied":
        with db.transaction() as session:
            services.approve_lease(
                session,
                STAFF,
                settings,
                LeaseApproval(
                    case_number=known.case_number,
                    effective_date=dt.date(2026, 10, 1),
                    decided_rent=95_000,
                    decided_on=dt.date(2026, 9, 15),
                ),
            )


AREAS = [("5110838", "50000"), ("5110061", "30000"), ("5110011", "50000")]
"""The demo's area assessments (fictional categories on real 桑名市 postal codes)."""


def seed(db: Database, settings: Settings) -> None:
    """Create (or complete) the demo registry."""
    with db.reading() as session:
        assessed = all(areas.category(session, code) for code, _ in AREAS)
    if not assessed:
        with db.transaction() as session:
            areas.import_areas(session, STAFF, areas.rows_for(AREAS))
    with db.transaction() as session:
        services.register_builder(session, ADMIN, BUILDER_CODE, BUILDER_NAME)
    with db.transaction() as session:
        services.register_hlp(session, ADMIN, HLP_CODE, HLP_NAME)
    _issue_development(db, settings)
    _issue_standard(db, settings)
    _inspect(db, settings)
    _endorse(db, settings)
    _lease(db, settings)


def demo_numbers(db: Database) -> list[str]:
    """The demo development's certificate numbers, in lot order."""
    with db.reading() as session:
        rows = session.exec(
            select(Certificate.number, House.lot)
            .join(House, col(House.id) == Certificate.house_id)
            .join(Development, col(Development.id) == House.development_id)
            .join(Builder, col(Builder.id) == Development.builder_id)
            .where(Development.name == DEVELOPMENT, Builder.code == BUILDER_CODE)
            .order_by(col(House.lot))
        ).all()
    return [number for number, _ in rows]


def write_documents(db: Database, settings: Settings, out: Path) -> list[Path]:
    """Every kind of document for the demo: each certificate, the lease's approval notice,
    the development's marketing guarantee and a reminder for each due or overdue house."""
    maker = documents.DocumentMaker(settings)
    written = []
    for number in demo_numbers(db):
        with db.transaction() as session:
            pdf, issue = documents.certificate_pdf(session, STAFF, maker, number)
        written.append(documents.write(out / f"certificate-{issue.number}.pdf", pdf))
        with db.reading() as session:
            certificate = services.find_certificate(session, STAFF, number)
            assert certificate.id is not None
            report = maintenance.standing(
                open_dues(session, certificate.id),
                settings.current_date(),
                settings.due_window_days,
                settings.grace_days,
            )
            if report.standing.value != "up_to_date":
                stage = "overdue" if report.standing.value == "overdue" else "due"
                pdf = documents.reminder_pdf(session, STAFF, maker, number, stage)
                written.append(documents.write(out / f"reminder-{number}.pdf", pdf))
    with db.reading() as session:
        lease = session.exec(
            select(LeaseApplication).where(LeaseApplication.status == "approved")
        ).first()
        if lease is not None:
            pdf = documents.notice_pdf(session, STAFF, maker, lease.case_number)
            written.append(documents.write(out / f"notice-{lease.case_number}.pdf", pdf))
        pdf = documents.guarantee_pdf(session, STAFF, maker, DEVELOPMENT, builder_code=BUILDER_CODE)
        written.append(documents.write(out / "guarantee-development.pdf", pdf))
    return written


def verification_url(db: Database, settings: Settings) -> str:
    """The link in the QR code of the first lot's certificate, to open in a browser."""
    maker = documents.DocumentMaker(settings)
    with db.reading() as session:
        certificate = services.find_certificate(session, STAFF, demo_numbers(db)[0])
        text = maker.payload(certificate, active_issue(session, certificate))
    return f"{settings.public_url}/v/{text}"
