"""The registry's documents: the data each one prints, gathered from the database and the
calculator, rendered by `templates/` and signed by `signing/` (docs/domain.md, "Documents the
registry produces").

A certificate issue's PDF is made once, kept under $KASERU_HOME/documents and its SHA-256
recorded on the issue; asking again returns the same file. Notices, flyers and reminders
are made on request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from registry import audit, calculator, developments, fields
from registry.actors import Actor, Role
from registry.database import unit
from registry.errors import Conflict, DomainError, InvalidInput, NotFound
from registry.keys import keyring_path as keyring_path  # documents.keyring_path, as before
from registry.keys import pki_files as pki_files  # documents.pki_files, as before
from registry.kinds import ContractForm
from registry.models import (
    Builder,
    Certificate,
    Development,
    Hlp,
    House,
    Inspection,
    Issue,
    LeaseApplication,
    PlanEntry,
)
from registry.periods import add_months
from registry.production import require as require_production
from registry.queries import active_issue, find_certificate
from registry.settings import Settings
from registry.verification import verification_code
from signing.files import write_private
from signing.keyring import Keyring, KeyringError
from signing.payload import Claims, owner_hash, qr_content
from signing.payload import sign as sign_payload
from signing.pdf import DocumentSigner
from templates import format as fmt
from templates import qr
from templates.chart import rent_chart
from templates.render import Renderer

KINDS = ("certificate", "notice", "guarantee", "reminder")


class MissingKeys(DomainError):
    """No document-signing key is configured."""


class DocumentMaker:
    """Renders and signs documents, with the Typst compilers and the signer kept warm."""

    def __init__(self, settings: Settings) -> None:
        files = pki_files(settings)
        if not files.exist():
            raise MissingKeys(
                f"no document-signing key at {files.key.parent}; run `kaseru keys init` "
                "(development) or set KASERU_SIGNING_KEY, KASERU_SIGNING_CERT and KASERU_ROOT_CERT"
            )
        require_production(settings, "sign documents")
        self.settings = settings
        self.renderer = Renderer()
        self.signer = DocumentSigner(files)
        try:
            self.keyring = Keyring.load(keyring_path(settings))
        except KeyringError as error:
            raise MissingKeys(str(error)) from None

    def make(self, kind: str, data: dict[str, Any], created: dt.datetime | None = None) -> bytes:
        """A signed PDF/A-2b document of `kind`."""
        return self.signer.sign(self.renderer.render(kind, data, created))

    def date(self, day: dt.date) -> str:
        """A date as the settings want it printed (2015年10月30日 or 平成27年10月30日)."""
        return fmt.date(day, self.settings.era_dates)

    def payload(self, certificate: Certificate, issue: Issue) -> str:
        """The signed QR payload of an issue (signing/payload.py), signed today with the
        key in service."""
        try:
            key, private = self.keyring.active()
        except KeyringError as error:
            raise MissingKeys(str(error)) from None
        claims = Claims(
            number=certificate.number,
            issue_number=issue.number,
            owner_sequence=issue.owner_sequence,
            kind=certificate.kind,
            floor=certificate.floor,
            valid_from=certificate.valid_from,
            valid_until=certificate.valid_until,
            issued_on=issue.issued_on,
            signed_on=self.settings.current_date(),
            owner_hash=owner_hash(bytes.fromhex(issue.owner_salt), issue.owner_name),
        )
        return sign_payload(claims, key.kid_bytes, private)

    def verification(self, certificate: Certificate, issue: Issue) -> dict[str, Any]:
        """What a document about this issue carries: the signatory and the QR code whose
        link opens the verification page with the signed payload, and that link (`url`,
        for e-mail)."""
        content = qr_content(self.settings.public_url, self.payload(certificate, issue))
        return {
            **self.common(content, "読み取ると、この証明書が有効かどうかを確認できます"),
            "url": "".join(content),
        }

    def common(self, content: str | list[str], caption: str) -> dict[str, Any]:
        """What every document carries: the signatory and a QR code."""
        return {
            "director": self.settings.director,
            "institute_address": self.settings.institute_address,
            "qr_svg": qr.svg(content),
            "qr_caption": caption,
        }


def created_on(day: dt.date) -> dt.datetime:
    """A document's creation stamp: midnight JST of its date, so renders are repeatable."""
    return dt.datetime.combine(day, dt.time(0, 0), dt.timezone(dt.timedelta(hours=9)))


