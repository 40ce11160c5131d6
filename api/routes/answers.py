"""The shapes of the API's answers, so that /schema documents each of them (issue 14).

Answers a route builds itself are dataclasses: encoded field by field in declaration
order, they give the same JSON the routes gave as dicts. Answers a service builds as a dict
(a certificate's view, pages of items, verification) are described by TypedDicts and
answered as the service built them, so not a byte changes; `cast` only tells the type
checker what the service's dict holds. Dates are ISO strings, as the services write them.
"""

# No `from __future__ import annotations` here: a TypedDict reads NotRequired[...] from
# its annotations when the class is made, and a postponed (string) annotation hides it, so
# every key would be documented as required.
from dataclasses import dataclass
from typing import Any, Generic, NotRequired, TypedDict, TypeVar, cast

from api.problems import Problem
from registry import services

Item = TypeVar("Item")


@dataclass(frozen=True)
class ItemPage(Generic[Item]):
    """One page of a listing: `total` match, `items` from `offset`, at most `limit`
    (registry/paging.py's Page, with its items typed for /schema)."""

    total: int
    limit: int
    offset: int
    items: list[Item]


def typed(page: services.Page, item: type[Item]) -> ItemPage[Item]:
    """A service's page, its items described as `item` (a TypedDict: the dicts as built)."""
    return ItemPage(page.total, page.limit, page.offset, cast(list[Item], page.items))


# ---- certificates -------------------------------------------------------------------------


class Party(TypedDict):
    code: str
    name: str


class HouseView(TypedDict):
    address: str
    postal_code: str
    prefecture: str
    region: str
    development: str | None
    lot: str | None
    construction: str
    completion_date: str
    longlife_authority: str | None
    longlife_number: str | None


class PlanDate(TypedDict):
    due_date: str
    label: str
    inspected_on: str | None


class InspectionView(TypedDict):
    inspected_on: str
    inspector: str
    result: str
    findings: str
    repairs: str | None
    repairs_completed_on: str | None


class IssueView(TypedDict):
    issue_number: str
    owner: str
    owner_sequence: int
    issued_on: str
    status: str


class EndorsementView(TypedDict):
    tracking_number: str
    status: str
    buyer: str
    sale_date: str
    requested_on: str
    decided_on: str | None


class HistoryEntry(TypedDict):
    kind: str
    on: str
    description: str


class CertificateView(TypedDict):
    """Everything known about a certificate (registry.services.certificate_view); the
    record adds the house history, oldest first."""

    number: str
    kind: str
    floor: int | None
    valid_from: str
    valid_until: str
    status: str
    standing: str
    next_inspection_due: str | None
    owner: str
    owner_sequence: int
    issue_number: str
    issued_on: str
    management_number: str
    builder: Party
    hlp: Party
    house: HouseView
    revoked_on: str | None
    revoke_reason: str | None
    plan: list[PlanDate]
    inspections: list[InspectionView]
    issues: list[IssueView]
    endorsements: list[EndorsementView]
    history: NotRequired[list[HistoryEntry]]


class CertificateItem(TypedDict):
    """One certificate of a listing."""

    number: str
    kind: str
    floor: int | None
    valid_from: str
    valid_until: str
    status: str
    owner: str
    issue_number: str
    standing: str
    next_inspection_due: str | None
    management_number: str
    builder_code: str
    development: str | None
    lot: str | None


@dataclass(frozen=True)
class DevelopmentIssued:
    """A development's certificates, issued all or nothing."""

    development: str
    issued: int
    certificates: list[str]


@dataclass(frozen=True)
class DevelopmentStarted:
    """A builder's development, started: its builder, name and public page."""

    builder_code: str
    name: str
    page: str


class DevelopmentClaims(TypedDict):
    """What the registry vouches for about one builder's development today."""

    development: str
    builder: str
    builder_code: str
    lots: int
    floor_lowest: int
    floor_highest: int
    years: int
    standings: dict[str, int]


class DevelopmentChoice(TypedDict):
    builder_code: str
    builder: str
    url: str


class DevelopmentChoices(TypedDict):
    """Several builders have a development of the name: each one's page (300)."""

    development: str
    choices: list[DevelopmentChoice]


# ---- inspections --------------------------------------------------------------------------


class DueInspection(TypedDict):
    number: str
    due_date: str
    label: str
    standing: str
    address: str
    development: str | None
    lot: str | None


@dataclass(frozen=True)
class DueInspections:
    """Open inspection dates, oldest first."""

    total: int
    items: list[DueInspection]


