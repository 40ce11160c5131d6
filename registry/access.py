"""API keys: who a request comes from. A key reads `ksr_<id>_<secret>`; only the SHA-256
of the secret is stored, so the key is shown once, when it is made."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlmodel import Session, select

from registry import audit
from registry.actors import Actor, Role
from registry.database import atomic
from registry.errors import InvalidInput, NotFound
from registry.models import ApiKey, Builder
from registry.numbers import parse_builder_code

PREFIX = "ksr"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@atomic
def create_api_key(
    session: Session, actor: Actor, role: Role, builder_code: str | None = None, name: str = ""
) -> tuple[str, str]:
    """Make a key for a principal; answers (id, key). Builders' keys name their builder."""
    actor.require(Role.ADMIN)
    if role not in (Role.BUILDER, Role.STAFF, Role.ADMIN):
        raise InvalidInput("role", f"is builder, staff or admin; got {role.value}")
    builder_id = None
    if role is Role.BUILDER:
        if not builder_code:
            raise InvalidInput("builder", "a builder's key names its builder (--builder CODE)")
        code = parse_builder_code(builder_code, "builder")
        builder = session.exec(select(Builder).where(Builder.code == code)).first()
        if builder is None:
            raise NotFound(f"no builder with code {code}")
        builder_id = builder.id
    elif builder_code:
        raise InvalidInput("builder", f"a {role.value} key is not bound to a builder")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            id=key_id,
            secret_sha256=_digest(secret),
            role=role.value,
            builder_id=builder_id,
            name=name or f"{role.value} key",
        )
    )
    session.flush()
    audit.record(
        session,
        actor.name,
        "apikey.create",
        "api_key",
        key_id,
        None,
        {"role": role.value, "builder": builder_code},
    )
    return key_id, f"{PREFIX}_{key_id}_{secret}"


@atomic
def revoke_api_key(session: Session, actor: Actor, key_id: str) -> None:
    """Revoke a key at once."""
    actor.require(Role.ADMIN)
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"no API key {key_id}")
    key.revoked_at = dt.datetime.now(dt.UTC)
    session.add(key)
    session.flush()
    audit.record(session, actor.name, "apikey.revoke", "api_key", key_id, None, {"revoked": True})


def authenticate(session: Session, presented: str) -> Actor | None:
    """The principal a key belongs to, or None for any unknown, malformed or revoked key."""
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    key = session.get(ApiKey, parts[1])
    if key is None or key.revoked_at is not None:
        hmac.compare_digest(_digest(parts[2]), "0" * 64)  # same work either way
        return None
    if not hmac.compare_digest(_digest(parts[2]), key.secret_sha256):
        return None
    builder_code = None
    if key.builder_id is not None:
        builder = session.get(Builder, key.builder_id)
        builder_code = builder.code if builder else None
    return Actor(f"{key.role}:{key.id}", Role(key.role), builder_code)