def _visible(session: Session, actor: Actor, certificate: Certificate) -> tuple[House, Builder]:
    house = session.get(House, certificate.house_id)
    assert house is not None
    builder = session.get(Builder, house.builder_id)
    assert builder is not None
    if not actor.may_act_for(builder.code):
        raise NotFound(f"no certificate with number {certificate.number}")
    return house, builder


def certificate_data(
    session: Session, maker: DocumentMaker, certificate: Certificate, issue: Issue
) -> dict[str, Any]:
    """What the certificate prints (front and back)."""
    house = session.get(House, certificate.house_id)
    hlp = session.get(Hlp, certificate.hlp_id)
    assert house is not None and hlp is not None
    builder = session.get(Builder, house.builder_id)
    assert builder is not None
    grades = None
    if house.grade_deterioration is not None:
        grades = (
            f"劣化対策等級{house.grade_deterioration}・維持管理対策等級{house.grade_maintenance}"
            f"・耐震等級{house.grade_seismic}"
        )
    existing = None
    if house.construction == "existing":
        assert house.insurance_from is not None and house.insurance_until is not None
        existing = (
            f"既存住宅（耐震診断 Is値 {house.seismic_index}、既存住宅売買瑕疵保険 "
            f"{maker.date(house.insurance_from)}〜{maker.date(house.insurance_until)}）"
        )
    return {
        "number": certificate.number,
        "management_number": house.management_number,
        "issue_number": issue.number,
        "issued_on": maker.date(issue.issued_on),
        "kind": certificate.kind,
        "floor": fmt.kin(certificate.floor) if certificate.floor is not None else None,
        "valid_from": maker.date(certificate.valid_from),
        "valid_until": maker.date(certificate.valid_until),
        "address": house.address,
        "owner": issue.owner_name,
        "builder": builder.name,
        "hlp": f"{hlp.name}（{hlp.code}）",
        "longlife": (
            f"{house.longlife_authority}　{house.longlife_number}"
            if house.longlife_authority
            else None
        ),
        "grades": grades,
        "existing": existing,
        "code": verification_code(maker.settings.code_secret, certificate.number, issue.number),
        **maker.verification(certificate, issue),
    }


def certificate_pdf(
    session: Session,
    actor: Actor,
    maker: DocumentMaker,
    number: str,
    issue_number: str | None = None,
) -> tuple[bytes, Issue]:
    """The signed certificate of an issue (default: the active one). Made and recorded the
    first time; afterwards the kept file, whose SHA-256 the issue records.

    Unlike other services it commits the caller's unit of work itself, once the hash is
    recorded and before the file takes its name (see below)."""
    certificate = find_certificate(session, actor, number, lock=True)
    if issue_number is None:
        issue = active_issue(session, certificate)
    else:
        found = session.exec(
            select(Issue).where(
                Issue.certificate_id == certificate.id, Issue.number == issue_number
            )
        ).first()
        if found is None:
            raise NotFound(f"certificate {certificate.number} has no issue {issue_number}")
        issue = found
    path = maker.settings.documents_dir / f"certificate-{issue.number}.pdf"
    if issue.pdf_sha256 and path.exists():
        kept = path.read_bytes()
        if hashlib.sha256(kept).hexdigest() == issue.pdf_sha256:
            return kept, issue
    pdf = maker.make(
        "certificate",
        certificate_data(session, maker, certificate, issue),
        created_on(issue.issued_on),
    )
    digest = hashlib.sha256(pdf).hexdigest()
    with unit(session):  # a failure before the commit leaves no hash and no event
        before = {"pdf_sha256": issue.pdf_sha256}
        issue.pdf_sha256 = digest
        session.add(issue)
        session.flush()
        audit.record(
            session,
            actor.name,
            "issue.document",
            "issue",
            issue.number,
            before,
            {"pdf_sha256": digest},
        )
        temporary = write_private(path.with_suffix(".tmp"), pdf)  # 0600: it names the owner
    # Committed here, not when the caller's block ends: the file takes its name only once
    # the hash is committed, so a crash leaves no file that the database does not vouch for.
    session.commit()
    temporary.replace(path)
    return pdf, issue


CONTRACT_FORMS = {
    ContractForm.LIFETIME.value: "終身型",
    ContractForm.FIXED_PERIOD.value: "期間指定型",
    ContractForm.LONG_FIXED_TERM.value: "長期定期借家型",
}


