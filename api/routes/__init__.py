"""The registry's HTTP routes, one module per resource (issue 14; docs/architecture.md,
"Where to add a route"). Each route parses, calls one service and answers a typed shape
(api/routes/answers.py) that /schema documents; authentication runs before any of it
(api/auth.py), and errors become problem+json in api/problems.py.

- certificates: issue, list, record, certificate PDFs, revoke
- developments: start one, issue its lots, the guarantee flyer, the flyer's public pages
- inspections: record one, repairs finished, inspections due
- endorsements: a seller's request and its standing (public), the Institute's decisions
- leases: applications, decisions, the approval notice
- areas: area assessment files
- reminders: reminders coming and sent
- keys: the public QR key set
- apikeys: revoking an API key
- verification: the QR page and its name form, by number and code, an uploaded PDF
"""

from __future__ import annotations

from typing import Any

from api.routes import (
    apikeys,
    areas,
    certificates,
    developments,
    endorsements,
    inspections,
    keys,
    leases,
    reminders,
    verification,
)
from api.routes.context import Context, address_of

__all__ = ["HANDLERS", "Context", "address_of"]

HANDLERS: list[Any] = [
    *verification.HANDLERS,
    *developments.HANDLERS,
    *keys.HANDLERS,
    *certificates.HANDLERS,
    *inspections.HANDLERS,
    *endorsements.HANDLERS,
    *leases.HANDLERS,
    *areas.HANDLERS,
    *apikeys.HANDLERS,
    *reminders.HANDLERS,
]
"""Every route handler of the API (the health check is the app's own)."""
