"""Unit tests of registry/numbers.py: parsing, composing and reading the kind of the numbers
printed on certificates, and (at the end, on the test database) allocating them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from registry import numbers
from registry.errors import InvalidInput
from registry.kinds import Construction, Kind
from registry.numbers import (
    certificate_number,
    kind_of,
    parse_builder_code,
    parse_certificate_number,
    parse_hlp_code,
    parse_issue_number,
    parse_lease_number,
    parse_management_number,
)

SPECIMEN = "A0020000012015000003"


def _fullwidth(text: str) -> str:
    """The same text in full-width (zenkaku) ASCII forms, as a Japanese IME types it."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# ---------------------------------------------------------------------------------------
# Compatible-housing number (適合住宅番号)
# ---------------------------------------------------------------------------------------


def test_specimen_certificate_number_parses():
    assert parse_certificate_number(SPECIMEN) == SPECIMEN


def test_specimen_certificate_number_is_fixed_floor():
    # A 002 000001 2015 000003: new build, fixed-floor, builder 000001, 2015, third.
    assert kind_of(SPECIMEN) is Kind.FIXED_FLOOR


def test_specimen_composes_from_its_parts():
    number = certificate_number(Construction.NEW, Kind.FIXED_FLOOR, "000001", 2015, 3)
    assert number == SPECIMEN


@pytest.mark.parametrize(
    ("construction", "kind", "expected"),
    [
        (Construction.NEW, Kind.STANDARD, "A0011234562020000042"),
        (Construction.NEW, Kind.OPTION, "A0031234562020000042"),
        (Construction.EXISTING, Kind.STANDARD, "B0011234562020000042"),
        (Construction.EXISTING, Kind.FIXED_FLOOR, "B0021234562020000042"),
        (Construction.EXISTING, Kind.OPTION, "B0031234562020000042"),
    ],
)
def test_certificate_number_layout(construction: Construction, kind: Kind, expected: str):
    assert certificate_number(construction, kind, "123456", 2020, 42) == expected
    assert kind_of(expected) is kind


@pytest.mark.parametrize(
    "raw",
    [
        "A002-000001-2015-000003",
        "A 002 000001 2015 000003",
        "a0020000012015000003",  # lower-case series letter
        "Ａ００２０００００１２０１５０００００３",  # full-width
        "Ａ００２－００００01－2015ー000003",  # full-width hyphen and katakana ー
        " A0020000012015000003\n",
        "A002\u3000000001\u30002015\u3000000003",  # ideographic spaces
        "A002–000001—2015−000003",  # en dash, em dash, minus sign
    ],
)
def test_certificate_number_is_normalised(raw: str):
    assert parse_certificate_number(raw) == SPECIMEN


@pytest.mark.parametrize(
    ("raw", "length"),
    [
        ("A002000001201500003", 19),  # a digit short
        ("A00200000120150000003", 21),  # a digit too many
        ("0020000012015000003", 19),  # series letter left out
        ("A", 1),
    ],
)
def test_certificate_number_of_wrong_length(raw: str, length: int):
    with pytest.raises(InvalidInput) as caught:
        parse_certificate_number(raw)
    assert caught.value.field == "number"
    assert "20 characters" in caught.value.reason
    assert f"has {length}" in caught.value.reason


def test_certificate_number_empty():
    with pytest.raises(InvalidInput) as caught:
        parse_certificate_number("")
    assert caught.value.field == "number"
    assert "20 characters" in caught.value.reason


def test_certificate_number_error_uses_the_callers_field():
    with pytest.raises(InvalidInput) as caught:
        parse_certificate_number("A00", field="certificate_number")
    assert caught.value.field == "certificate_number"
    assert str(caught.value).startswith("certificate_number: ")


@pytest.mark.parametrize("letter", ["C", "Z", "0", "1", "X"])
def test_certificate_number_with_bad_series_letter(letter: str):
    raw = letter + SPECIMEN[1:]
    with pytest.raises(InvalidInput) as caught:
        parse_certificate_number(raw)
    assert caught.value.field == "number"
    assert "A or B" in caught.value.reason
    assert repr(letter) in caught.value.reason


