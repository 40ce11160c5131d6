"""The hash-chained audit trail and `kaseru audit verify`."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json

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


def _forged_hash(prev_hash: str, event: AuditEvent, after: str | None) -> str:
    """The chain's formula written out as a forger would (registry/audit.py's docstring):
    SHA-256 over the previous hash and the event's fields in canonical JSON."""
    body = json.dumps(
        {
            "seq": event.seq,
            "at": event.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor": event.actor,
            "action": event.action,
            "entity": event.entity,
            "entity_key": event.entity_key,
            "before": event.before,
            "after": after,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def test_a_consistently_rehashed_tail_is_caught_by_the_head_alone(db, settings, capsys):
    """A forger with write access rewrites event 5 (the first issue's floor ¥45,000 made
    ¥90,000), rehashes it and relinks and rehashes event 6 after it: every event's hash and
    link is consistent from the first one, so only the head's hash can tell."""
    f.issue(db, settings)
    f.issue(db, settings, house=f.house(lot="02"))
    with db.reading() as session:
        events = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    fifth, sixth = events[4], events[5]
    assert '"floor":45000' in fifth.after
    after = fifth.after.replace('"floor":45000', '"floor":90000')
    fifth_hash = _forged_hash(fifth.prev_hash, fifth, after)
    sixth_hash = _forged_hash(fifth_hash, sixth, sixth.after)
    _sql(
        db,
        "UPDATE audit_event SET after = :after, hash = :h WHERE seq = 5",
        after=after,
        h=fifth_hash,
    )
    _sql(
        db,
        "UPDATE audit_event SET prev_hash = :p, hash = :h WHERE seq = 6",
        p=fifth_hash,
        h=sixth_hash,
    )
    with db.reading() as session:
        stored = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
        report = audit.verify(session)
    # The forgery is well made: the chain up to event 6 checks out on its own terms.
    assert stored[4].after == after and stored[5].hash == sixth_hash
    assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(stored))
    assert (report.intact, report.broken_seq, report.events) == (False, 7, 6)
    assert report.head_hash == sixth_hash
    code, output = _verify_cli(settings, capsys)
    assert code == 1
    assert "chain head" in output
