"""registry/audit.py against its docstring, field by field: the hash formula recomputed
independently, what `record` writes, and the whole report `verify` gives for each kind of
break (count, head, sequence number and reason), in batches of any size.

Written for mutation testing (`make mutate`): the tests in test_audit.py check that a break
is found and where; these also check what the report says about it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from sqlalchemy import text
from sqlmodel import select

from registry import audit
from registry.models import AuditEvent, AuditHead
from tests import factories as f

GENESIS = "0" * 64


def _sql(db, statement, **params):
    with db.transaction() as session:
        session.exec(text(statement), params=params)  # type: ignore[call-overload]
        session.commit()


def _events(db) -> list[AuditEvent]:
    with db.reading() as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all())


def _verify(db, batch: int | None = None) -> audit.ChainReport:
    with db.reading() as session:
        return audit.verify(session) if batch is None else audit.verify(session, batch)


def _formula(prev_hash: str, event: AuditEvent) -> str:
    """The docstring's rule: SHA-256 over the previous hash and the event's own fields in
    canonical JSON (sorted keys, no spaces, non-ASCII kept), UTC time with microseconds."""
    fields = {
        "seq": event.seq,
        "at": event.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor,
        "action": event.action,
        "entity": event.entity,
        "entity_key": event.entity_key,
        "before": event.before,
        "after": event.after,
    }
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@pytest.fixture
def chain(db, settings, parties) -> list[AuditEvent]:
    """Six events: four from registering the parties and areas, two certificates issued."""
    f.issue(db, settings)
    f.issue(db, settings, house=f.house(lot="02"))
    events = _events(db)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    return events


def test_canonical_json_is_sorted_compact_and_keeps_japanese():
    value = {"b": 1, "a": "取消", "c": [None, True], "d": dt.date(2026, 1, 2)}
    assert audit.canonical(value) == '{"a":"取消","b":1,"c":[null,true],"d":"2026-01-02"}'


def test_every_stored_hash_follows_the_documented_formula(db, chain):
    previous = GENESIS
    for event in chain:
        assert event.prev_hash == previous
        assert event.hash == _formula(previous, event)
        previous = event.hash
    with db.reading() as session:
        head = session.exec(select(AuditHead)).one()
    assert (head.id, head.seq, head.hash) == (1, 6, chain[-1].hash)


def test_record_appends_one_event_to_the_head(db, chain):
    with db.transaction() as session:
        event = audit.record(
            session, "staff:test", "thing.do", "thing", "K-1", {"b": 2, "a": "済"}, None
        )
        session.commit()
    stored = _events(db)[-1]
    for e in (event, stored):
        assert (e.seq, e.actor, e.action, e.entity, e.entity_key) == (
            7,
            "staff:test",
            "thing.do",
            "thing",
            "K-1",
        )
        assert (e.before, e.after) == ('{"a":"済","b":2}', None)
        assert e.prev_hash == chain[-1].hash
        assert e.hash == _formula(chain[-1].hash, stored)
    assert abs(stored.at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    with db.reading() as session:
        head = session.exec(select(AuditHead)).one()
    assert (head.seq, head.hash) == (7, stored.hash)
    assert _verify(db) == audit.ChainReport(7, stored.hash)


def test_record_keeps_an_after_and_no_before(db, chain):
    with db.transaction() as session:
        audit.record(session, "a", "thing.make", "thing", "K-2", None, {"x": None})
        session.commit()
    stored = _events(db)[-1]
    assert (stored.before, stored.after) == (None, '{"x":null}')


def test_an_empty_registry_has_an_intact_empty_chain(db):
    report = _verify(db)
    assert report == audit.ChainReport(0, GENESIS)
    assert report.intact and report.reason == ""


def test_an_intact_chain_reports_its_length_and_head(db, chain):
    report = _verify(db)
    assert report == audit.ChainReport(6, chain[-1].hash, None, "")
    assert report.intact


@pytest.mark.parametrize("batch", [1, 2, 4, 5, 6, 7])
def test_the_chain_reads_the_same_in_any_batch_size(db, chain, batch):
    assert _verify(db, batch) == audit.ChainReport(6, chain[-1].hash)


@pytest.mark.parametrize("batch", [1, 2, 3, 5000])
def test_a_break_in_a_later_batch_is_reported_whole(db, chain, batch):
    _sql(db, "UPDATE audit_event SET actor = 'someone else' WHERE seq = 5")
    assert _verify(db, batch) == audit.ChainReport(
        4, chain[3].hash, 5, "event 5 was changed after it was written"
    )


def test_a_missing_event_is_reported_whole(db, chain):
    _sql(db, "DELETE FROM audit_event WHERE seq = 3")
    assert _verify(db) == audit.ChainReport(2, chain[1].hash, 3, "event 3 is missing")


def test_an_event_that_does_not_link_is_reported_whole(db, chain):
    # Event 4's link changed and its own hash made to match: only the link is wrong.
    forged = AuditEvent(**{**chain[3].model_dump(), "prev_hash": "f" * 64})
    _sql(
        db,
        "UPDATE audit_event SET prev_hash = :p, hash = :h WHERE seq = 4",
        p="f" * 64,
        h=_formula("f" * 64, forged),
    )
    assert _verify(db) == audit.ChainReport(3, chain[2].hash, 4, "event 4 does not link to event 3")


def test_the_first_event_must_link_to_the_genesis_hash(db, chain):
    _sql(db, "UPDATE audit_event SET prev_hash = :p WHERE seq = 1", p="1" * 64)
    assert _verify(db) == audit.ChainReport(0, GENESIS, 1, "event 1 does not link to event 0")


def test_a_missing_last_event_is_reported_whole(db, chain):
    _sql(db, "DELETE FROM audit_event WHERE seq = 6")
    assert _verify(db) == audit.ChainReport(
        5, chain[4].hash, 6, "event 6 is missing (the chain head records 6 events)"
    )


def test_a_head_that_disagrees_only_in_its_hash_is_a_break(db, chain):
    _sql(db, "UPDATE audit_head SET hash = :h", h="e" * 64)
    assert _verify(db) == audit.ChainReport(
        6, chain[-1].hash, 7, "event 7 is missing (the chain head records 6 events)"
    )


def test_a_head_that_disagrees_only_in_its_count_is_a_break(db, chain):
    _sql(db, "UPDATE audit_head SET seq = 5")
    assert _verify(db) == audit.ChainReport(
        6, chain[-1].hash, 7, "event 7 is missing (the chain head records 5 events)"
    )


def test_the_time_in_the_hash_is_utc_whatever_the_machines_zone(db, settings, parties):
    """The registry's machine may run on Japan time: the hashed time is UTC all the same.
    (Found by mutation testing: hashing local time passed every test on a UTC machine.)"""
    import os
    import time

    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    try:
        f.issue(db, settings)
        events = _events(db)
    finally:
        if before is None:
            os.environ.pop("TZ")
        else:
            os.environ["TZ"] = before
        time.tzset()
    previous = GENESIS
    for event in events:
        assert event.hash == _formula(previous, event)
        previous = event.hash
    assert _verify(db).intact