def notice_data(
    session: Session, maker: DocumentMaker, application: LeaseApplication
) -> dict[str, Any]:
    """What the approval notice (承認（決定）通知書) prints, every amount from the calculator.

    The first payment covers the month rent starts (prorated by days from the start) and the
    next full month, paid by the 10th business day of that next month (our reading of
    docs/domain.md: "a prorated first month plus the next full month, with the total").
    """
    if application.status != "approved" or application.effective_date is None:
        raise Conflict(f"lease application {application.case_number} is not approved")
    assert application.approval_number is not None and application.decided_on is not None
    certificate = session.get(Certificate, application.certificate_id)
    issue = session.get(Issue, application.issue_id)
    assert certificate is not None and issue is not None
    house = session.get(House, certificate.house_id)
    assert house is not None
    long_lease = application.contract_form == ContractForm.LONG_FIXED_TERM.value
    lower = application.assessed_lower
    fixed = certificate.floor
    vacancy = calculator.floor(lower, fixed, long_lease) if lower is not None else None
    if application.decided_rent is not None:
        monthly = calculator.institute_payment(application.decided_rent, fixed, long_lease)
    elif vacancy is not None:
        monthly = vacancy.floor
    elif fixed is not None:
        monthly = fixed
    else:
        raise Conflict(
            f"lease application {application.case_number} has neither a decided rent, an "
            "assessed rent nor a fixed floor: no payment can be stated"
        )
    start = calculator.payment_start(application.effective_date)
    first = calculator.prorate(monthly, start)
    following = add_months(start.replace(day=1), 1)
    pay_day = calculator.payment_day(following.year, following.month, maker.settings.bank_closing)
    deduction = "8%" if long_lease else "15%"
    term = f"{application.lease_years}年" if application.lease_years else "終身（期間の定めなし）"
    return {
        "case_number": application.case_number,
        "property_number": application.property_number,
        "approval_number": application.approval_number,
        "date": maker.date(application.decided_on),
        "addressee": issue.owner_name,
        "financial_products": application.financial_products or "なし",
        "address": house.address,
        "property_name": " ".join(
            p for p in (developments.name_of(session, house), house.lot and f"{house.lot}区画") if p
        )
        or "—",
        "certificate_number": certificate.number,
        "assessed_rent": (
            f"{fmt.kin(application.assessed_lower)}〜{fmt.kin(application.assessed_upper)}"
            if application.assessed_lower is not None and application.assessed_upper is not None
            else "査定中"
        ),
        "contract_form": CONTRACT_FORMS[application.contract_form],
        "term": term,
        "effective_date": maker.date(application.effective_date),
        "guarantee_start": maker.date(start) if fixed is not None else "—（定額保証なし）",
        "remarks": application.remarks or "—",
        "fixed_floor": fmt.kin(fixed) if fixed is not None else "—（通常型）",
        "decided_rent": (
            fmt.kin(application.decided_rent)
            if application.decided_rent is not None
            else "入居者の決定後にお知らせします"
        ),
        "payment": fmt.kin(monthly),
        "vacancy_floor": fmt.kin(vacancy.market_floor) if vacancy is not None else "—",
        "deduction": deduction,
        "first_payment": [
            {
                "label": f"{start.year}年{start.month}月分（{start.day}日から日割り）",
                "days": f"{first.days}/{first.days_in_month}日",
                "amount": fmt.kin(first.amount),
            },
            {
                "label": f"{following.year}年{following.month}月分",
                "days": "1か月",
                "amount": fmt.kin(monthly),
            },
        ],
        "first_total": fmt.kin(first.amount + monthly),
        "first_payment_day": maker.date(pay_day),
        **maker.verification(certificate, issue),
    }


def notice_pdf(session: Session, actor: Actor, maker: DocumentMaker, case_number: str) -> bytes:
    """The signed approval notice of a lease application (staff only)."""
    actor.require(Role.STAFF)
    application = session.exec(
        select(LeaseApplication).where(LeaseApplication.case_number == case_number)
    ).first()
    if application is None:
        raise NotFound(f"no lease application with case number {case_number}")
    data = notice_data(session, maker, application)
    assert application.decided_on is not None
    return maker.make("notice", data, created_on(application.decided_on))


