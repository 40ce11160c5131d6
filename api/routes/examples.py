"""Examples the OpenAPI document shows on the main operations (issue 14): a certificate
issued, a development, a verification by number, a seller's endorsement request. The
values are the demo registry's fictional builder (000001), HLP (HLP-000001) and house."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body

from api.routes.answers import (
    CertificateView,
    DevelopmentIssued,
    EndorsementRequested,
    Verification,
)
from registry.inputs import CertificateInput, PublicEndorsementInput

NUMBER = "A0020000012015000001"
ISSUE = "A0020000012015000001-01"

HOUSE: dict[str, Any] = {
    "builder_code": "000001",
    "postal_code": "511-0838",
    "address": "三重県桑名市和泉101番地",
    "completion_date": "2015-10-16",
    "construction": "new",
    "development": "桑名和泉",
    "lot": "01",
    "grade_deterioration": 3,
    "grade_maintenance": 3,
    "grade_seismic": 2,
}
CERTIFICATE: dict[str, Any] = {
    "house": HOUSE,
    "kind": "fixed_floor",
    "floor": 45000,
    "hlp_code": "HLP-000001",
    "owner_name": "山本 一郎",
    "owner_address": "三重県桑名市和泉101番地",
    "issued_on": "2015-10-30",
}
VIEW: dict[str, Any] = {
    "number": NUMBER,
    "kind": "fixed_floor",
    "floor": 45000,
    "valid_from": "2015-10-30",
    "valid_until": "2065-10-29",
    "status": "active",
    "standing": "up_to_date",
    "next_inspection_due": "2030-10-16",
    "owner": "山本 一郎",
    "owner_sequence": 1,
    "issue_number": ISSUE,
    "issued_on": "2015-10-30",
    "management_number": "00000001",
    "builder": {"code": "000001", "name": "住替ハウス株式会社"},
    "hlp": {"code": "HLP-000001", "name": "移住 太郎"},
    "house": {
        "address": "三重県桑名市和泉101番地",
        "postal_code": "5110838",
        "prefecture": "三重県",
        "region": "桑名市",
        "development": "桑名和泉",
        "lot": "01",
        "construction": "new",
        "completion_date": "2015-10-16",
        "longlife_authority": None,
        "longlife_number": None,
    },
    "revoked_on": None,
    "revoke_reason": None,
    "plan": [{"due_date": "2030-10-16", "label": "15年点検", "inspected_on": None}],
    "inspections": [],
    "issues": [
        {
            "issue_number": ISSUE,
            "owner": "山本 一郎",
            "owner_sequence": 1,
            "issued_on": "2015-10-30",
            "status": "active",
        }
    ],
    "endorsements": [],
}
DEVELOPMENT: dict[str, Any] = {
    "certificates": [CERTIFICATE, {**CERTIFICATE, "house": {**HOUSE, "lot": "02"}}]
}
ISSUED: dict[str, Any] = {
    "development": "桑名和泉",
    "issued": 2,
    "certificates": [NUMBER, "A0020000012015000002"],
}
VERIFIED: dict[str, Any] = {
    "valid": True,
    "status": "valid",
    "message": "有効な証明書です。",
    "number": NUMBER,
    "issue_number": ISSUE,
    "kind": "fixed_floor",
    "floor": 45000,
    "valid_from": "2015-10-30",
    "valid_until": "2065-10-29",
    "owner_sequence": 1,
    "current_owner_sequence": 1,
    "owner": "山本 **",
    "name_matches": None,
    "reason": "",
    "standing": "up_to_date",
    "overdue_since": None,
    "last_inspection": "2025-09-20",
    "next_inspection": "2030-10-16",
}
ENDORSEMENT: dict[str, Any] = {
    "certificate_number": NUMBER,
    "code": "7KQ2-M9XD",
    "seller_name": "山本 一郎",
    "buyer_name": "森 陽介",
    "buyer_address": "三重県桑名市和泉101番地",
    "sale_date": "2026-11-01",
}
REQUESTED: dict[str, Any] = {
    "tracking_number": "E260000001",
    "code": "3HWN-4TQA",
    "status": "pending",
    "requested_on": "2026-11-23",
    "version": 1,
}


def example(summary: str, value: dict[str, Any]) -> list[Example]:
    return [Example(summary=summary, value=value)]


CertificateBody = Annotated[
    CertificateInput,
    Body(
        media_type=RequestEncodingType.JSON,
        examples=example("A fixed-floor certificate of ¥45,000 for a new build", CERTIFICATE),
    ),
]
EndorsementBody = Annotated[
    PublicEndorsementInput,
    Body(
        media_type=RequestEncodingType.JSON,
        examples=example("山本 一郎 sells to 森 陽介", ENDORSEMENT),
    ),
]


def answer(container: Any, description: str, summary: str, value: dict[str, Any]) -> ResponseSpec:
    """A success answer documented with an example."""
    return ResponseSpec(
        data_container=container,
        description=description,
        generate_examples=False,
        examples=example(summary, value),
    )


CERTIFICATE_ISSUED = answer(
    CertificateView, "The certificate issued, as its record reads", "Issued", VIEW
)
CERTIFICATE_RECORD = answer(CertificateView, "The certificate's record", "A record", VIEW)
DEVELOPMENT_ISSUED = answer(DevelopmentIssued, "Every lot issued", "Two lots issued", ISSUED)
VERIFICATION = answer(Verification, "The registry's answer", "A valid certificate", VERIFIED)
ENDORSEMENT_REQUESTED = answer(EndorsementRequested, "The request recorded", "Pending", REQUESTED)
