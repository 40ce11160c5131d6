"""Typed domain errors. `api/` maps each to one HTTP status and one CLI exit in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose; its message is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing asked for does not exist (or the caller may not know that it does)."""


class NotAllowed(DomainError):
    """The caller may not do this."""


class Conflict(DomainError):
    """The request contradicts the current state (a pending endorsement, a stale version...)."""


class NameTaken(Conflict):
    """A name already in use where it must be unique (a development name another builder
    holds); `field` names the value, as for InvalidInput."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class Throttled(DomainError):
    """Too many attempts of something that must not be guessed; try again later."""


class InvalidInput(DomainError):
    """A value is wrong; `field` names it so a form or problem+json can point at it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class Ineligible(InvalidInput):
    """The house does not meet the Institute's standard for the certificate asked for."""


class Refused(DomainError):
    """A public request the registry does not take, for a reason it does not tell: every
    refusal that depends on what the registry holds reads the same, so a stranger learns
    nothing from it (an endorsement request: docs/codes.md)."""