def guarantee_data(
    session: Session,
    maker: DocumentMaker,
    development: Development,
    market_rent: int | None = None,
    on: dt.date | None = None,
) -> dict[str, Any]:
    """What the marketing guarantee prints. Every claim comes from the development's
    active fixed-floor certificates: the floor (the lowest among them, so the claim holds for
    every lot), the period (the shortest validity, counted from handover), the number of
    lots. The chart's market rent is the builder's figure, or by docs/domain.md's rule of thumb
    (a floor is about 40% of market rent) the floor ÷ 0.4, and says which. The development
    is one builder's (registry/developments.py), and so is every lot counted."""
    on = on or maker.settings.current_date()
    found = developments.claims(session, maker.settings, development, on)
    floors, floor, years = found.floors, found.floor, found.years
    assumed = market_rent is None
    rent = (
        market_rent if market_rent is not None else calculator.yen(Decimal(floor) / Decimal("0.4"))
    )
    calculator.owner_rent(rent)  # refuses a nonsensical rent
    ages = list(range(0, years + 1))
    scenarios = {}
    for sigma, label in ((0, "平均"), (1, "平均+1σ"), (2, "平均+2σ"), (3, "平均+3σ")):
        decline = calculator.scenario_decline(calculator.City.NATIONWIDE, sigma)
        scenarios[f"市場家賃（{label}、年{abs(decline):.2f}%下落）"] = [
            calculator.stress(rent, decline, age) for age in ages
        ]
    worst = scenarios[next(reversed(scenarios))][-1]
    live, let = 30, 20
    let_total = floor * 12 * let
    floor_text = fmt.kin(floor)
    range_text = (
        floor_text if floors[0] == floors[-1] else f"{fmt.kin(floors[0])}〜{fmt.kin(floors[-1])}"
    )
    return {
        "development": found.development,
        "builder": found.builder,
        "date": maker.date(on),
        "lots": str(found.lots),
        "headline": f"最長{years}年間、毎月{floor_text}以上の家賃を保証",
        "subline": (
            f"この分譲地の{found.lots}区画は、{'一般社団法人 移住・住みかえ支援機構'}の定額型"
            f"「かせるストック証明書」付き住宅です（引渡しから最長{years}年）。"
        ),
        "facts": [
            {"label": "借上げ最低保証家賃（月額）", "value": range_text},
            {"label": "保証期間", "value": f"引渡しから最長{years}年"},
            {"label": "定額型証明書のある区画", "value": f"{found.lots}区画"},
        ],
        "chart_svg": rent_chart(ages, scenarios, floor, f"保証家賃 {floor_text}"),
        "chart_note": (
            f"市場家賃は{'想定値' if assumed else '事業者の査定値'}{fmt.kin(rent)}から管理費5%を"
            "差し引き、1989〜2015年の家賃下落率（全国、消費者物価指数）の平均と標準偏差で毎年下落するものとして"
            f"計算しました。最も厳しいシナリオでも{years}年後の額は{fmt.kin(worst)}です。"
            "保証家賃は、実際の家賃がこれを下回っても機構が支払う最低額です。"
        ),
        "life_plan": (
            f"新築から{live}年間ご自身で住み、その後{let}年間、機構に貸すとします。{let}年間の家賃収入は、"
            f"入居者がいないときも含めて最低でも月{floor_text}、合計{fmt.kin(let_total)}"
            f"（{floor_text}×12か月×{let}年）が保証されます。実際の家賃がこれより高ければ、その85%を受け取れます。"
        ),
        "questions": [
            {
                "q": f"{years}年を過ぎたらどうなりますか。",
                "a": "保証期間は終わりますが、機構の通常の借上げ制度（市場に応じた最低保証賃料）は引き続き利用できます。",
            },
            {
                "q": "家賃が保証額より高くなることはありますか。",
                "a": "あります。実際の転貸賃料から空き家・空き室積立金と管理費（合わせて15%）を引いた額が保証額を上回るときは、その額をお支払いします。",
            },
            {
                "q": "市場家賃が保証額を下回ったらどうなりますか。",
                "a": "保証額をお支払いします。空室の間も同じです。ただし、証明書の条件（定期的な点検と補修）を守っていることが前提です。",
            },
        ],
        "footnote": (
            "この保証は、機構が発行した移住・住みかえ支援適合住宅証明書（定額型）に基づきます。"
            "各区画の証明書はQRコードから確認できます。点検・補修の条件を満たさない場合、保証は受けられません。"
        ),
        # The flyer has no number of its own; its QR leads to the development's page, by
        # builder code and name, which no other builder's development of the name shares.
        **maker.common(
            f"{maker.settings.public_url}{found.path}",
            "この分譲地の証明書を確認",
        ),
    }


