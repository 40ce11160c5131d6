"""Idempotency keys: a retried POST gets the first answer and creates nothing twice.

The record is written in the same transaction as what the request created, so either both
exist or neither does; two concurrent requests with one key collide on the primary key and
the second is refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlmodel import Session

from registry.errors import InvalidInput
from registry.models import IdempotencyRecord


def request_hash(method: str, path: str, body: bytes) -> str:
    """What identifies a request for its idempotency key."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def replay(session: Session, principal: str, key: str, digest: str) -> tuple[int, Any] | None:
    """The first answer for this key, if there was one; refused if the request differs."""
    if not key or len(key) > 200:
        raise InvalidInput("Idempotency-Key", "must be 1 to 200 characters")
    record = session.get(IdempotencyRecord, (key, principal))
    if record is None:
        return None
    if record.request_sha256 != digest:
        raise InvalidInput(
            "Idempotency-Key", "was used before with a different request; use a new key"
        )
    return record.status, json.loads(record.body)


def remember(
    session: Session, principal: str, key: str, digest: str, status: int, body: Any
) -> None:
    """Keep the answer, in the caller's unit of work: committed with what the request
    created, when the caller's block ends."""
    session.add(
        IdempotencyRecord(
            key=key,
            principal=principal,
            request_sha256=digest,
            status=status,
            body=json.dumps(body, ensure_ascii=False, default=str),
        )
    )
