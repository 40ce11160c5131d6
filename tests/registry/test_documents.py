"""The four documents, made from the registry's data: what they print, the font, the QR
code, and their signatures as pyHanko and Poppler see them."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

import pytest
import zxingcpp
from fontTools.ttLib import TTFont

from registry import documents, services
from registry.errors import InvalidInput
from registry.inputs import LeaseApproval, LeaseInput
from registry.kinds import ContractForm, Kind
from signing.payload import verify as verify_payload
from signing.pdf import check
from templates.fonts import font_dir
from tests import factories as f
from tests import pdf as look

pytestmark = pytest.mark.usefixtures("parties")


def _certificate(db, maker, number):
    with db.transaction() as session:
        return documents.certificate_pdf(session, f.STAFF, maker, number)


@pytest.mark.parametrize("owner", ['#panic("x")', "*太字*", "山本]\\一郎", "$x$ _y_ <z> @w"])
def test_data_prints_literally_and_never_runs_as_typst(db, settings, maker, owner):
    number = f.issue(db, settings, owner_name=owner)
    pdf, _ = _certificate(db, maker, number)
    assert owner in look.text(pdf, 0)


def test_certificate_prints_its_numbers_and_terms(db, settings, maker):
    number = f.issue(
        db,
        settings,
        house=f.house(longlife_authority="桑名市長", longlife_number="H27長期建築桑名市0000号"),
    )
    pdf, issue = _certificate(db, maker, number)
    front, back = look.text(pdf, 0), look.text(pdf, 1)
    for expected in (
        "移住・住みかえ支援適合住宅証明書",
        "10000001",
        number,
        issue.number,
        "2015年10月30日",
        "月額 金45,000円",
        "2015年10月16日 から 2065年10月16日 まで",
        "三重県桑名市和泉101番地",
        "山本 一郎",
        "住替ハウス株式会社",
        "移住 太郎（HLP-000001）",
        "桑名市長　H27長期建築桑名市0000号",
        "定額型",
        "日割り",
    ):
        assert expected in front, expected
    for expected in (
        "この証明書の条件",
        "裏書欄",
        "被裏書人 住所",
        "印",
        "機構承認欄",
        "6か月以内",
    ):
        assert expected in back, expected


def test_standard_certificate_states_no_floor(db, settings, maker):
    number = f.issue(db, settings, kind=Kind.STANDARD, floor=None)
    front = look.text(_certificate(db, maker, number)[0], 0)
    assert "通常型" in front
    assert "借上げ最低保証家賃" not in front


def test_era_dates_setting(db, settings, maker, pki):
    number = f.issue(db, settings)
    era = documents.DocumentMaker(
        replace(
            maker.settings,
            era_dates=True,
            signing_key=pki.key,
            signing_cert=pki.certificate,
            root_cert=pki.root,
        )
    )
    front = look.text(_certificate(db, era, number)[0], 0)
    assert "平成27年10月30日" in front
    assert "令和47年10月16日" in front  # 2065 is Reiwa 47


def test_signed_pdf_is_kept_and_its_hash_recorded(db, settings, maker):
    number = f.issue(db, settings)
    first, issue = _certificate(db, maker, number)
    again, same = _certificate(db, maker, number)
    assert first == again
    assert issue.pdf_sha256 == same.pdf_sha256 == hashlib.sha256(first).hexdigest()
    assert (maker.settings.documents_dir / f"certificate-{issue.number}.pdf").read_bytes() == first


def test_every_document_is_validly_signed_for_pyhanko_and_pdfsig(db, settings, maker, pki):
    number = f.issue(db, settings)
    pdf, _ = _certificate(db, maker, number)
    result = check(pdf, pki.root.read_bytes())
    assert (result.valid, result.whole_file, result.trusted) == (True, True, True)
    out = look.poppler("pdfsig", pdf)
    assert "Signature is Valid" in out
    assert "Total document signed" in out


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_a_changed_byte_inside_the_signed_range_is_caught_by_both(db, settings, maker, pki, where):
    number = f.issue(db, settings)
    pdf, _ = _certificate(db, maker, number)
    start = pdf.rindex(b"/Contents <")
    # A byte of the document outside the signature's own hex string.
    offset = int(start * where)
    tampered = bytearray(pdf)
    tampered[offset] = tampered[offset] ^ 0x01
    result = check(bytes(tampered), pki.root.read_bytes())
    assert not result.valid
    out = look.poppler("pdfsig", bytes(tampered))
    assert "Signature is Valid" not in out


def test_japanese_font_is_embedded_and_covers_every_printed_character(db, settings, maker):
    number = f.issue(db, settings)
    pdf, _ = _certificate(db, maker, number)
    fonts = look.poppler("pdffonts", pdf)
    ipa = [line for line in fonts.splitlines() if "IPAexGothic" in line]
    assert ipa and all(" yes " in line for line in ipa)  # the "emb" column
    cmap = TTFont(font_dir() / "ipaexg.ttf").getBestCmap()
    missing = {c for c in look.text(pdf) if not c.isspace() and ord(c) not in cmap}
    assert missing == set()


def test_page_one_renders_and_its_qr_code_reads_back(db, settings, maker):
    number = f.issue(db, settings)
    pdf, issue = _certificate(db, maker, number)
    picture = look.image(pdf, 0, scale=3)
    assert picture.size[0] > 1500
    assert picture.convert("L").getextrema()[0] < 60  # there is ink on the page
    codes = zxingcpp.read_barcodes(picture)
    assert len(codes) == 1
    assert codes[0].text.startswith(f"{settings.public_url}/v/")
    verdict = verify_payload(codes[0].text, maker.keyring, settings.current_date())
    assert verdict.valid
    assert (verdict.claims.number, verdict.claims.issue_number) == (number, issue.number)
    assert verdict.claims.owner_sequence == 1 and verdict.claims.floor == 45_000


def _approved_lease(db, settings, number, **changes):
    base = {
        "certificate_number": number,
        "hlp_code": f.HLP,
        "contract_form": ContractForm.FIXED_PERIOD,
        "planned_move_out": dt.date(2026, 10, 1),
        "lease_years": 15,
        "applied_on": dt.date(2026, 3, 2),
        "assessed_lower": 88_000,
        "assessed_upper": 98_000,
        "financial_products": "住宅ローン（残価設定型）",
    }
    base.update(changes)
    with db.transaction() as session:
        application = services.apply_lease(session, f.STAFF, settings, LeaseInput(**base))
    with db.transaction() as session:
        return services.approve_lease(
            session,
            f.STAFF,
            settings,
            LeaseApproval(
                case_number=application.case_number,
                effective_date=dt.date(2026, 10, 15),
                decided_rent=95_000,
                decided_on=dt.date(2026, 9, 15),
            ),
        )


def test_approval_notice_prints_the_calculator_figures(db, settings, maker):
    number = f.issue(db, settings)
    lease = _approved_lease(db, settings, number)
    with db.reading() as session:
        pdf = documents.notice_pdf(session, f.STAFF, maker, lease.case_number)
    text = look.text(pdf)
    # Decided rent 95,000 less 15% (9,500 + 4,750) = 80,750, above the 45,000 floor.
    # Vacancy floor: 88,000 less 15% (8,800 + 4,400) = 74,800.
    # Rent starts 6 months after 2026-10-15: 2027-04-15; April prorated 16/30 days:
    # 80,750 × 16 / 30 = 43,066.67 → 43,067; May in full 80,750; total 123,817.
    # Paid by the 10th business day of May 2027 (1st-5th holidays and weekend): 19 May.
    for expected in (
        "承認（決定）通知書",
        lease.case_number,
        lease.property_number,
        lease.approval_number,
        "山本 一郎",
        "住宅ローン（残価設定型）",
        "期間指定型",
        "15年",
        "2026年10月15日",
        "2027年4月15日",
        "金45,000円",
        "金95,000円",
        "金80,750円",
        "金74,800円",
        "16/30日",
        "金43,067円",
        "金123,817円",
        "2027年5月19日",
        "第10営業日",
    ):
        assert expected in text, expected
    assert check(pdf, maker.signer.files.root.read_bytes()).valid


def test_marketing_guarantee_claims_come_from_the_certificates(db, settings, maker):
    for lot, floor in (("01", 45_000), ("02", 50_000), ("03", 45_000)):
        f.issue(db, settings, house=f.house(lot=lot), floor=floor)
    f.issue(db, settings, house=f.house(lot="04"), kind=Kind.STANDARD, floor=None)
    with db.reading() as session:
        pdf = documents.guarantee_pdf(session, f.BUILDER_ACTOR, maker, "テスト分譲地")
    text = look.text(pdf)
    assert "最長50年間、毎月金45,000円以上の家賃を保証" in text
    assert "金45,000円〜金50,000円" in text
    assert "3区画" in text  # the standard lot is not counted
    # Life plan: 45,000 × 12 × 20 = 10,800,000 over the 20 let years.
    assert "金10,800,000円" in text
    assert "30年" in text and "20年" in text
    assert text.count("Q.") == 3
    # The chart (and the QR code) are vector graphics: no raster image on the page, and
    # the chart's lines are there as paths.
    kinds = look.objects(pdf, 0)
    assert kinds["image"] == 0
    assert kinds["path"] > 100


def test_no_guarantee_without_fixed_floor_certificates(db, settings, maker):
    f.issue(db, settings, kind=Kind.STANDARD, floor=None)
    with db.reading() as session, pytest.raises(InvalidInput, match="no fixed-floor certificate"):
        documents.guarantee_pdf(session, f.STAFF, maker, "テスト分譲地")


def test_reminder_letter_names_the_inspection_and_the_stakes(db, settings, maker):
    number = f.issue(db, settings)
    with db.reading() as session:
        pdf = documents.reminder_pdf(session, f.STAFF, maker, number, "overdue")
    text = look.text(pdf)
    for expected in (
        "点検時期を過ぎています",
        "山本 一郎",
        number,
        "2025年10月16日",
        "築10年点検",
        "住替ハウス株式会社",
        "90日",
    ):
        assert expected in text, expected


def test_missing_keys_give_a_clear_error(settings, tmp_path):
    with pytest.raises(documents.MissingKeys, match="kaseru keys init"):
        documents.DocumentMaker(replace(settings, home=tmp_path / "nokeys"))
