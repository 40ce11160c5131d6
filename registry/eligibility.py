"""Eligibility for a certificate (docs/domain.md, "Eligibility")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from registry.errors import Ineligible, InvalidInput
from registry.inputs import HouseInput
from registry.kinds import Construction, Kind
from registry.periods import add_years, full_years

MIN_DETERIORATION = 3
MIN_MAINTENANCE = 3
MIN_SEISMIC = 2
MIN_SEISMIC_INDEX = Decimal("1.0")
MIN_EXISTING_AGE = 5
INSURANCE_YEARS = 5


def _grade(field: str, value: int | None) -> None:
    if value is not None and not 1 <= value <= 3:
        raise InvalidInput(field, f"a grade is 1, 2 or 3; got {value}")


def check_new_build(house: HouseInput) -> None:
    """New builds: a performance evaluation with 劣化対策等級3, 維持管理対策等級3 and
    耐震等級2 or better, or a certified long-life quality home (認定長期優良住宅) with both
    its certifying authority and number."""
    _grade("house.grade_deterioration", house.grade_deterioration)
    _grade("house.grade_maintenance", house.grade_maintenance)
    _grade("house.grade_seismic", house.grade_seismic)
    authority = (house.longlife_authority or "").strip()
    number = (house.longlife_number or "").strip()
    if bool(authority) != bool(number):
        missing = "longlife_number" if authority else "longlife_authority"
        raise InvalidInput(
            f"house.{missing}",
            "a long-life certification (認定長期優良住宅) needs both its authority and its number",
        )
    if authority:
        return
    shortfalls = []
    for field, value, minimum, name in (
        ("grade_deterioration", house.grade_deterioration, MIN_DETERIORATION, "劣化対策等級"),
        ("grade_maintenance", house.grade_maintenance, MIN_MAINTENANCE, "維持管理対策等級"),
        ("grade_seismic", house.grade_seismic, MIN_SEISMIC, "耐震等級"),
    ):
        if value is None or value < minimum:
            shortfalls.append(
                (field, f"{name} {value if value is not None else 'missing'} (needs {minimum})")
            )
    if shortfalls:
        raise Ineligible(
            f"house.{shortfalls[0][0]}",
            "a new build needs a long-life certification or the grades "
            "劣化対策等級3, 維持管理対策等級3 and 耐震等級2; it has "
            + ", ".join(text for _, text in shortfalls),
        )


def check_existing(house: HouseInput, issued_on: dt.date) -> None:
    """Existing homes (since Oct 2010): at least 5 years old (which also meets the
    fixed-floor rule), 5-year defect-liability insurance in force on the issue date,
    seismic index at least 1.0 after any retrofit, and the repair registered in the house
    history."""
    age = full_years(house.completion_date, issued_on)
    if age < MIN_EXISTING_AGE:
        raise Ineligible(
            "house.completion_date",
            f"an existing home must be at least {MIN_EXISTING_AGE} years old; "
            f"this one is {age} on {issued_on}",
        )
    if house.insurance_from is None or house.insurance_until is None:
        field = "house.insurance_from" if house.insurance_from is None else "house.insurance_until"
        raise Ineligible(
            field, "an existing home needs 5-year defect-liability insurance (瑕疵保証責任保険)"
        )
    if house.insurance_until < add_years(house.insurance_from, INSURANCE_YEARS) - dt.timedelta(
        days=1
    ):
        raise Ineligible(
            "house.insurance_until",
            f"the defect-liability insurance must run {INSURANCE_YEARS} years; "
            f"{house.insurance_from} to {house.insurance_until} is shorter",
        )
    if not house.insurance_from <= issued_on <= house.insurance_until:
        lapsed = issued_on > house.insurance_until
        raise Ineligible(
            "house.insurance_until" if lapsed else "house.insurance_from",
            f"the defect-liability insurance ({house.insurance_from} to {house.insurance_until}) "
            f"is not in force on the issue date {issued_on}",
        )
    if house.seismic_index is None:
        raise Ineligible("house.seismic_index", "an existing home needs its seismic index (Is値)")
    if house.seismic_index < MIN_SEISMIC_INDEX:
        raise Ineligible(
            "house.seismic_index",
            f"the seismic index must be at least {MIN_SEISMIC_INDEX} after any retrofit; "
            f"it is {house.seismic_index}",
        )
    if house.repair_on is None or not (house.repair_description or "").strip():
        field = "house.repair_on" if house.repair_on is None else "house.repair_description"
        raise Ineligible(field, "the repair or renovation must be registered in the house history")
    if not house.completion_date <= house.repair_on <= issued_on:
        raise Ineligible(
            "house.repair_on",
            f"the repair date {house.repair_on} must lie between completion and the issue date",
        )


def check(house: HouseInput, kind: Kind, issued_on: dt.date) -> None:
    """Refuse, naming the field, a house that does not meet the standard for `kind`. The
    standard is the same for every kind: an existing home's 5 years also meet the
    fixed-floor rule (docs/domain.md, "Eligibility")."""
    if house.completion_date > issued_on:
        raise InvalidInput(
            "house.completion_date",
            f"the house must be complete ({house.completion_date}) before its certificate "
            f"is issued ({issued_on})",
        )
    if house.construction is Construction.NEW:
        check_new_build(house)
    else:
        check_existing(house, issued_on)