@pytest.mark.parametrize(
    ("raw", "letter"),
    [
        ("A00200000I2015000003", "I"),  # I for 1 in the builder code
        ("A0020000012O15000003", "O"),  # O for 0 in the year
        ("AA020000012015000003", "A"),
        ("A002000001201500000B", "B"),
        ("A002000001.015000003", "."),
    ],
)
def test_certificate_number_with_letters_in_the_digits(raw: str, letter: str):
    with pytest.raises(InvalidInput) as caught:
        parse_certificate_number(raw)
    assert caught.value.field == "number"
    assert "digits only" in caught.value.reason
    assert repr(letter) in caught.value.reason


@pytest.mark.parametrize("code", ["000", "004", "010", "100", "999"])
def test_certificate_number_with_unknown_kind_code(code: str):
    raw = "A" + code + SPECIMEN[4:]
    with pytest.raises(InvalidInput) as caught:
        parse_certificate_number(raw)
    assert caught.value.field == "number"
    assert f"kind code {code}" in caught.value.reason
    for known in ("001", "002", "003"):
        assert known in caught.value.reason


@pytest.mark.parametrize("year", ["0000", "1999", "2007", "2200", "9999"])
def test_certificate_number_with_implausible_year(year: str):
    raw = SPECIMEN[:10] + year + SPECIMEN[14:]
    assert len(raw) == 20
    with pytest.raises(InvalidInput) as caught:
        parse_certificate_number(raw)
    assert caught.value.field == "number"
    assert f"year {int(year)}" in caught.value.reason
    assert "characters 11-14" in caught.value.reason


@pytest.mark.parametrize("year", [2008, 2199])
def test_certificate_number_year_bounds_are_accepted(year: int):
    # The programme began in October 2008.
    raw = f"A002000001{year}000003"
    assert parse_certificate_number(raw) == raw


@pytest.mark.parametrize("series", ["A", "B"])
def test_certificate_number_with_serial_zero(series: str):
    raw = series + "0020000012015000000"
    with pytest.raises(InvalidInput) as caught:
        parse_certificate_number(raw)
    assert caught.value.field == "number"
    assert "000000" in caught.value.reason
    assert "serial" in caught.value.reason


def test_certificate_number_largest_serial_is_accepted():
    assert parse_certificate_number("B0010000012015999999") == "B0010000012015999999"


@given(
    construction=st.sampled_from(Construction),
    kind=st.sampled_from(Kind),
    builder=st.integers(min_value=0, max_value=999_999),
    year=st.integers(min_value=2008, max_value=2199),
    serial=st.integers(min_value=1, max_value=999_999),
)
def test_certificate_number_round_trips(
    construction: Construction, kind: Kind, builder: int, year: int, serial: int
):
    builder_code = f"{builder:06d}"
    number = certificate_number(construction, kind, builder_code, year, serial)
    assert len(number) == 20
    assert parse_certificate_number(number) == number
    assert kind_of(number) is kind
    assert number[0] == ("A" if construction is Construction.NEW else "B")
    assert number[4:10] == builder_code
    assert int(number[10:14]) == year
    assert int(number[14:]) == serial
    # The lenient forms a clerk may type read back to the same number.
    spaced = f"{number[0]}{number[1:4]}-{number[4:10]}-{number[10:14]}-{number[14:]}"
    assert parse_certificate_number(spaced) == number
    assert parse_certificate_number(_fullwidth(number.lower())) == number


# ---------------------------------------------------------------------------------------
# Management number (管理番号)
# ---------------------------------------------------------------------------------------


def test_specimen_management_number_parses():
    assert parse_management_number("10002033") == "10002033"


@pytest.mark.parametrize(
    "raw", ["1000-2033", "1000 2033", "１０００２０３３", "１０００－２０３３"]
)
def test_management_number_is_normalised(raw: str):
    assert parse_management_number(raw) == "10002033"


