"""Who is acting: every service call names its actor, for authorisation and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from registry.errors import NotAllowed


class Role(StrEnum):
    """What a principal may do. `system` is the command line run by an operator."""

    BUILDER = "builder"
    STAFF = "staff"
    ADMIN = "admin"
    PUBLIC = "public"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """A principal: its name (for the audit trail), role and, for builders, builder code."""

    name: str
    role: Role
    builder_code: str | None = None

    def require(self, *roles: Role) -> None:
        """Refuse unless the actor has one of `roles` (the operator's CLI may do anything)."""
        if self.role is Role.SYSTEM or self.role in roles:
            return
        raise NotAllowed(f"{self.name} ({self.role}) may not do this")

    def may_act_for(self, builder_code: str) -> bool:
        """Whether the actor may see and change the houses of `builder_code`."""
        if self.role in (Role.SYSTEM, Role.STAFF, Role.ADMIN):
            return True
        return self.role is Role.BUILDER and self.builder_code == builder_code


SYSTEM = Actor("cli", Role.SYSTEM)
