"""`kaseru calc …` run in-process through the real entry point `main`: one JSON object on one
line of stdout, with exactly the keys other tools script against; bad arguments give one
"kaseru: error: " line on stderr, nothing on stdout and a non-zero exit.

Expected figures are worked out by hand in the comments (see also
tests/registry/test_calculator.py); none is copied from the program's output."""

from __future__ import annotations

import json
from decimal import Decimal, localcontext

import pytest

from api.cli import main


@pytest.fixture(autouse=True)
def _no_bank_closing(monkeypatch):
    """The default settings: docs/domain.md's business days, no bank closing."""
    monkeypatch.delenv("KASERU_BANK_CLOSING", raising=False)


def ok(capsys, *args: str) -> dict:
    """Run `kaseru calc ARGS`, check it succeeded with one JSON line, and return the object."""
    code = main(["calc", *args])
    out = capsys.readouterr()
    assert (code, out.err) == (0, "")
    assert out.out.endswith("\n")
    lines = out.out.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert isinstance(data, dict)
    return data


def fails(capsys, *args: str) -> str:
    """Run `kaseru calc ARGS`, check it failed with one error line, and return that line."""
    code = main(["calc", *args])
    out = capsys.readouterr()
    assert code != 0
    assert out.out == ""
    assert out.err.startswith("kaseru: error: ")
    assert out.err.endswith("\n")
    assert out.err.count("\n") == 1
    return out.err


# ---------------------------------------------------------------------------------------
# Each command's keys and a worked example
# ---------------------------------------------------------------------------------------


def test_owner_rent(capsys):
    # 95,000: reserve 10% = 9,500, fee 5% = 4,750, owner 95,000 − 14,250 = 80,750
    assert ok(capsys, "owner-rent", "--rent", "95000") == {
        "owner_rent": 80_750,
        "reserve": 9_500,
        "fee": 4_750,
    }


def test_owner_rent_long_lease(capsys):
    # reserve 3% = 2,850, fee 4,750, owner 95,000 − 7,600 = 87,400
    assert ok(capsys, "owner-rent", "--rent", "95000", "--long-lease") == {
        "owner_rent": 87_400,
        "reserve": 2_850,
        "fee": 4_750,
    }


def test_owner_rent_rounds_half_up(capsys):
    # 95,010: reserve 9,501.0; fee 4,750.5 → 4,751; owner 95,010 − 14,252 = 80,758
    assert ok(capsys, "owner-rent", "--rent", "95010") == {
        "owner_rent": 80_758,
        "reserve": 9_501,
        "fee": 4_751,
    }


def test_floor(capsys):
    # 88,000 × 85% = 74,800
    assert ok(capsys, "floor", "--lower-bound", "88000") == {
        "market_floor": 74_800,
        "floor": 74_800,
    }


def test_floor_fixed_floor_wins_when_higher(capsys):
    assert ok(capsys, "floor", "--lower-bound", "88000", "--fixed-floor", "80000") == {
        "market_floor": 74_800,
        "floor": 80_000,
    }
    assert ok(capsys, "floor", "--lower-bound", "88000", "--fixed-floor", "45000") == {
        "market_floor": 74_800,
        "floor": 74_800,
    }


def test_floor_long_lease(capsys):
    # 88,000 − 2,640 (3%) − 4,400 (5%) = 80,960
    assert ok(capsys, "floor", "--lower-bound", "88000", "--long-lease") == {
        "market_floor": 80_960,
        "floor": 80_960,
    }


def test_payment_start(capsys):
    # 1 Apr + 6 months = 1 Oct; a move-in on 10 Jun is earlier
    assert ok(capsys, "payment-start", "--effective", "2026-04-01") == {"start": "2026-10-01"}
    assert ok(
        capsys, "payment-start", "--effective", "2026-04-01", "--first-move-in", "2026-06-10"
    ) == {"start": "2026-06-10"}
    assert ok(
        capsys, "payment-start", "--effective", "2026-04-01", "--first-move-in", "2026-12-01"
    ) == {"start": "2026-10-01"}


def test_payment_start_clamps_to_february(capsys):
    # 31 Aug 2026 + 6 months → 28 Feb 2027; 31 Aug 2027 + 6 months → 29 Feb 2028 (leap)
    assert ok(capsys, "payment-start", "--effective", "2026-08-31") == {"start": "2027-02-28"}
    assert ok(capsys, "payment-start", "--effective", "2027-08-31") == {"start": "2028-02-29"}


def test_prorate(capsys):
    # October: 31 days; 15th-31st = 17 days; 95,000 × 17 / 31 = 52,096.77 → 52,097
    assert ok(capsys, "prorate", "--monthly", "95000", "--start", "2026-10-15") == {
        "amount": 52_097,
        "days": 17,
        "days_in_month": 31,
    }


