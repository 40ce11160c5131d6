"""Unit tests of registry/validity.py: how long a certificate is valid and its status."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.kinds import CertificateStatus, Construction, Kind
from registry.settings import Settings
from registry.validity import status, valid_until, validity_years

D = dt.date
DAY = dt.timedelta(days=1)
DEFAULTS = Settings()


# ---------------------------------------------------------------------------------------
# validity_years
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "construction", "years"),
    [
        (Kind.STANDARD, Construction.NEW, 50),
        (Kind.FIXED_FLOOR, Construction.NEW, 50),
        (Kind.STANDARD, Construction.EXISTING, 25),
        (Kind.FIXED_FLOOR, Construction.EXISTING, 35),
        # The option kind's terms are configuration; the defaults mirror the others.
        (Kind.OPTION, Construction.NEW, 50),
        (Kind.OPTION, Construction.EXISTING, 25),
    ],
)
def test_validity_years_per_domain(kind: Kind, construction: Construction, years: int):
    assert validity_years(kind, construction, DEFAULTS) == years


def test_option_validity_comes_from_settings():
    custom = dataclasses.replace(DEFAULTS, option_validity_new=40, option_validity_existing=20)
    assert validity_years(Kind.OPTION, Construction.NEW, custom) == 40
    assert validity_years(Kind.OPTION, Construction.EXISTING, custom) == 20


def test_option_settings_do_not_change_the_other_kinds():
    custom = dataclasses.replace(DEFAULTS, option_validity_new=40, option_validity_existing=20)
    assert validity_years(Kind.STANDARD, Construction.NEW, custom) == 50
    assert validity_years(Kind.FIXED_FLOOR, Construction.EXISTING, custom) == 35
    assert validity_years(Kind.STANDARD, Construction.EXISTING, custom) == 25


def test_option_validity_read_from_the_environment():
    env = {"KASERU_OPTION_VALIDITY_NEW": "30", "KASERU_OPTION_VALIDITY_EXISTING": "15"}
    configured = Settings.from_env(env)
    assert validity_years(Kind.OPTION, Construction.NEW, configured) == 30
    assert validity_years(Kind.OPTION, Construction.EXISTING, configured) == 15


# ---------------------------------------------------------------------------------------
# valid_until
# ---------------------------------------------------------------------------------------


def test_specimen_validity():
    # 50 years from 2015-10-16 to the corresponding day 2065-10-16.
    years = validity_years(Kind.FIXED_FLOOR, Construction.NEW, DEFAULTS)
    assert valid_until(D(2015, 10, 16), years) == D(2065, 10, 16)


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        (D(2020, 4, 1), 25, D(2045, 4, 1)),
        (D(2020, 4, 1), 35, D(2055, 4, 1)),
        (D(2016, 2, 29), 25, D(2041, 2, 28)),  # 29 Feb falls back to the 28th
        (D(2016, 2, 29), 50, D(2066, 2, 28)),
        (D(2016, 2, 29), 24, D(2040, 2, 29)),  # ... unless the year is a leap year
        (D(2010, 12, 31), 50, D(2060, 12, 31)),
    ],
)
def test_valid_until_corresponding_day(start: dt.date, years: int, expected: dt.date):
    assert valid_until(start, years) == expected


# ---------------------------------------------------------------------------------------
# status
# ---------------------------------------------------------------------------------------

UNTIL = D(2065, 10, 16)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (D(2015, 10, 16), CertificateStatus.ACTIVE),
        (D(2065, 10, 15), CertificateStatus.ACTIVE),
        (D(2065, 10, 16), CertificateStatus.ACTIVE),  # the last day of validity
        (D(2065, 10, 17), CertificateStatus.EXPIRED),
        (D(2100, 1, 1), CertificateStatus.EXPIRED),
    ],
)
def test_status_by_validity(on: dt.date, expected: CertificateStatus):
    assert status(UNTIL, None, on) is expected


def test_status_revoked_from_the_revocation_day():
    revoked = D(2030, 5, 1)
    assert status(UNTIL, revoked, revoked - DAY) is CertificateStatus.ACTIVE
    assert status(UNTIL, revoked, revoked) is CertificateStatus.REVOKED
    assert status(UNTIL, revoked, revoked + DAY) is CertificateStatus.REVOKED


def test_status_revoked_wins_over_expired():
    assert status(UNTIL, D(2030, 5, 1), D(2070, 1, 1)) is CertificateStatus.REVOKED


def test_status_future_revocation_leaves_it_active():
    assert status(UNTIL, D(2040, 1, 1), D(2039, 12, 31)) is CertificateStatus.ACTIVE


RANK = {CertificateStatus.ACTIVE: 0, CertificateStatus.EXPIRED: 1, CertificateStatus.REVOKED: 1}


@given(
    start=st.dates(min_value=D(2008, 10, 1), max_value=D(2100, 12, 31)),
    kind=st.sampled_from(Kind),
    construction=st.sampled_from(Construction),
    offset=st.integers(min_value=0, max_value=60 * 366),
)
def test_a_certificate_is_active_exactly_through_its_validity(
    start: dt.date, kind: Kind, construction: Construction, offset: int
):
    years = validity_years(kind, construction, DEFAULTS)
    assert years in (25, 35, 50)
    until = valid_until(start, years)
    assert until.year == start.year + years
    on = start + dt.timedelta(days=offset)
    expected = CertificateStatus.ACTIVE if on <= until else CertificateStatus.EXPIRED
    assert status(until, None, on) is expected
