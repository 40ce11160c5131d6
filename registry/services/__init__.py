"""Services: one transaction per call; each either completes or leaves nothing behind.

A service takes a session from `Database.transaction()`, an actor and a typed input,
checks the rules, writes the rows and their audit events and commits once.
"""

from registry.services.certificates import (
    certificate_view,
    find_certificate,
    issue_certificate,
    issue_development,
    list_certificates,
    revoke_certificate,
)
from registry.services.endorsements import (
    approve_endorsement,
    endorsement_status,
    reject_endorsement,
    request_endorsement,
)
from registry.services.inspections import complete_repairs, due_inspections, record_inspection
from registry.services.leases import apply_lease, approve_lease, reject_lease
from registry.services.parties import register_builder, register_hlp

__all__ = [
    "apply_lease",
    "approve_endorsement",
    "approve_lease",
    "certificate_view",
    "complete_repairs",
    "due_inspections",
    "endorsement_status",
    "find_certificate",
    "issue_certificate",
    "issue_development",
    "list_certificates",
    "record_inspection",
    "register_builder",
    "register_hlp",
    "reject_endorsement",
    "reject_lease",
    "request_endorsement",
    "revoke_certificate",
]