@pytest.mark.parametrize(("raw", "length"), [("1000203", 7), ("100020333", 9), ("1", 1)])
def test_management_number_of_wrong_length(raw: str, length: int):
    with pytest.raises(InvalidInput) as caught:
        parse_management_number(raw)
    assert caught.value.field == "management_number"
    assert "8 digits" in caught.value.reason
    assert f"has {length}" in caught.value.reason


@pytest.mark.parametrize(("raw", "bad"), [("1000203A", "A"), ("10O02033", "O"), ("1000_033", "_")])
def test_management_number_with_letters(raw: str, bad: str):
    with pytest.raises(InvalidInput) as caught:
        parse_management_number(raw)
    assert caught.value.field == "management_number"
    assert "digits only" in caught.value.reason
    assert repr(bad) in caught.value.reason


def test_management_number_starting_with_zero():
    with pytest.raises(InvalidInput) as caught:
        parse_management_number("00002033")
    assert caught.value.field == "management_number"
    assert "start with 0" in caught.value.reason


@pytest.mark.parametrize("raw", ["", "   ", "--"])
def test_management_number_empty(raw: str):
    with pytest.raises(InvalidInput) as caught:
        parse_management_number(raw)
    assert caught.value.field == "management_number"
    assert "empty" in caught.value.reason


def test_management_number_error_uses_the_callers_field():
    with pytest.raises(InvalidInput) as caught:
        parse_management_number("123", field="house")
    assert caught.value.field == "house"


# ---------------------------------------------------------------------------------------
# Issue number (発行番号) and the lease programme's numbers
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["0000021309", "00000-21309", "０００００２１３０９", " 0000 021 309 "]
)
def test_specimen_issue_number_parses(raw: str):
    assert parse_issue_number(raw) == "0000021309"


@pytest.mark.parametrize(("raw", "length"), [("21309", 5), ("000021309", 9), ("00000213090", 11)])
def test_issue_number_of_wrong_length(raw: str, length: int):
    # Leading zeros are part of the number: 21309 is not 0000021309.
    with pytest.raises(InvalidInput) as caught:
        parse_issue_number(raw)
    assert caught.value.field == "issue_number"
    assert "10 digits" in caught.value.reason
    assert f"has {length}" in caught.value.reason


def test_issue_number_with_letters():
    with pytest.raises(InvalidInput) as caught:
        parse_issue_number("00000213O9")
    assert caught.value.field == "issue_number"
    assert "digits only" in caught.value.reason
    assert "'O'" in caught.value.reason


def test_issue_number_refuses_non_ascii_digits():
    # Arabic-Indic digits are digits to Python (str.isdigit) but not to the registry.
    with pytest.raises(InvalidInput) as caught:
        parse_issue_number("٠٠٠٠٠٢١٣٠٩")
    assert caught.value.field == "issue_number"
    assert "digits only" in caught.value.reason


@pytest.mark.parametrize("field", ["case_number", "property_number", "approval_number"])
def test_lease_numbers(field: str):
    assert parse_lease_number("0000000001", field) == "0000000001"
    assert parse_lease_number("００００－０００００１", field) == "0000000001"
    with pytest.raises(InvalidInput) as caught:
        parse_lease_number("12345", field)
    assert caught.value.field == field
    assert "10 digits" in caught.value.reason
    assert field.replace("_", " ") in caught.value.reason


# ---------------------------------------------------------------------------------------
# Builder code and HLP id
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["000001", "０００００１", "000-001"])
def test_builder_code(raw: str):
    assert parse_builder_code(raw) == "000001"


@pytest.mark.parametrize(("raw", "length"), [("1", 1), ("00001", 5), ("0000001", 7)])
def test_builder_code_of_wrong_length(raw: str, length: int):
    with pytest.raises(InvalidInput) as caught:
        parse_builder_code(raw)
    assert caught.value.field == "builder_code"
    assert caught.value.reason == f"a builder code has 6 digits; {raw!r} has {length}"