def test_prorate_whole_month(capsys):
    assert ok(capsys, "prorate", "--monthly", "95000", "--start", "2026-02-01") == {
        "amount": 95_000,
        "days": 28,
        "days_in_month": 28,
    }


@pytest.mark.parametrize(
    ("age", "expected"),
    [("11", {"min_years": 10, "max_years": 39}), ("40", {"min_years": 10, "max_years": 10})],
)
def test_lease_term(capsys, age, expected):
    # 50 − 11 = 39; 50 − 40 = 10
    assert ok(capsys, "lease-term", "--building-age", age) == expected


def test_residual_value_at_zero_rate(capsys):
    # 45,000 × (50 − 30) × 12 = 10,800,000
    args = ("residual-value", "--floor", "45000", "--after-years", "30", "--rate", "0")
    assert ok(capsys, *args) == {"residual_value": 10_800_000}


def test_residual_value_with_a_term(capsys):
    # term 35, after 5: 360 months × 50,000 = 18,000,000
    args = ("--floor", "50000", "--after-years", "5", "--rate", "0", "--term-years", "35")
    assert ok(capsys, "residual-value", *args) == {"residual_value": 18_000_000}


def test_residual_value_at_three_percent(capsys):
    # 45,000 × (1 − (1 + 0.0025)^−240) / 0.0025, computed here independently
    with localcontext() as ctx:
        ctx.prec = 50
        r = Decimal(3) / 1200
        exact = Decimal(45_000) * (1 - (1 + r) ** -240) / r
    expected = int(exact + Decimal("0.5"))  # half up of a positive amount
    args = ("residual-value", "--floor", "45000", "--after-years", "30", "--rate", "3")
    assert ok(capsys, *args) == {"residual_value": expected}


def test_loan_capacity(capsys):
    # 0%: 45,000 × 20 × 12 = 10,800,000
    args = ("loan-capacity", "--floor", "45000", "--years", "20", "--rate", "0")
    assert ok(capsys, *args) == {"capacity": 10_800_000}


def test_loan_capacity_at_twelve_percent(capsys):
    # r = 0.01, n = 12: 1.01¹² = 1.1268250301…; (1 − 1/1.1268250301) / 0.01 = 11.25507747;
    # × 45,000 = 506,478.49 → 506,478
    args = ("loan-capacity", "--floor", "45000", "--years", "1", "--rate", "12%")
    assert ok(capsys, *args) == {"capacity": 506_478}


def test_stress_with_a_decline(capsys):
    # 100,000 × 0.95 × 0.99 = 94,050
    data = ok(capsys, "stress", "--rent", "100000", "--decline", "-1", "--years", "1")
    assert data == {"rent_after": 94_050, "decline": -1.0}
    assert isinstance(data["decline"], float)


def test_stress_without_decline_is_rent_after_fee(capsys):
    # 100,000 × 0.95 = 95,000, whatever the years
    data = ok(capsys, "stress", "--rent", "100000", "--decline", "0")
    assert data == {"rent_after": 95_000, "decline": 0.0}
    assert isinstance(data["decline"], float)


def test_stress_with_a_city_and_sigma(capsys):
    # nationwide mean+1σ: −0.31250 − 0.33727 = −0.64977%;
    # 100,000 × 0.95 × (1 − 0.0064977) = 95,000 − 617.2815 = 94,382.72 → 94,383
    args = ("--rent", "100000", "--city", "nationwide", "--sigma", "1", "--years", "1")
    data = ok(capsys, "stress", *args)
    assert data == {"rent_after": 94_383, "decline": -0.64977}
    assert isinstance(data["decline"], float)


def test_stress_with_a_city_defaults_to_the_mean(capsys):
    # small cities, mean −0.45882%: 100,000 × 0.95 × (1 − 0.0045882) = 95,000 − 435.879
    # = 94,564.121 → 94,564
    args = ("--rent", "100000", "--city", "small", "--years", "1")
    assert ok(capsys, "stress", *args) == {"rent_after": 94_564, "decline": -0.45882}


def test_stress_fifty_years_by_domain_formula(capsys):
    # (rent × 0.95) × (1 − d)^50 with d = 0.0132431 (nationwide mean+3σ), computed here
    with localcontext() as ctx:
        ctx.prec = 50
        exact = Decimal(100_000) * Decimal("0.95") * (1 - Decimal("0.0132431")) ** 50
    expected = int(exact + Decimal("0.5"))
    args = ("--rent", "100000", "--city", "nationwide", "--sigma", "3")
    assert ok(capsys, "stress", *args) == {"rent_after": expected, "decline": -1.32431}


