"""Valid objects in one line; each test says what it changes with `replace`-style kwargs."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import SQLModel, select

from registry import areas, services
from registry.actors import Actor, Role
from registry.database import Database
from registry.inputs import CertificateInput, EndorsementInput, HouseInput, InspectionInput
from registry.kinds import Construction, InspectionResult, Kind
from registry.models import Certificate
from registry.settings import Settings

TODAY = dt.date(2026, 11, 23)
AREAS = [("5110838", "50000"), ("5110061", "30000"), ("5110011", "none"), ("1000001", "mixed")]
"""Area categories the factories' houses rely on (桑名市 and 千代田区 postal codes)."""
BUILDER = "000001"
OTHER_BUILDER = "000002"
HLP = "HLP-000001"
STAFF = Actor("staff:test", Role.STAFF)
ADMIN = Actor("admin:test", Role.ADMIN)
BUILDER_ACTOR = Actor(f"builder:{BUILDER}", Role.BUILDER, BUILDER)
OTHER_ACTOR = Actor(f"builder:{OTHER_BUILDER}", Role.BUILDER, OTHER_BUILDER)
PUBLIC = Actor("public", Role.PUBLIC)


def register_parties(db: Database) -> None:
    """Builders 000001 and 000002 and HLP-000001."""
    with db.transaction() as session:
        services.register_builder(session, ADMIN, BUILDER, "住替ハウス株式会社")
    with db.transaction() as session:
        services.register_builder(session, ADMIN, OTHER_BUILDER, "別棟工務店")
    with db.transaction() as session:
        services.register_hlp(session, ADMIN, HLP, "移住 太郎")
    with db.transaction() as session:
        areas.import_areas(session, STAFF, areas.rows_for(AREAS))


def house(**changes: Any) -> HouseInput:
    """A new build meeting the grades, completed 2015-10-16 (the specimen's start)."""
    base = HouseInput(
        builder_code=BUILDER,
        postal_code="511-0838",
        address="三重県桑名市和泉101番地",
        completion_date=dt.date(2015, 10, 16),
        construction=Construction.NEW,
        development="テスト分譲地",
        lot="01",
        grade_deterioration=3,
        grade_maintenance=3,
        grade_seismic=2,
    )
    return replace(base, **changes)


def existing_house(**changes: Any) -> HouseInput:
    """An existing home, 14 years old in 2019, insured and retrofitted."""
    base = house(
        construction=Construction.EXISTING,
        completion_date=dt.date(2005, 6, 1),
        grade_deterioration=None,
        grade_maintenance=None,
        grade_seismic=None,
        seismic_index=Decimal("1.10"),
        insurance_from=dt.date(2019, 8, 1),
        insurance_until=dt.date(2024, 7, 31),
        repair_on=dt.date(2019, 7, 15),
        repair_description="耐震改修",
    )
    return replace(base, **changes)


def certificate(**changes: Any) -> CertificateInput:
    """A fixed-floor certificate of ¥45,000 for `house()`, issued 2015-10-30 to 山本 一郎."""
    base = CertificateInput(
        house=house(),
        kind=Kind.FIXED_FLOOR,
        floor=45_000,
        hlp_code=HLP,
        owner_name="山本 一郎",
        owner_address="三重県桑名市和泉101番地",
        issued_on=dt.date(2015, 10, 30),
    )
    return replace(base, **changes)


def issue(db: Database, settings: Settings, actor: Actor = BUILDER_ACTOR, **changes: Any) -> str:
    """Issue `certificate(**changes)` and return its number."""
    with db.transaction() as session:
        return services.issue_certificate(session, actor, settings, certificate(**changes)).number


def inspection(number: str, **changes: Any) -> InspectionInput:
    """A passed 10-year inspection of the specimen house."""
    base = InspectionInput(
        certificate_number=number,
        inspected_on=dt.date(2025, 9, 20),
        inspector="検査員 大野",
        result=InspectionResult.PASSED,
        findings="劣化なし",
    )
    return replace(base, **changes)


def endorsement(number: str, **changes: Any) -> EndorsementInput:
    """山本 一郎 sells to 森 陽介 on 2025-06-01 and asks on 2025-07-15."""
    base = EndorsementInput(
        certificate_number=number,
        seller_name="山本 一郎",
        buyer_name="森 陽介",
        buyer_address="三重県桑名市和泉101番地",
        sale_date=dt.date(2025, 6, 1),
        requested_on=dt.date(2025, 7, 15),
    )
    return replace(base, **changes)


def code(db: Database, settings: Settings, number: str) -> str:
    """The 照会コード printed on the certificate's latest issue (the active one, unless
    the certificate was revoked)."""
    from registry.models import Issue
    from registry.verification import verification_code

    with db.reading() as session:
        issue_number = session.exec(
            select(Issue.number)
            .join(Certificate, Certificate.id == Issue.certificate_id)  # type: ignore[arg-type]
            .where(Certificate.number == number)
            .order_by(Issue.id.desc())  # type: ignore[union-attr]
        ).first()
    assert issue_number is not None, number
    return verification_code(settings.code_secret, number, issue_number)


def public_endorsement(db: Database, settings: Settings, number: str, **changes: Any) -> dict:
    """The JSON of a seller's public request (POST /api/v1/endorsements): 山本 一郎, with
    the code printed on the active issue, sells to 森 陽介 on 2026-11-01, within six
    months of TODAY; the registry dates the request."""
    body = {
        "certificate_number": number,
        "code": code(db, settings, number),
        "seller_name": "山本 一郎",
        "buyer_name": "森 陽介",
        "buyer_address": "三重県桑名市和泉101番地",
        "sale_date": "2026-11-01",
    }
    return {**body, **changes}


def count(db: Database, model: type[SQLModel]) -> int:
    """Rows in a table."""
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def counts(db: Database) -> dict[str, int]:
    """Rows in every table, to show that a refused call left nothing behind."""
    return {table.name: count_table(db, table.name) for table in SQLModel.metadata.sorted_tables}


def count_table(db: Database, name: str) -> int:
    from sqlalchemy import text

    with db.reading() as session:
        return int(session.exec(text(f"SELECT count(*) FROM {name}")).one()[0])  # type: ignore[call-overload]


def load(db: Database, number: str) -> Certificate:
    with db.reading() as session:
        return session.exec(select(Certificate).where(Certificate.number == number)).one()