# ---- endorsements -------------------------------------------------------------------------


@dataclass(frozen=True)
class EndorsementRequested:
    """A seller's request, recorded: its tracking number and the code to follow it with."""

    tracking_number: str
    code: str
    status: str
    requested_on: str
    version: int


class EndorsementStanding(TypedDict):
    """Where a request stands (public; nothing personal)."""

    tracking_number: str
    status: str
    requested_on: str
    decided_on: str | None
    new_issue_number: str | None
    version: int


class EndorsementItem(TypedDict):
    tracking_number: str
    certificate_number: str
    status: str
    version: int
    seller: str
    buyer: str
    sale_date: str
    requested_on: str
    decided_on: str | None


@dataclass(frozen=True)
class EndorsementApproved:
    tracking_number: str
    status: str
    issue_number: str


@dataclass(frozen=True)
class EndorsementRejected:
    tracking_number: str
    status: str


# ---- leases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaseApplied:
    case_number: str
    property_number: str
    status: str
    version: int


class LeaseItem(TypedDict):
    case_number: str
    property_number: str
    certificate_number: str
    status: str
    version: int
    applied_on: str
    planned_move_out: str
    decided_on: str | None
    approval_number: str | None


@dataclass(frozen=True)
class LeaseApproved:
    """An approved lease: its approval number and where its notice is."""

    case_number: str
    approval_number: str | None
    status: str
    notice: str


@dataclass(frozen=True)
class LeaseRejected:
    case_number: str
    status: str


# ---- areas --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str


@dataclass(frozen=True)
class AreasLoaded:
    """What an area import did: rows read and loaded, by category, and the rows refused."""

    rows: int
    loaded: int
    categories: dict[str, int]
    rejected: list[RejectedRow]
    rejected_count: int


class AreasRefused(Problem):
    """A 422: a problem, and for an area file with bad rows and no `skip_bad` also the
    import's report, naming each bad row; nothing was loaded."""

    rows: NotRequired[int]
    loaded: NotRequired[int]
    categories: NotRequired[dict[str, int]]
    rejected: NotRequired[list[RejectedRow]]
    rejected_count: NotRequired[int]


# ---- reminders ----------------------------------------------------------------------------


class ReminderItem(TypedDict):
    """A reminder owed (`state` owed or unconfirmed: with its issue and label) or sent
    (with the letter, the e-mail's outcome and when it was claimed and sent)."""

    number: str
    stage: str
    due_date: str
    channel: str
    state: str
    issue_number: NotRequired[str]
    label: NotRequired[str]
    letter: NotRequired[str | None]
    email_result: NotRequired[str | None]
    claimed_at: NotRequired[str]
    sent_at: NotRequired[str | None]


# ---- API keys and the public key set ------------------------------------------------------


@dataclass(frozen=True)
class KeyRevoked:
    id: str
    revoked: bool


class PublicKeyView(TypedDict):
    kid: str
    public_key: str
    not_before: str
    not_after: str | None
    status: str
    compromised_since: str | None


class PublicKeySet(TypedDict):
    """The public QR key set; `development` only in a development registry's set."""

    keys: list[PublicKeyView]
    development: NotRequired[bool]


# ---- verification -------------------------------------------------------------------------


class Verification(TypedDict):
    """The registry's answer about a certificate's issue: `invalid` (with the reason, in
    Japanese too) or its state (valid, superseded, revoked, expired), the owner's name
    masked unless typed, and the maintenance standing."""

    valid: bool
    status: str
    message: str
    number: str | None
    issue_number: str | None
    reason: NotRequired[str]
    reason_ja: NotRequired[str]
    kind: NotRequired[str]
    floor: NotRequired[int | None]
    valid_from: NotRequired[str]
    valid_until: NotRequired[str]
    owner_sequence: NotRequired[int]
    current_owner_sequence: NotRequired[int]
    owner: NotRequired[str | None]
    name_matches: NotRequired[bool | None]
    standing: NotRequired[str]
    overdue_since: NotRequired[str | None]
    last_inspection: NotRequired[str | None]
    next_inspection: NotRequired[str | None]
    revoked_on: NotRequired[str | None]
    superseded_on: NotRequired[str | None]


class PdfVerification(Verification):
    """A PDF's verification: the registry's answer about the QR payload it carries."""

    payload: str | None


def view(found: dict[str, Any]) -> CertificateView:
    """A service's certificate view, typed."""
    return cast(CertificateView, found)
