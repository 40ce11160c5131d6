"""The hash-chained audit trail and `kaseru audit verify`."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import text
from sqlmodel import select

from api.cli import main
from registry import audit
from registry.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.usefixtures("parties")


def _sql(db, statement, **params):
    with db.transaction() as session:
        session.exec(text(statement), params=params)  # type: ignore[call-overload]
        session.commit()


def _verify_cli(settings, capsys):
    code = main(["audit", "verify", "--db", settings.database_url])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_every_change_is_recorded_with_before_and_after(db, settings):
    from registry import services

    number = f.issue(db, settings)
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, number, "取消")
    with db.reading() as session:
        events = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    actions = [e.action for e in events]
    assert actions == [
        "builder.register",
        "builder.register",
        "hlp.register",
        "areas.import",
        "certificate.issue",
        "certificate.revoke",
    ]
    revoke = events[-1]
    assert revoke.actor == "staff:test"
    assert '"revoked_on":null' in revoke.before
    assert '"revoke_reason":"取消"' in revoke.after
    assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(events))


def test_intact_chain_exits_zero(db, settings, capsys):
    f.issue(db, settings)
    code, output = _verify_cli(settings, capsys)
    assert code == 0
    assert "intact: 5 events" in output


def test_edited_event_is_named(db, settings, capsys):
    f.issue(db, settings)
    f.issue(db, settings, house=f.house(lot="02"))
    _sql(db, "UPDATE audit_event SET actor = 'someone else' WHERE seq = 5")
    code, output = _verify_cli(settings, capsys)
    assert code == 1
    assert "broken at event 5" in output
    assert "changed" in output


def test_edited_after_json_is_detected(db, settings):
    f.issue(db, settings)
    _sql(db, "UPDATE audit_event SET after = replace(after, '45000', '90000') WHERE seq = 5")
    with db.reading() as session:
        report = audit.verify(session)
    assert (report.intact, report.broken_seq) == (False, 5)


def test_deleted_event_in_the_middle_is_named(db, settings, capsys):
    f.issue(db, settings)
    f.issue(db, settings, house=f.house(lot="02"))
    _sql(db, "DELETE FROM audit_event WHERE seq = 3")
    code, output = _verify_cli(settings, capsys)
    assert code == 1
    assert "broken at event 3" in output
    assert "missing" in output


def test_deleted_last_event_is_caught_by_the_head(db, settings, capsys):
    f.issue(db, settings)
    _sql(db, "DELETE FROM audit_event WHERE seq = 5")
    code, output = _verify_cli(settings, capsys)
    assert code == 1
    assert "event 5 is missing" in output


def test_rewritten_chain_tail_is_caught_by_the_head(db, settings):
    """Deleting the last event and fixing nothing else cannot pass; neither can a forged
    replacement event whose hash does not match the head."""
    f.issue(db, settings)
    _sql(db, "UPDATE audit_event SET hash = :h WHERE seq = 5", h="f" * 64)
    with db.reading() as session:
        report = audit.verify(session)
    assert report.broken_seq == 5
