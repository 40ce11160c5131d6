"""The audit trail: every state change, hash-chained.

Each event's hash is SHA-256 over the previous event's hash and the event's own fields in
canonical JSON (sorted keys, UTC timestamp with microseconds). The single `audit_head` row
holds the last sequence number and hash; a writer locks it (SELECT ... FOR UPDATE on
PostgreSQL; SQLite writers are serialised anyway) so the chain stays a line under concurrent
writers. Editing an event breaks its own hash; deleting one breaks the next event's link,
or, for the last one, the head.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from registry.models import AuditEvent, AuditHead, utcnow

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, dates as ISO strings, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _digest(prev_hash: str, event: AuditEvent) -> str:
    body = canonical(
        {
            "seq": event.seq,
            "at": event.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor": event.actor,
            "action": event.action,
            "entity": event.entity,
            "entity_key": event.entity_key,
            "before": event.before,
            "after": event.after,
        }
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction (who, what, when,
    before and after). Call it after the transaction's number allocations."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    event = AuditEvent(
        seq=head.seq + 1,
        # Stored to the microsecond on both databases, so hash what is stored.
        at=utcnow(),
        actor=actor,
        action=action,
        entity=entity,
        entity_key=entity_key,
        before=None if before is None else canonical(before),
        after=None if after is None else canonical(after),
        prev_hash=head.hash,
        hash="",
    )
    event.hash = _digest(head.hash, event)
    head.seq, head.hash = event.seq, event.hash
    session.add(event)
    session.add(head)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    """The outcome of checking the chain: `broken_seq` is None when it is intact."""

    events: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain from the first event and report the first break, if any."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    last_seq = 0
    while True:
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.seq > last_seq)
            .order_by(col(AuditEvent.seq))
            .limit(batch)
        ).all()
        if not events:
            break
        for event in events:
            if event.seq != expected_seq:
                return ChainReport(
                    count, prev_hash, expected_seq, f"event {expected_seq} is missing"
                )
            if event.prev_hash != prev_hash:
                return ChainReport(
                    count,
                    prev_hash,
                    event.seq,
                    f"event {event.seq} does not link to event {event.seq - 1}",
                )
            if _digest(prev_hash, event) != event.hash:
                return ChainReport(
                    count,
                    prev_hash,
                    event.seq,
                    f"event {event.seq} was changed after it was written",
                )
            prev_hash, expected_seq, count = event.hash, event.seq + 1, count + 1
            last_seq = event.seq
    head = session.exec(select(AuditHead).where(AuditHead.id == 1)).one()
    if head.seq != count or head.hash != prev_hash:
        missing = count + 1
        return ChainReport(
            count,
            prev_hash,
            missing,
            f"event {missing} is missing (the chain head records {head.seq} events)",
        )
    return ChainReport(count, prev_hash)
