"""Services: each call either completes or leaves nothing behind.

A service takes a session from `Database.transaction()`, an actor and a typed input,
checks the rules and writes the rows and their audit events. It does not commit: a service
that writes runs in a SAVEPOINT (`registry.database.atomic`), undone when it raises, and
the block of `Database.transaction()` commits when it ends without an error
(docs/architecture.md, "One transaction rule"). Shared reads live in `registry.queries`,
pages in `registry.paging`.
"""

from registry.paging import Page
from registry.queries import find_certificate
from registry.services.certificates import (
    certificate_view,
    house_history,
    issue_certificate,
    issue_development,
    list_certificates,
    page_certificates,
    revoke_certificate,
)
from registry.services.endorsements import (
    approve_endorsement,
    endorsement_status,
    list_endorsements,
    reject_endorsement,
    request_by_seller,
    request_endorsement,
)
from registry.services.inspections import complete_repairs, due_inspections, record_inspection
from registry.services.leases import apply_lease, approve_lease, list_leases, reject_lease
from registry.services.parties import register_builder, register_hlp

__all__ = [
    "Page",
    "apply_lease",
    "approve_endorsement",
    "approve_lease",
    "certificate_view",
    "complete_repairs",
    "due_inspections",
    "endorsement_status",
    "find_certificate",
    "house_history",
    "issue_certificate",
    "issue_development",
    "list_certificates",
    "list_endorsements",
    "list_leases",
    "page_certificates",
    "record_inspection",
    "register_builder",
    "register_hlp",
    "reject_endorsement",
    "reject_lease",
    "request_by_seller",
    "request_endorsement",
    "revoke_certificate",
]