@pytest.mark.parametrize(
    "raw", ["HLP-000001", "hlp-000001", "HLP000001", "HLP 000001", "ＨＬＰ－０００００１"]
)
def test_hlp_code_is_normalised(raw: str):
    assert parse_hlp_code(raw) == "HLP-000001"


@pytest.mark.parametrize("raw", ["000001", "1", "H-000001", "LP-000001", ""])
def test_hlp_code_without_prefix(raw: str):
    with pytest.raises(InvalidInput) as caught:
        parse_hlp_code(raw)
    assert caught.value.field == "hlp"
    assert "HLP-000001" in caught.value.reason


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("HLP-00001", "the number of an HLP id has 6 digits; '00001' has 5"),
        ("HLP-00000A", "the number of an HLP id may hold digits only; found 'A' in '00000A'"),
    ],
)
def test_hlp_code_with_bad_number(raw: str, problem: str):
    with pytest.raises(InvalidInput) as caught:
        parse_hlp_code(raw, field="hlp_code")
    assert caught.value.field == "hlp_code"
    assert caught.value.reason == problem


def test_hlp_code_with_no_number():
    with pytest.raises(InvalidInput) as caught:
        parse_hlp_code("HLP-")
    assert caught.value.field == "hlp"
    assert "empty" in caught.value.reason


@pytest.mark.parametrize(
    "raw",
    [
        "A002000001٢٠١٥000003",  # Arabic-Indic digits in the year
        "A0020000012015٠٠٠٠٠٠",  # Arabic-Indic zeros as the serial
        "A002000001፩015000003",  # a character that is a digit to isdigit() but not decimal
    ],
)
def test_non_ascii_digits_in_a_certificate_number_are_refused(raw):
    with pytest.raises(InvalidInput) as refused:
        parse_certificate_number(raw)
    assert refused.value.field == "number"
    assert "digits only" in refused.value.message


# ---------------------------------------------------------------------------------------
# Allocation (docs/numbers.md: each number from its own counter, inside the writing
# transaction; the first values are the table's "from" column)
# ---------------------------------------------------------------------------------------


def _allocate(db, take):
    """Values `take(session)` allocates in one committed transaction."""
    with db.transaction() as session:
        values = take(session)
        session.commit()
    return values


def test_the_first_numbers_of_each_sequence(db):
    first = _allocate(
        db,
        lambda s: [
            numbers.next_management_number(s),
            numbers.next_certificate_number(s, Construction.NEW, Kind.FIXED_FLOOR, "000001", 2015),
            numbers.next_issue_number(s),
            numbers.next_lease_number(s, "case"),
            numbers.next_tracking_number(s),
        ],
    )
    assert first == [
        "10000001",
        "A0020000012015000001",
        "0000000001",
        "0000000001",
        "0000000001",
    ]


def test_each_sequence_counts_on_by_one_across_transactions(db):
    def take(s):
        return [
            numbers.next_management_number(s),
            numbers.next_issue_number(s),
            numbers.next_lease_number(s, "approval"),
            numbers.next_tracking_number(s),
        ]

    assert _allocate(db, take) == ["10000001", "0000000001", "0000000001", "0000000001"]
    assert _allocate(db, take) == ["10000002", "0000000002", "0000000002", "0000000002"]
    assert _allocate(db, lambda s: [numbers.next_management_number(s) for _ in range(3)]) == [
        "10000003",
        "10000004",
        "10000005",
    ]


def test_the_lease_numbers_are_separate_sequences(db):
    taken = _allocate(
        db,
        lambda s: [
            numbers.next_lease_number(s, "case"),
            numbers.next_lease_number(s, "case"),
            numbers.next_lease_number(s, "property"),
            numbers.next_lease_number(s, "approval"),
            numbers.next_issue_number(s),
        ],
    )
    assert taken == ["0000000001", "0000000002", "0000000001", "0000000001", "0000000001"]


