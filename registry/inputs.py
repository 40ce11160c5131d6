"""Typed inputs of the services: what a form, an HTTP body or CLI options are parsed into."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from registry.kinds import Construction, ContractForm, InspectionResult, Kind


@dataclass(frozen=True)
class HouseInput:
    """A house as a builder registers it."""

    builder_code: str
    postal_code: str
    address: str
    completion_date: dt.date
    construction: Construction = Construction.NEW
    development: str | None = None
    lot: str | None = None
    grade_deterioration: int | None = None
    """劣化対策等級 (1-3)."""
    grade_maintenance: int | None = None
    """維持管理対策等級 (1-3)."""
    grade_seismic: int | None = None
    """耐震等級 (1-3)."""
    longlife_authority: str | None = None
    """認定長期優良住宅: the certifying authority, e.g. 桑名市長."""
    longlife_number: str | None = None
    """認定長期優良住宅: the certification number, e.g. H27長期建築桑名市0000号."""
    seismic_index: Decimal | None = None
    """Existing homes: seismic index (Is値) after any retrofit."""
    insurance_from: dt.date | None = None
    """Existing homes: start of the 5-year defect-liability insurance (瑕疵保証責任保険)."""
    insurance_until: dt.date | None = None
    repair_on: dt.date | None = None
    """Existing homes: the repair or renovation registered in the house history."""
    repair_description: str | None = None


@dataclass(frozen=True)
class CertificateInput:
    """A request to issue a certificate for a house."""

    house: HouseInput
    kind: Kind
    hlp_code: str
    owner_name: str
    floor: int | None = None
    owner_address: str | None = None
    owner_email: str | None = None
    issued_on: dt.date | None = None
    """Default: today."""
    valid_from: dt.date | None = None
    """Default: the completion (handover) date for new builds, the issue date otherwise."""
    plan: tuple[dt.date, ...] | None = None
    """A custom maintenance plan; default: docs/domain.md's ages (see registry/maintenance.py)."""
    manual_assessment: str | None = None
    """Reference of a manual assessment (個別査定) that sets the floor's limit instead of the
    postal code's area category (needed where the area is "none" or "mixed")."""


@dataclass(frozen=True)
class InspectionInput:
    """An inspection of a certified house, as the builder or inspector reports it."""

    certificate_number: str
    inspected_on: dt.date
    inspector: str
    result: InspectionResult
    findings: str = ""
    repairs: str | None = None
    """What the Institute requires repaired, when the result is repairs_required."""


@dataclass(frozen=True)
class EndorsementInput:
    """A seller's request to pass the certificate to the buyer (裏書)."""

    certificate_number: str
    seller_name: str
    buyer_name: str
    buyer_address: str
    sale_date: dt.date
    buyer_email: str | None = None
    requested_on: dt.date | None = None
    """Default: today (the day the Institute receives the endorsed certificate). Staff
    only: a public request is dated by the registry (PublicEndorsementInput)."""


@dataclass(frozen=True)
class PublicEndorsementInput:
    """A seller's request over the public API: the certificate proved by its number and the
    照会コード printed on it; the registry dates the request itself (docs/codes.md)."""

    certificate_number: str
    code: str
    """The 照会コード printed on the seller's certificate (the active issue's)."""
    seller_name: str
    buyer_name: str
    buyer_address: str
    sale_date: dt.date
    buyer_email: str | None = None


@dataclass(frozen=True)
class LeaseInput:
    """An owner's lease application (借上げ申込)."""

    certificate_number: str
    hlp_code: str
    """The HLP who counselled the owner at the application (docs/domain.md, condition 4)."""
    contract_form: ContractForm
    planned_move_out: dt.date
    lease_years: int | None = None
    """Fixed-term lease length; required except for the lifetime form."""
    applied_on: dt.date | None = None
    assessed_lower: int | None = None
    assessed_upper: int | None = None
    remarks: str | None = None
    financial_products: str | None = None
    """利用金融商品, e.g. a rent-repaid reverse mortgage; printed on the approval notice."""


@dataclass(frozen=True)
class LeaseApproval:
    """Staff's approval of a lease application."""

    case_number: str
    effective_date: dt.date
    decided_rent: int | None = None
    decided_on: dt.date | None = None
    version: int | None = None
