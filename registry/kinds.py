"""Enumerations of the domain, stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """Certificate kind (証明書の種類)."""

    STANDARD = "standard"  # 通常型
    FIXED_FLOOR = "fixed_floor"  # 定額型 (家賃定額保証型)
    OPTION = "option"  # かせるオプション

    @property
    def code(self) -> str:
        """The 3-digit kind code inside the compatible-housing number."""
        return KIND_CODES[self]

    @property
    def label(self) -> str:
        """The Japanese name printed on documents."""
        return {"standard": "通常型", "fixed_floor": "定額型", "option": "オプション"}[self.value]


KIND_CODES: dict[Kind, str] = {Kind.STANDARD: "001", Kind.FIXED_FLOOR: "002", Kind.OPTION: "003"}


class Construction(StrEnum):
    """Whether the house was certified as a new build (新築) or an existing home (既存)."""

    NEW = "new"
    EXISTING = "existing"


class CertificateStatus(StrEnum):
    """Where a certificate stands legally. `expired` is derived from the validity dates."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class IssueStatus(StrEnum):
    """Status of one issued document (発行) of a certificate."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


class Standing(StrEnum):
    """Whether the house's inspections are kept up as its maintenance plan requires."""

    UP_TO_DATE = "up_to_date"
    DUE = "due"
    OVERDUE = "overdue"


class InspectionResult(StrEnum):
    """Outcome of an inspection (点検結果)."""

    PASSED = "passed"
    REPAIRS_REQUIRED = "repairs_required"


class HistoryKind(StrEnum):
    """Kind of a house-history entry (住宅履歴)."""

    CONSTRUCTION = "construction"
    REPAIR = "repair"
    RENOVATION = "renovation"
    INSPECTION = "inspection"


class EndorsementStatus(StrEnum):
    """Where an endorsement request (裏書による地位の承継) stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ContractForm(StrEnum):
    """Lease contract form (契約形態) of a lease application."""

    LIFETIME = "lifetime"  # 終身型
    FIXED_PERIOD = "fixed_period"  # 期間指定型
    LONG_FIXED_TERM = "long_fixed_term"  # 長期定期借家型


class LeaseStatus(StrEnum):
    """Where a lease application stands."""

    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"