def test_certificate_serials_count_per_series_kind_builder_and_year(db):
    def take(s):
        return [
            numbers.next_certificate_number(s, Construction.NEW, Kind.FIXED_FLOOR, "000001", 2015),
            numbers.next_certificate_number(s, Construction.NEW, Kind.FIXED_FLOOR, "000001", 2015),
            numbers.next_certificate_number(
                s, Construction.EXISTING, Kind.FIXED_FLOOR, "000001", 2015
            ),
            numbers.next_certificate_number(s, Construction.NEW, Kind.STANDARD, "000001", 2015),
            numbers.next_certificate_number(s, Construction.NEW, Kind.FIXED_FLOOR, "000002", 2015),
            numbers.next_certificate_number(s, Construction.NEW, Kind.FIXED_FLOOR, "000001", 2016),
        ]

    assert _allocate(db, take) == [
        "A0020000012015000001",
        "A0020000012015000002",
        "B0020000012015000001",
        "A0010000012015000001",
        "A0020000022015000001",
        "A0020000012016000001",
    ]


def test_a_rolled_back_transaction_consumes_no_number(db):
    with db.transaction() as session:
        assert numbers.next_issue_number(session) == "0000000001"
        session.rollback()
    assert _allocate(db, numbers.next_issue_number) == "0000000001"


def test_serial_999999_is_the_last(db):
    def take(s):
        return numbers.next_certificate_number(
            s, Construction.EXISTING, Kind.OPTION, "123456", 2030
        )

    assert _allocate(db, take) == "B0031234562030000001"
    with db.transaction() as session:
        session.execute(
            text("UPDATE counter SET value = 999998 WHERE name = :name"),
            {"name": "certificate:B0031234562030"},
        )
        session.commit()
    assert _allocate(db, take) == "B0031234562030999999"
    with pytest.raises(InvalidInput) as refused:
        _allocate(db, take)
    assert refused.value.field == "number"
    assert refused.value.reason == "the serials of B0031234562030 are used up"


@pytest.mark.parametrize(
    ("parse", "raw", "reason"),
    [
        (
            parse_management_number,
            "1000203",
            "a management number (管理番号) has 8 digits; '1000203' has 7",
        ),
        (parse_management_number, "", "a management number (管理番号) is empty"),
        (parse_issue_number, "21309", "an issue number (発行番号) has 10 digits; '21309' has 5"),
        (
            parse_issue_number,
            "00000213O9",
            "an issue number (発行番号) may hold digits only; found 'O' in '00000213O9'",
        ),
        (
            parse_certificate_number,
            "A0040000012015000003",
            "kind code 004 (characters 2-4) is not one of 001, 002, 003",
        ),
        (
            parse_certificate_number,
            "A0020000012015000000",
            "serial 000000 (characters 15-20) is never issued",
        ),
    ],
)
def test_a_refused_number_is_named_in_the_message(parse, raw: str, reason: str):
    # The whole message, which names the number in English and Japanese (found by mutation
    # testing: a garbled name passed the fragment checks above).
    with pytest.raises(InvalidInput) as refused:
        parse(raw)
    assert refused.value.reason == reason


def test_each_sequence_continues_from_the_registry_s_stored_counter(db):
    """A registry in service has counted already (the counter rows docs/numbers.md names);
    the next numbers follow on from what it stored, not from the first values again."""
    stored = {
        "management": 10002032,
        "issue": 21308,
        "endorsement": 41,
        "case": 7,
        "certificate:A0020000012015": 2,
    }
    with db.transaction() as session:
        for name, value in stored.items():
            session.execute(
                text("INSERT INTO counter (name, value) VALUES (:name, :value)"),
                {"name": name, "value": value},
            )
        session.commit()
    taken = _allocate(
        db,
        lambda s: [
            numbers.next_management_number(s),
            numbers.next_issue_number(s),
            numbers.next_tracking_number(s),
            numbers.next_lease_number(s, "case"),
            numbers.next_certificate_number(s, Construction.NEW, Kind.FIXED_FLOOR, "000001", 2015),
        ],
    )
    # The specimens of docs/numbers.md: 10002033, 0000021309, A0020000012015000003.
    assert taken == ["10002033", "0000021309", "0000000042", "0000000008", "A0020000012015000003"]
