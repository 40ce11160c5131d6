"""Inspections, repairs and the standing they restore."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from registry import services
from registry.actors import SYSTEM
from registry.errors import Conflict, InvalidInput, NotFound
from registry.kinds import InspectionResult
from tests import factories as f

pytestmark = pytest.mark.usefixtures("parties")


def _view(db, settings, number, on=None):
    with db.reading() as session:
        return services.certificate_view(
            session, settings, services.find_certificate(session, SYSTEM, number), on
        )


def _record(db, settings, number, **changes):
    with db.transaction() as session:
        return services.record_inspection(
            session, f.BUILDER_ACTOR, settings, f.inspection(number, **changes)
        )


def test_missed_ten_year_inspection_is_overdue_and_recording_restores_it(db, settings):
    number = f.issue(db, settings)
    assert _view(db, settings, number, dt.date(2025, 1, 1))["standing"] == "up_to_date"
    assert _view(db, settings, number, dt.date(2025, 10, 16))["standing"] == "due"
    assert _view(db, settings, number)["standing"] == "overdue"
    _record(db, settings, number, inspected_on=dt.date(2026, 11, 1))
    view = _view(db, settings, number)
    assert view["standing"] == "up_to_date"
    assert view["next_inspection_due"] == "2030-10-16"
    assert view["plan"][0]["inspected_on"] == "2026-11-01"


def test_inspection_years_early_does_not_count(db, settings):
    number = f.issue(db, settings)
    _record(db, settings, number, inspected_on=dt.date(2020, 1, 10))
    assert _view(db, settings, number)["standing"] == "overdue"


def test_repairs_required_then_completed(db, settings):
    number = f.issue(db, settings)
    _record(
        db, settings, number, result=InspectionResult.REPAIRS_REQUIRED, repairs="土台の防腐補修"
    )
    with db.transaction() as session:
        done = services.complete_repairs(
            session, f.BUILDER_ACTOR, settings, number, dt.date(2025, 10, 30), "土台交換"
        )
    assert done.repairs_completed_on == dt.date(2025, 10, 30)
    with db.transaction() as session, pytest.raises(NotFound, match="no repairs outstanding"):
        services.complete_repairs(
            session, f.BUILDER_ACTOR, settings, number, dt.date(2025, 11, 1), "x"
        )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"inspected_on": dt.date(2026, 11, 24)}, "inspected_on"),
        ({"inspected_on": dt.date(2015, 1, 1)}, "inspected_on"),
        ({"inspector": ""}, "inspector"),
        ({"result": InspectionResult.REPAIRS_REQUIRED}, "repairs"),
        ({"repairs": "何か"}, "repairs"),
    ],
)
def test_bad_inspections_name_the_field(db, settings, changes, field):
    number = f.issue(db, settings)
    before = f.counts(db)
    with pytest.raises(InvalidInput) as refused:
        _record(db, settings, number, **changes)
    assert refused.value.field == field
    assert f.counts(db) == before


def test_no_inspection_on_a_revoked_certificate(db, settings):
    number = f.issue(db, settings)
    with db.transaction() as session:
        services.revoke_certificate(
            session, f.STAFF, settings, number, "取消", on=dt.date(2025, 1, 1)
        )
    with pytest.raises(Conflict, match="revoked"):
        _record(db, settings, number)


def test_other_builder_cannot_record(db, settings):
    number = f.issue(db, settings)
    with db.transaction() as session, pytest.raises(NotFound):
        services.record_inspection(session, f.OTHER_ACTOR, settings, f.inspection(number))


def test_today_setting_controls_the_future_check(db, settings):
    number = f.issue(db, settings)
    later = replace(settings, today=dt.date(2030, 1, 1))
    with db.transaction() as session:
        services.record_inspection(
            session, f.BUILDER_ACTOR, later, f.inspection(number, inspected_on=dt.date(2029, 12, 1))
        )
    assert _view(db, later, number)["standing"] == "up_to_date"
