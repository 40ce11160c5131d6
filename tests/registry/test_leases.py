"""Lease applications and approvals (マイホーム借上げ制度)."""

from __future__ import annotations

import datetime as dt

import pytest

from registry import services
from registry.calculator import lease_term
from registry.errors import Conflict, InvalidInput, NotAllowed
from registry.inputs import LeaseApproval, LeaseInput
from registry.kinds import ContractForm, InspectionResult
from tests import factories as f

pytestmark = pytest.mark.usefixtures("parties")


def _lease(number, **changes):
    base = {
        "certificate_number": number,
        "hlp_code": f.HLP,
        "contract_form": ContractForm.FIXED_PERIOD,
        "planned_move_out": dt.date(2026, 10, 1),
        "lease_years": 15,
        "applied_on": dt.date(2026, 3, 2),
        "assessed_lower": 88_000,
        "assessed_upper": 98_000,
    }
    base.update(changes)
    return LeaseInput(**base)


def _apply(db, settings, number, **changes):
    with db.transaction() as session:
        return services.apply_lease(session, f.STAFF, settings, _lease(number, **changes))


def _approve(db, settings, case, **changes):
    data = {"case_number": case, "effective_date": dt.date(2026, 10, 1), "decided_rent": 95_000}
    data.update(changes)
    with db.transaction() as session:
        return services.approve_lease(session, f.STAFF, settings, LeaseApproval(**data))


def test_term_bounds_follow_the_building_age():
    assert lease_term(0) == (10, 50)
    assert lease_term(11) == (10, 39)
    assert lease_term(40) == (10, 10)
    with pytest.raises(InvalidInput, match="no lease term is possible for a house aged 41"):
        lease_term(41)


def test_apply_and_approve_allocate_their_numbers(db, settings):
    number = f.issue(db, settings)
    application = _apply(db, settings, number)
    assert (application.case_number, application.property_number) == ("0000000001", "0000000001")
    approved = _approve(db, settings, application.case_number)
    assert approved.approval_number == "0000000001"
    assert approved.status == "approved"
    assert approved.effective_date == dt.date(2026, 10, 1)


def test_application_less_than_six_months_before_move_out_is_refused(db, settings):
    number = f.issue(db, settings)
    before = f.counts(db)
    with pytest.raises(InvalidInput) as refused:
        _apply(db, settings, number, applied_on=dt.date(2026, 4, 2))
    assert refused.value.field == "planned_move_out"
    assert "2026-10-02" in refused.value.message
    assert f.counts(db) == before
    assert _apply(db, settings, number, applied_on=dt.date(2026, 4, 1)).status == "applied"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lease_years": 9}, "lease_years"),
        ({"lease_years": 41}, "lease_years"),  # the house is 10 at move-out: at most 40
        ({"lease_years": None}, "lease_years"),
        ({"assessed_lower": 99_000}, "assessed_lower"),
        ({"assessed_upper": None}, "assessed_upper"),
        ({"hlp_code": "HLP000001X"}, "hlp_code"),
    ],
)
def test_bad_applications_name_the_field(db, settings, changes, field):
    number = f.issue(db, settings)
    with pytest.raises(InvalidInput) as refused:
        _apply(db, settings, number, **changes)
    assert refused.value.field == field


def test_lifetime_form_needs_no_term(db, settings):
    number = f.issue(db, settings)
    application = _apply(
        db, settings, number, contract_form=ContractForm.LIFETIME, lease_years=None
    )
    assert application.lease_years is None


def test_outstanding_repairs_block_approval_until_done(db, settings):
    number = f.issue(db, settings)
    with db.transaction() as session:
        services.record_inspection(
            session,
            f.BUILDER_ACTOR,
            settings,
            f.inspection(
                number,
                result=InspectionResult.REPAIRS_REQUIRED,
                repairs="屋根防水補修",
            ),
        )
    application = _apply(db, settings, number)
    with pytest.raises(Conflict, match="repairs"):
        _approve(db, settings, application.case_number)
    with db.transaction() as session:
        services.complete_repairs(
            session, f.BUILDER_ACTOR, settings, number, dt.date(2026, 2, 1), "防水工事完了"
        )
    assert _approve(db, settings, application.case_number).status == "approved"


def test_one_open_application_at_a_time_and_one_decision(db, settings):
    number = f.issue(db, settings)
    application = _apply(db, settings, number)
    with pytest.raises(Conflict, match="still open"):
        _apply(db, settings, number)
    _approve(db, settings, application.case_number)
    with pytest.raises(Conflict, match="approved already"):
        _approve(db, settings, application.case_number)


def test_only_staff_record_leases(db, settings):
    number = f.issue(db, settings)
    with db.transaction() as session, pytest.raises(NotAllowed):
        services.apply_lease(session, f.BUILDER_ACTOR, settings, _lease(number))


def test_reject_records_the_reason(db, settings):
    number = f.issue(db, settings)
    application = _apply(db, settings, number)
    with db.transaction() as session:
        rejected = services.reject_lease(
            session, f.STAFF, settings, application.case_number, "書類不備"
        )
    assert (rejected.status, rejected.remarks) == ("rejected", "書類不備")


def test_no_lease_on_a_revoked_certificate(db, settings):
    number = f.issue(db, settings)
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, number, "取消")
    with pytest.raises(Conflict, match="revoked"):
        _apply(db, settings, number)
