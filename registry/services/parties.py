"""Builders and HLPs."""

from __future__ import annotations

from sqlmodel import Session, select

from registry import audit, fields
from registry.actors import Actor, Role
from registry.database import atomic
from registry.errors import NotFound
from registry.models import Builder, Hlp
from registry.numbers import parse_builder_code, parse_hlp_code


@atomic
def register_builder(session: Session, actor: Actor, code: str, name: str) -> Builder:
    """Register a partner builder, or return it unchanged if the code is known already."""
    actor.require(Role.ADMIN, Role.STAFF)
    code = parse_builder_code(code)
    name = fields.required("name", name, 200)
    builder = session.exec(select(Builder).where(Builder.code == code)).first()
    if builder is None:
        builder = Builder(code=code, name=name)
        session.add(builder)
        session.flush()
        audit.record(session, actor.name, "builder.register", "builder", code, None, {"name": name})
    return builder


@atomic
def register_hlp(session: Session, actor: Actor, code: str, name: str) -> Hlp:
    """Register a Housing-Life Planner, or return the known one with this id."""
    actor.require(Role.ADMIN, Role.STAFF)
    code = parse_hlp_code(code)
    name = fields.required("name", name, 200)
    hlp = session.exec(select(Hlp).where(Hlp.code == code)).first()
    if hlp is None:
        hlp = Hlp(code=code, name=name)
        session.add(hlp)
        session.flush()
        audit.record(session, actor.name, "hlp.register", "hlp", code, None, {"name": name})
    return hlp


def builder_by_code(session: Session, code: str) -> Builder:
    """The builder with this code."""
    code = parse_builder_code(code)
    builder = session.exec(select(Builder).where(Builder.code == code)).first()
    if builder is None:
        raise NotFound(f"no builder with code {code}")
    return builder


def hlp_by_code(session: Session, code: str, field: str = "hlp_code") -> Hlp:
    """The HLP with this id."""
    code = parse_hlp_code(code, field)
    hlp = session.exec(select(Hlp).where(Hlp.code == code)).first()
    if hlp is None:
        raise NotFound(f"no HLP with id {code}")
    return hlp