def guarantee_pdf(
    session: Session,
    actor: Actor,
    maker: DocumentMaker,
    development: str,
    market_rent: int | None = None,
    builder_code: str | None = None,
) -> bytes:
    """The signed marketing guarantee of one builder's development (issue 13): a builder
    gets its own development of the name (another builder's answers 404 like a name never
    used); staff name the builder when two builders use the name (InvalidInput, `builder`)."""
    actor.require(Role.BUILDER, Role.STAFF)
    name = fields.required("development", development, 200)
    if actor.role is Role.BUILDER:
        assert actor.builder_code is not None
        if builder_code is not None and builder_code != actor.builder_code:
            raise NotFound(f"no development {name!r}")
        builder_code = actor.builder_code
    if builder_code is not None:
        try:
            found, _ = developments.find(session, builder_code, name)
        except NotFound:
            raise NotFound(f"no development {name!r}") from None
    else:
        held = developments.named(session, name)
        if not held:
            raise NotFound(f"no development {name!r}")
        if len(held) > 1:
            codes = " and ".join(b.code for _, b in held)
            raise InvalidInput(
                "builder", f"development {name!r} is held by builders {codes}; say whose"
            )
        found = held[0][0]
    on = maker.settings.current_date()
    return maker.make(
        "guarantee", guarantee_data(session, maker, found, market_rent, on), created_on(on)
    )


STAGES = {
    "coming_due": ("点検時期のお知らせ", "お住まいの住宅は、まもなく定期点検の時期を迎えます。"),
    "due": ("点検時期になりました", "お住まいの住宅は、定期点検の時期になりました。"),
    "overdue": (
        "点検時期を過ぎています",
        "お住まいの住宅は、定期点検の時期を過ぎています。至急、点検を受けてください。",
    ),
}


def reminder_data(
    session: Session,
    maker: DocumentMaker,
    certificate: Certificate,
    due_date: dt.date,
    stage: str,
    label: str,
    on: dt.date,
) -> dict[str, Any]:
    """What an inspection reminder letter prints (docs/domain.md: an inspection is coming due or
    is overdue, and what is at stake)."""
    if stage not in STAGES:
        raise InvalidInput("stage", f"is one of {', '.join(STAGES)}; got {stage!r}")
    issue = active_issue(session, certificate)
    house = session.get(House, certificate.house_id)
    assert house is not None
    builder = session.get(Builder, house.builder_id)
    assert builder is not None
    last = session.exec(
        select(Inspection)
        .where(Inspection.certificate_id == certificate.id)
        .order_by(col(Inspection.inspected_on).desc())
    ).first()
    headline, lead = STAGES[stage]
    return {
        "number": certificate.number,
        "issue_number": issue.number,
        "date": maker.date(on),
        "owner": issue.owner_name,
        "owner_address": issue.owner_address or house.address,
        "headline": headline,
        "lead": lead
        + f"この住宅の移住・住みかえ支援適合住宅証明書（{certificate.number}）の条件として、"
        "維持管理計画に定める点検を受けていただく必要があります。",
        "due_date": maker.date(due_date),
        "label": label,
        "address": house.address,
        "builder": builder.name,
        "last_inspection": maker.date(last.inspected_on) if last else None,
        "grace_days": maker.settings.grace_days,
        **maker.verification(certificate, issue),
    }


def reminder_pdf(
    session: Session,
    actor: Actor,
    maker: DocumentMaker,
    number: str,
    stage: str,
    on: dt.date | None = None,
) -> bytes:
    """A signed reminder letter for the certificate's next open inspection date."""
    certificate = find_certificate(session, actor, number)
    on = on or maker.settings.current_date()
    entry = session.exec(
        select(PlanEntry)
        .where(PlanEntry.certificate_id == certificate.id, col(PlanEntry.inspection_id).is_(None))
        .order_by(col(PlanEntry.due_date))
    ).first()
    if entry is None:
        raise Conflict(f"certificate {certificate.number} has no inspection left in its plan")
    data = reminder_data(session, maker, certificate, entry.due_date, stage, entry.label, on)
    return maker.make("reminder", data, created_on(on))


def write(path: Path, pdf: bytes) -> Path:
    """Write a document readable by its owner only (it names people), creating its folder
    0700 (signing/files.py)."""
    return write_private(path, pdf)
