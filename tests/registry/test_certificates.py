"""Issuing, finding, listing and revoking certificates on a real database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from registry import audit, services
from registry.actors import SYSTEM
from registry.errors import Conflict, Ineligible, InvalidInput, NotAllowed, NotFound
from registry.kinds import CertificateStatus, Construction, IssueStatus, Kind, Standing
from registry.models import HistoryEntry, Issue, PlanEntry
from tests import factories as f

pytestmark = pytest.mark.usefixtures("parties")


def test_issue_writes_house_certificate_issue_plan_history_and_audit(db, settings):
    number = f.issue(db, settings)
    assert number == "A0020000012015000001"
    with db.reading() as session:
        certificate = services.find_certificate(session, SYSTEM, number)
        view = services.certificate_view(session, settings, certificate)
        plan = session.exec(select(PlanEntry)).all()
        history = session.exec(select(HistoryEntry)).all()
        report = audit.verify(session)
    assert view["valid_from"] == "2015-10-16"
    assert view["valid_until"] == "2065-10-16"
    assert view["floor"] == 45_000
    assert view["owner"] == "山本 一郎"
    assert view["issue_number"] == "0000000001"
    assert view["management_number"] == "10000001"
    assert view["status"] == "active"
    assert [p.due_date for p in plan][:2] == [dt.date(2025, 10, 16), dt.date(2030, 10, 16)]
    assert [h.kind for h in history] == ["construction"]
    assert report.intact and report.events == 5  # 2 builders, 1 HLP, areas, 1 certificate


def test_numbers_follow_in_sequence_per_builder_kind_and_year(db, settings):
    first = f.issue(db, settings)
    second = f.issue(db, settings, house=f.house(lot="02"))
    standard = f.issue(db, settings, kind=Kind.STANDARD, floor=None, house=f.house(lot="03"))
    later = f.issue(db, settings, issued_on=dt.date(2016, 1, 5), house=f.house(lot="04"))
    assert (first, second) == ("A0020000012015000001", "A0020000012015000002")
    assert standard == "A0010000012015000001"
    assert later == "A0020000012016000001"
    with db.reading() as session:
        issues = session.exec(select(Issue.number).order_by(Issue.number)).all()
    assert issues == ["0000000001", "0000000002", "0000000003", "0000000004"]


def test_existing_home_gets_series_b_and_25_years(db, settings):
    number = f.issue(
        db,
        settings,
        house=f.existing_house(),
        kind=Kind.STANDARD,
        floor=None,
        issued_on=dt.date(2019, 9, 2),
    )
    with db.reading() as session:
        view = services.certificate_view(
            session, settings, services.find_certificate(session, SYSTEM, number)
        )
        kinds = session.exec(select(HistoryEntry.kind).order_by(HistoryEntry.on)).all()
    assert number.startswith("B001")
    assert (view["valid_from"], view["valid_until"]) == ("2019-09-02", "2044-09-02")
    assert view["plan"][0]["due_date"] == "2024-09-02"
    assert list(kinds) == ["construction", "renovation"]


def test_ineligible_house_is_refused_and_nothing_is_written(db, settings):
    before = f.counts(db)
    with pytest.raises(Ineligible) as refused:
        f.issue(db, settings, house=f.house(grade_seismic=1))
    assert refused.value.field == "house.grade_seismic"
    assert "耐震等級" in refused.value.message
    assert f.counts(db) == before


def test_unknown_hlp_is_refused_and_nothing_is_written(db, settings):
    before = f.counts(db)
    with pytest.raises(NotFound, match="HLP-000999"):
        f.issue(db, settings, hlp_code="HLP-000999")
    assert f.counts(db) == before


def test_failure_after_rows_are_flushed_rolls_everything_back(db, settings, monkeypatch):
    """Numbers allocated, house and certificate flushed, then the audit write fails."""
    before = f.counts(db)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        f.issue(db, settings)
    monkeypatch.undo()
    assert f.counts(db) == before
    assert f.issue(db, settings) == "A0020000012015000001"  # the counter did not move


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"floor": None}, "floor"),
        ({"floor": -1}, "floor"),
        ({"floor": 0}, "floor"),
        ({"kind": Kind.STANDARD, "floor": 45_000}, "floor"),
        ({"owner_name": "  "}, "owner_name"),
        ({"owner_email": "not-an-address"}, "owner_email"),
        ({"house": f.house(postal_code="51108")}, "house.postal_code"),
        ({"house": f.house(address="")}, "house.address"),
        ({"valid_from": dt.date(2015, 1, 1)}, "valid_from"),
        (
            {
                "valid_from": dt.date(1960, 1, 1),
                "house": f.house(completion_date=dt.date(1950, 1, 1)),
            },
            "valid_from",
        ),
        ({"plan": ()}, "plan"),
    ],
)
def test_bad_input_names_the_field(db, settings, changes, field):
    before = f.counts(db)
    with pytest.raises(InvalidInput) as refused:
        f.issue(db, settings, **changes)
    assert refused.value.field == field
    assert f.counts(db) == before


def test_custom_plan_replaces_the_default(db, settings):
    plan = (dt.date(2020, 10, 16), dt.date(2030, 10, 16))
    number = f.issue(db, settings, plan=plan)
    with db.reading() as session:
        view = services.certificate_view(
            session, settings, services.find_certificate(session, SYSTEM, number)
        )
    assert [p["due_date"] for p in view["plan"]] == ["2020-10-16", "2030-10-16"]
    assert view["standing"] == Standing.OVERDUE.value


def test_builder_cannot_issue_for_another_builder(db, settings):
    with pytest.raises(NotAllowed):
        f.issue(db, settings, actor=f.OTHER_ACTOR)


def test_other_builder_cannot_see_and_learns_nothing(db, settings):
    number = f.issue(db, settings)
    with db.reading() as session:
        with pytest.raises(NotFound) as hidden:
            services.find_certificate(session, f.OTHER_ACTOR, number)
        with pytest.raises(NotFound) as missing:
            services.find_certificate(session, f.OTHER_ACTOR, "A0020000022015000001")
        assert services.list_certificates(session, f.OTHER_ACTOR, settings) == []
        assert len(services.list_certificates(session, f.BUILDER_ACTOR, settings)) == 1
    assert str(hidden.value).replace(number, "X") == str(missing.value).replace(
        "A0020000022015000001", "X"
    )


def test_list_filters_by_status(db, settings):
    active = f.issue(db, settings)
    revoked = f.issue(db, settings, house=f.house(lot="02"))
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, revoked, "虚偽の申請")
    with db.reading() as session:
        rows = services.list_certificates(session, SYSTEM, settings, CertificateStatus.ACTIVE)
        gone = services.list_certificates(session, SYSTEM, settings, CertificateStatus.REVOKED)
        later = services.list_certificates(
            session, SYSTEM, settings, CertificateStatus.EXPIRED, on=dt.date(2065, 10, 17)
        )
    assert [r["number"] for r in rows] == [active]
    assert [r["number"] for r in gone] == [revoked]
    assert [r["number"] for r in later] == [active]


def test_revoke_needs_staff_and_a_reason_and_happens_once(db, settings):
    number = f.issue(db, settings)
    with db.transaction() as session, pytest.raises(NotAllowed):
        services.revoke_certificate(session, f.BUILDER_ACTOR, settings, number, "理由")
    with db.transaction() as session, pytest.raises(InvalidInput, match="reason"):
        services.revoke_certificate(session, f.STAFF, settings, number, " ")
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, number, "維持管理義務の不履行")
    with db.transaction() as session, pytest.raises(Conflict, match="revoked"):
        services.revoke_certificate(session, f.STAFF, settings, number, "again")
    with db.reading() as session:
        view = services.certificate_view(
            session, settings, services.find_certificate(session, SYSTEM, number)
        )
    assert view["status"] == "revoked"
    assert view["revoke_reason"] == "維持管理義務の不履行"
    assert view["issues"][0]["status"] == IssueStatus.REVOKED.value


def test_revocation_rejects_a_pending_endorsement(db, settings):
    number = f.issue(db, settings)
    with db.transaction() as session:
        pending = services.request_endorsement(session, f.STAFF, settings, f.endorsement(number))
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, number, "取消")
    with db.reading() as session:
        view = services.certificate_view(
            session, settings, services.find_certificate(session, SYSTEM, number)
        )
        assert audit.verify(session).intact
    assert view["endorsements"][0]["tracking_number"] == pending.tracking_number
    assert view["endorsements"][0]["status"] == "rejected"


def test_option_kind_terms_come_from_settings(db, settings):
    from dataclasses import replace

    option_settings = replace(settings, option_has_floor=True, option_validity_new=40)
    number = f.issue(db, option_settings, kind=Kind.OPTION, floor=30_000)
    with db.reading() as session:
        view = services.certificate_view(
            session, settings, services.find_certificate(session, SYSTEM, number)
        )
    assert number[1:4] == "003"
    assert view["valid_until"] == "2055-10-16"
    assert view["floor"] == 30_000


def test_construction_is_recorded(db, settings):
    number = f.issue(db, settings)
    with db.reading() as session:
        view = services.certificate_view(
            session, settings, services.find_certificate(session, SYSTEM, number)
        )
    assert view["house"]["construction"] == Construction.NEW.value