def test_payment_day(capsys):
    # Jan 2026: 1 Jan (Thu) and 12 Jan (Mon) are holidays; 2 (1), 5-9 (2-6), 13-16 (7-10)
    assert ok(capsys, "payment-day", "--month", "2026-01") == {"date": "2026-01-16"}


def test_payment_day_in_golden_week(capsys):
    # May 2026: 1 (1), [4-6 holidays], 7 (2), 8 (3), 11-15 (4-8), 18 (9), 19 (10)
    assert ok(capsys, "payment-day", "--month", "2026-05") == {"date": "2026-05-19"}


@pytest.mark.parametrize("flag", ["1", "true"])
def test_payment_day_with_the_bank_closing(capsys, monkeypatch, flag):
    # 2 Jan is closed too: 5-9 (1-5), 13-16 (6-9), 19 Mon (10)
    monkeypatch.setenv("KASERU_BANK_CLOSING", flag)
    assert ok(capsys, "payment-day", "--month", "2026-01") == {"date": "2026-01-19"}


def test_payment_day_with_the_bank_closing_off(capsys, monkeypatch):
    monkeypatch.setenv("KASERU_BANK_CLOSING", "0")
    assert ok(capsys, "payment-day", "--month", "2026-01") == {"date": "2026-01-16"}


# ---------------------------------------------------------------------------------------
# Bad arguments: one error line, nothing on stdout, non-zero exit
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (("owner-rent", "--rent", "-1"), "rent"),
        (("owner-rent", "--rent=-95000"), "rent"),
        (("owner-rent", "--rent", "95000.5"), "95000.5"),
        (("owner-rent",), "rent"),
        (("floor", "--lower-bound", "-88000"), "lower_bound"),
        (("floor", "--lower-bound", "88000", "--fixed-floor", "0"), "fixed_floor"),
        (("payment-start", "--effective", "2026-02-30"), "2026-02-30"),
        (
            ("payment-start", "--effective", "2026-04-01", "--first-move-in", "2026-03-31"),
            "first_move_in",
        ),
        (("prorate", "--monthly", "-1", "--start", "2026-10-15"), "monthly"),
        (("prorate", "--monthly", "95000", "--start", "2026-02-30"), "2026-02-30"),
        (("lease-term", "--building-age", "41"), "41"),
        (("lease-term", "--building-age", "-1"), "building_age"),
        (
            ("residual-value", "--floor", "45000", "--after-years", "51", "--rate", "1"),
            "after_years",
        ),
        (("residual-value", "--floor", "45000", "--after-years", "30", "--rate", "x"), "x"),
        (("residual-value", "--floor", "45000", "--after-years", "30", "--rate", "101"), "rate"),
        (("residual-value", "--floor", "45000", "--after-years", "30", "--rate", "-1"), "rate"),
        (("residual-value", "--floor", "45000", "--after-years", "30", "--rate", "nan"), "nan"),
        (("loan-capacity", "--floor", "0", "--years", "20", "--rate", "1"), "floor"),
        (("loan-capacity", "--floor", "45000", "--years", "51", "--rate", "1"), "years"),
        (("stress", "--rent", "100000", "--city", "atlantis"), "atlantis"),
        (("stress", "--rent", "100000", "--city", "small", "--sigma", "4"), "4"),
        (("stress", "--rent", "-1", "--decline", "-1"), "rent"),
        (("stress", "--rent", "100000", "--decline", "-101"), "decline"),
        (("stress", "--rent", "100000", "--decline", "-1", "--city", "small"), "decline"),
        (("stress", "--rent", "100000"), "decline"),
        (("stress", "--rent", "100000", "--decline", "-1", "--sigma", "1"), "sigma"),
        (("payment-day", "--month", "2026-13"), "2026-13"),
        (("payment-day", "--month", "2026-00"), "2026-00"),
        (("payment-day", "--month", "January"), "January"),
        (("no-such-command",), "no-such-command"),
    ],
)
def test_bad_arguments_give_one_error_line(capsys, args, mentions):
    assert mentions in fails(capsys, *args)


def test_lease_term_41_names_the_age_and_exits_1(capsys):
    code = main(["calc", "lease-term", "--building-age", "41"])
    out = capsys.readouterr()
    assert code == 1
    assert out.out == ""
    assert out.err.startswith("kaseru: error: building_age: ")
    assert "41" in out.err


def test_a_usage_error_exits_2(capsys):
    code = main(["calc", "stress", "--rent", "100000", "--city", "atlantis"])
    out = capsys.readouterr()
    assert code == 2
    assert out.out == ""
    assert out.err.startswith("kaseru: error: ")
