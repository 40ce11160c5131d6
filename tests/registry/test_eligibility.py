"""Unit tests of registry/eligibility.py (docs/domain.md, "Eligibility")."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from registry.eligibility import check, check_existing, check_new_build
from registry.errors import Ineligible, InvalidInput
from registry.inputs import HouseInput
from registry.kinds import Construction, Kind

D = dt.date

# The specimen house: completed and certified in October 2015 in 桑名市.
NEW_BUILD = HouseInput(
    builder_code="000001",
    postal_code="511-0000",
    address="三重県桑名市平川町一丁目7番20号",
    completion_date=D(2015, 10, 16),
    construction=Construction.NEW,
    grade_deterioration=3,
    grade_maintenance=3,
    grade_seismic=2,
)
LONG_LIFE = dataclasses.replace(
    NEW_BUILD,
    grade_deterioration=None,
    grade_maintenance=None,
    grade_seismic=None,
    longlife_authority="桑名市長",
    longlife_number="H27長期建築桑名市0000号",
)
ISSUED = D(2015, 10, 30)

# An existing home built in 2010, insured and repaired before its certificate in 2020.
EXISTING = HouseInput(
    builder_code="000001",
    postal_code="511-0000",
    address="三重県桑名市平川町一丁目7番21号",
    completion_date=D(2010, 4, 1),
    construction=Construction.EXISTING,
    seismic_index=Decimal("1.0"),
    insurance_from=D(2020, 3, 1),
    insurance_until=D(2025, 2, 28),
    repair_on=D(2020, 2, 15),
    repair_description="外壁塗装・屋根葺き替え",
)
EXISTING_ISSUED = D(2020, 4, 1)


def _refused(house: HouseInput, kind: Kind = Kind.FIXED_FLOOR, on: dt.date = ISSUED):
    with pytest.raises(Ineligible) as caught:
        check(house, kind, on)
    return caught.value


# ---------------------------------------------------------------------------------------
# New builds
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(Kind))
def test_new_build_with_the_three_grades_is_eligible(kind: Kind):
    check(NEW_BUILD, kind, ISSUED)
    check_new_build(NEW_BUILD)


@pytest.mark.parametrize("kind", list(Kind))
def test_new_build_with_the_highest_grades_is_eligible(kind: Kind):
    house = dataclasses.replace(
        NEW_BUILD, grade_deterioration=3, grade_maintenance=3, grade_seismic=3
    )
    check(house, kind, ISSUED)


def test_new_build_completed_on_the_issue_date_is_eligible():
    check(NEW_BUILD, Kind.STANDARD, NEW_BUILD.completion_date)


@pytest.mark.parametrize(
    ("change", "field", "named"),
    [
        ({"grade_deterioration": 2}, "house.grade_deterioration", "劣化対策等級 2 (needs 3)"),
        ({"grade_deterioration": 1}, "house.grade_deterioration", "劣化対策等級 1 (needs 3)"),
        ({"grade_maintenance": 2}, "house.grade_maintenance", "維持管理対策等級 2 (needs 3)"),
        ({"grade_seismic": 1}, "house.grade_seismic", "耐震等級 1 (needs 2)"),
        (
            {"grade_deterioration": None},
            "house.grade_deterioration",
            "劣化対策等級 missing (needs 3)",
        ),
        (
            {"grade_maintenance": None},
            "house.grade_maintenance",
            "維持管理対策等級 missing (needs 3)",
        ),
        ({"grade_seismic": None}, "house.grade_seismic", "耐震等級 missing (needs 2)"),
    ],
)
def test_new_build_grade_shortfall_is_refused(change: dict, field: str, named: str):
    error = _refused(dataclasses.replace(NEW_BUILD, **change))
    assert error.field == field
    assert named in error.reason
    assert "long-life" in error.reason


def test_new_build_without_any_grade_names_the_first_and_lists_all():
    house = dataclasses.replace(
        NEW_BUILD, grade_deterioration=None, grade_maintenance=None, grade_seismic=None
    )
    error = _refused(house)
    assert error.field == "house.grade_deterioration"
    for named in ("劣化対策等級 missing", "維持管理対策等級 missing", "耐震等級 missing"):
        assert named in error.reason


def test_new_build_with_two_shortfalls_lists_both():
    house = dataclasses.replace(NEW_BUILD, grade_maintenance=2, grade_seismic=1)
    error = _refused(house)
    assert error.field == "house.grade_maintenance"
    assert error.reason == (
        "a new build needs a long-life certification or the grades 劣化対策等級3, "
        "維持管理対策等級3 and 耐震等級2; it has 維持管理対策等級 2 (needs 3), 耐震等級 1 (needs 2)"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("grade_deterioration", 0),
        ("grade_deterioration", 4),
        ("grade_maintenance", 4),
        ("grade_seismic", 0),
        ("grade_seismic", -1),
    ],
)
def test_grade_outside_one_to_three_is_invalid(field: str, value: int):
    with pytest.raises(InvalidInput) as caught:
        check(dataclasses.replace(NEW_BUILD, **{field: value}), Kind.STANDARD, ISSUED)
    assert caught.value.field == f"house.{field}"
    assert str(value) in caught.value.reason


@pytest.mark.parametrize("kind", list(Kind))
def test_long_life_certification_passes_without_grades(kind: Kind):
    check(LONG_LIFE, kind, ISSUED)


def test_long_life_certification_passes_with_low_grades():
    house = dataclasses.replace(
        LONG_LIFE, grade_deterioration=1, grade_maintenance=1, grade_seismic=1
    )
    check(house, Kind.FIXED_FLOOR, ISSUED)


@pytest.mark.parametrize("grade", ["grade_deterioration", "grade_maintenance", "grade_seismic"])
@pytest.mark.parametrize("value", [0, 4])
@pytest.mark.parametrize("house", [NEW_BUILD, LONG_LIFE], ids=["graded", "long-life"])
def test_a_grade_outside_1_to_3_is_refused_naming_it(grade: str, value: int, house: HouseInput):
    """Checked before anything else, so even a long-life house, whose grades do not
    count, may not carry a grade that does not exist."""
    with pytest.raises(InvalidInput) as caught:
        check(dataclasses.replace(house, **{grade: value}), Kind.FIXED_FLOOR, ISSUED)
    assert (caught.value.field, caught.value.reason) == (
        f"house.{grade}",
        f"a grade is 1, 2 or 3; got {value}",
    )


@pytest.mark.parametrize("number", [None, "", "   "])
def test_long_life_authority_without_number_is_refused(number: str | None):
    house = dataclasses.replace(LONG_LIFE, longlife_number=number)
    with pytest.raises(InvalidInput) as caught:
        check(house, Kind.FIXED_FLOOR, ISSUED)
    assert caught.value.field == "house.longlife_number"
    assert caught.value.reason == (
        "a long-life certification (認定長期優良住宅) needs both its authority and its number"
    )


@pytest.mark.parametrize("authority", [None, "", "　"])
def test_long_life_number_without_authority_is_refused(authority: str | None):
    house = dataclasses.replace(LONG_LIFE, longlife_authority=authority)
    with pytest.raises(InvalidInput) as caught:
        check(house, Kind.FIXED_FLOOR, ISSUED)
    assert caught.value.field == "house.longlife_authority"


def test_half_long_life_certification_is_refused_even_with_good_grades():
    house = dataclasses.replace(NEW_BUILD, longlife_authority="桑名市長")
    with pytest.raises(InvalidInput) as caught:
        check(house, Kind.STANDARD, ISSUED)
    assert caught.value.field == "house.longlife_number"


def test_new_build_checks_ignore_existing_home_fields():
    # No insurance, seismic index or repair is asked of a new build.
    check(NEW_BUILD, Kind.FIXED_FLOOR, ISSUED)
    assert NEW_BUILD.insurance_from is None
    assert NEW_BUILD.seismic_index is None


# ---------------------------------------------------------------------------------------
# Completion after the issue date
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("house", [NEW_BUILD, LONG_LIFE, EXISTING])
def test_completion_after_issue_date_is_refused(house: HouseInput):
    on = house.completion_date - dt.timedelta(days=1)
    with pytest.raises(InvalidInput) as caught:
        check(house, Kind.STANDARD, on)
    assert caught.value.field == "house.completion_date"
    assert str(house.completion_date) in caught.value.reason
    assert str(on) in caught.value.reason


# ---------------------------------------------------------------------------------------
# Existing homes
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(Kind))
def test_existing_home_meeting_every_condition_is_eligible(kind: Kind):
    check(EXISTING, kind, EXISTING_ISSUED)
    check_existing(EXISTING, EXISTING_ISSUED)


def test_existing_home_does_not_need_performance_grades():
    assert EXISTING.grade_deterioration is None
    check(EXISTING, Kind.FIXED_FLOOR, EXISTING_ISSUED)


@pytest.mark.parametrize("kind", [Kind.STANDARD, Kind.FIXED_FLOOR])
def test_existing_home_younger_than_five_years_is_refused(kind: Kind):
    # Completed 2015-04-02: on 2020-04-01 it is 4 years old, one day short of 5.
    house = dataclasses.replace(EXISTING, completion_date=D(2015, 4, 2))
    error = _refused(house, kind, EXISTING_ISSUED)
    assert error.field == "house.completion_date"
    assert "at least 5 years" in error.reason
    assert "is 4" in error.reason


def test_existing_home_exactly_five_years_old_is_eligible():
    house = dataclasses.replace(EXISTING, completion_date=D(2015, 4, 1), repair_on=D(2020, 2, 15))
    check(house, Kind.FIXED_FLOOR, EXISTING_ISSUED)


def test_existing_home_born_on_29_february_turns_five_on_28_february():
    house = dataclasses.replace(
        EXISTING,
        completion_date=D(2016, 2, 29),
        insurance_from=D(2021, 2, 1),
        insurance_until=D(2026, 1, 31),
        repair_on=D(2021, 1, 10),
    )
    check(house, Kind.FIXED_FLOOR, D(2021, 2, 28))
    error = _refused(house, Kind.FIXED_FLOOR, D(2021, 2, 27))
    assert error.field == "house.completion_date"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"insurance_from": None}, "house.insurance_from"),
        ({"insurance_until": None}, "house.insurance_until"),
        ({"insurance_from": None, "insurance_until": None}, "house.insurance_from"),
    ],
)
def test_existing_home_without_insurance_is_refused(change: dict, field: str):
    error = _refused(dataclasses.replace(EXISTING, **change), on=EXISTING_ISSUED)
    assert error.field == field
    assert "瑕疵保証責任保険" in error.reason


def test_existing_home_insurance_of_exactly_five_years_is_accepted():
    # 2020-03-01 to 2025-02-28 inclusive is five years to the day.
    assert EXISTING.insurance_until == D(2025, 2, 28)
    check(EXISTING, Kind.STANDARD, EXISTING_ISSUED)


@pytest.mark.parametrize("until", [D(2025, 2, 27), D(2024, 3, 1), D(2020, 12, 31), D(2020, 4, 1)])
def test_existing_home_with_short_insurance_is_refused(until: dt.date):
    house = dataclasses.replace(EXISTING, insurance_until=until)
    error = _refused(house, on=EXISTING_ISSUED)
    assert error.field == "house.insurance_until"
    assert "5 years" in error.reason
    assert str(until) in error.reason


def test_existing_home_with_insurance_starting_after_issue_is_refused():
    house = dataclasses.replace(
        EXISTING, insurance_from=D(2020, 4, 2), insurance_until=D(2025, 4, 1)
    )
    error = _refused(house, on=EXISTING_ISSUED)
    assert error.field == "house.insurance_from"
    assert "not in force" in error.reason
    assert str(EXISTING_ISSUED) in error.reason


def test_existing_home_with_lapsed_insurance_is_refused():
    house = dataclasses.replace(
        EXISTING,
        insurance_from=D(2013, 1, 1),
        insurance_until=D(2017, 12, 31),
        repair_on=D(2012, 12, 1),
    )
    error = _refused(house, on=EXISTING_ISSUED)
    assert error.field == "house.insurance_until"
    assert "not in force" in error.reason


def test_existing_home_insured_on_its_last_day_is_eligible():
    check(EXISTING, Kind.STANDARD, EXISTING.insurance_until)
    check(EXISTING, Kind.STANDARD, EXISTING.insurance_from)


@pytest.mark.parametrize("index", [Decimal("0.99"), Decimal("0.5"), Decimal("0")])
def test_existing_home_with_low_seismic_index_is_refused(index: Decimal):
    error = _refused(dataclasses.replace(EXISTING, seismic_index=index), on=EXISTING_ISSUED)
    assert error.field == "house.seismic_index"
    assert "at least 1.0" in error.reason
    assert str(index) in error.reason


@pytest.mark.parametrize("index", [Decimal("1.0"), Decimal("1.00"), Decimal("1"), Decimal("1.5")])
def test_existing_home_with_seismic_index_of_one_or_more_is_eligible(index: Decimal):
    check(dataclasses.replace(EXISTING, seismic_index=index), Kind.STANDARD, EXISTING_ISSUED)


def test_existing_home_without_seismic_index_is_refused():
    error = _refused(dataclasses.replace(EXISTING, seismic_index=None), on=EXISTING_ISSUED)
    assert error.field == "house.seismic_index"
    assert "Is値" in error.reason


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"repair_on": None}, "house.repair_on"),
        ({"repair_description": None}, "house.repair_description"),
        ({"repair_description": "  "}, "house.repair_description"),
        ({"repair_on": None, "repair_description": None}, "house.repair_on"),
    ],
)
def test_existing_home_without_registered_repair_is_refused(change: dict, field: str):
    error = _refused(dataclasses.replace(EXISTING, **change), on=EXISTING_ISSUED)
    assert error.field == field
    assert "house history" in error.reason


@pytest.mark.parametrize("repair_on", [D(2010, 3, 31), D(2020, 4, 2)])
def test_existing_home_repair_outside_completion_to_issue_is_refused(repair_on: dt.date):
    error = _refused(dataclasses.replace(EXISTING, repair_on=repair_on), on=EXISTING_ISSUED)
    assert error.field == "house.repair_on"
    assert str(repair_on) in error.reason


@pytest.mark.parametrize("repair_on", [D(2010, 4, 1), D(2020, 4, 1)])
def test_existing_home_repair_on_completion_or_issue_day_is_eligible(repair_on: dt.date):
    check(dataclasses.replace(EXISTING, repair_on=repair_on), Kind.STANDARD, EXISTING_ISSUED)


def test_existing_home_is_not_judged_by_new_build_rules():
    # Existing homes with poor performance grades are still judged by their own rules.
    house = dataclasses.replace(
        EXISTING, grade_deterioration=1, grade_maintenance=1, grade_seismic=1
    )
    check(house, Kind.STANDARD, EXISTING_ISSUED)
    # ... and a new build is not asked for insurance, however old it is.
    old_new_build = dataclasses.replace(NEW_BUILD, completion_date=D(2000, 1, 1))
    check(old_new_build, Kind.STANDARD, ISSUED)


# The words a refusal shows the builder, whole (found by mutation testing, `make mutate`:
# the tests above looked for a fragment, and a garbled message passed).


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            {"insurance_until": None},
            "house.insurance_until",
            "an existing home needs 5-year defect-liability insurance (瑕疵保証責任保険)",
        ),
        (
            {"seismic_index": None},
            "house.seismic_index",
            "an existing home needs its seismic index (Is値)",
        ),
        (
            {"repair_description": ""},
            "house.repair_description",
            "the repair or renovation must be registered in the house history",
        ),
    ],
)
def test_an_existing_home_missing_a_record_is_told_which(change: dict, field: str, reason: str):
    error = _refused(dataclasses.replace(EXISTING, **change), on=EXISTING_ISSUED)
    assert (error.field, error.reason) == (field, reason)
