"""The registry over HTTP with API keys: a builder's day, staff approvals, idempotent bulk
issuance, optimistic concurrency, and who may do what."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import select

from api.app import create_app
from registry import access, services
from registry.actors import Role
from registry.models import ApiKey, Certificate, Issue
from registry.verification import tracking_code
from tests import factories as f
from tests import pdf as look

pytestmark = pytest.mark.usefixtures("parties")


def _key(db, role, builder=None):
    with db.transaction() as session:
        return access.create_api_key(session, f.ADMIN, role, builder)[1]


@pytest.fixture
def client(maker):
    with TestClient(create_app(maker.settings)) as test_client:
        yield test_client


@pytest.fixture
def keys(db):
    return {
        "builder": {"authorization": f"Bearer {_key(db, Role.BUILDER, f.BUILDER)}"},
        "other": {"authorization": f"Bearer {_key(db, Role.BUILDER, f.OTHER_BUILDER)}"},
        "staff": {"authorization": f"Bearer {_key(db, Role.STAFF)}"},
        "admin": {"authorization": f"Bearer {_key(db, Role.ADMIN)}"},
        "none": {},
        "bad": {"authorization": "Bearer ksr_000000000000_nope"},
    }


def _body(**changes):
    return json.loads(msgspec.json.encode(f.certificate(**changes)))


def _lots(count):
    return [_body(house=f.house(lot=f"{n:02d}")) for n in range(1, count + 1)]


def test_a_builders_day(db, settings, client, keys):
    # Register a development and issue its 12 certificates in one request.
    response = client.post(
        "/api/v1/developments/桑名和泉/certificates",
        json={"certificates": _lots(12)},
        headers=keys["builder"],
    )
    assert response.status_code == 201, response.text
    numbers = response.json()["certificates"]
    assert len(numbers) == 12 and len(set(numbers)) == 12
    # List them, a page at a time.
    page = client.get(
        "/api/v1/certificates",
        params={"development": "桑名和泉", "limit": 5},
        headers=keys["builder"],
    ).json()
    assert (page["total"], len(page["items"])) == (12, 5)
    # Download a signed PDF.
    pdf = client.get(f"/api/v1/certificates/{numbers[0]}/certificate.pdf", headers=keys["builder"])
    assert pdf.headers["content-type"] == "application/pdf"
    assert "Signature is Valid" in look.poppler("pdfsig", pdf.content)
    # Record an inspection: the standing is restored.
    before = client.get("/api/v1/certificates", params={"limit": 1}, headers=keys["builder"])
    assert before.json()["items"][0]["standing"] == "overdue"
    done = client.post(
        f"/api/v1/certificates/{numbers[0]}/inspections",
        headers=keys["builder"],
        json={"inspected_on": "2026-11-01", "inspector": "検査員 大野", "result": "passed"},
    )
    assert done.status_code == 201 and done.json()["standing"] == "up_to_date"


def test_staff_approve_an_endorsement_and_a_lease(db, settings, client, keys):
    number = f.issue(db, settings)
    request = client.post("/api/v1/endorsements", json=f.public_endorsement(db, settings, number))
    assert request.status_code == 201
    tracking, version = request.json()["tracking_number"], request.json()["version"]
    code = request.json()["code"]
    status = client.get(f"/api/v1/endorsements/{tracking}", params={"code": code})
    assert status.json()["status"] == "pending"
    approved = client.post(
        f"/api/v1/endorsements/{tracking}/approve", json={"version": version}, headers=keys["staff"]
    )
    assert approved.status_code == 201, approved.text
    again = client.post(
        f"/api/v1/endorsements/{tracking}/approve", json={"version": version}, headers=keys["staff"]
    )
    assert again.status_code == 409  # the second of two approvals fails
    status = client.get(f"/api/v1/endorsements/{tracking}", params={"code": code}).json()
    assert (
        status["status"] == "approved"
        and status["new_issue_number"] == approved.json()["issue_number"]
    )

    lease = client.post(
        "/api/v1/leases",
        headers=keys["staff"],
        json={
            "certificate_number": number,
            "hlp_code": f.HLP,
            "contract_form": "fixed_period",
            "planned_move_out": "2027-06-01",
            "lease_years": 15,
            "applied_on": "2026-11-01",
            "assessed_lower": 88000,
            "assessed_upper": 98000,
        },
    )
    assert lease.status_code == 201, lease.text
    case = lease.json()["case_number"]
    decided = client.post(
        f"/api/v1/leases/{case}/approve",
        headers=keys["staff"],
        json={
            "case_number": case,
            "effective_date": "2027-06-01",
            "decided_rent": 95000,
            "decided_on": "2026-11-20",
        },
    )
    assert decided.status_code == 201, decided.text
    notice = client.get(decided.json()["notice"], headers=keys["staff"])
    assert notice.headers["content-type"] == "application/pdf"
    assert "承認（決定）通知書" in look.text(notice.content)


def test_bulk_issuance_is_all_or_nothing_and_idempotent(db, client, keys):
    lots = _lots(5)
    lots[3]["floor"] = 99_000  # above the area's ¥50,000 limit
    refused = client.post(
        "/api/v1/developments/D/certificates", json={"certificates": lots}, headers=keys["builder"]
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "certificates[3].floor"
    assert f.count(db, Certificate) == 0
    headers = {**keys["builder"], "idempotency-key": "dev-D-1"}
    first = client.post(
        "/api/v1/developments/D/certificates", json={"certificates": _lots(5)}, headers=headers
    )
    retry = client.post(
        "/api/v1/developments/D/certificates", json={"certificates": _lots(5)}, headers=headers
    )
    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json()
    assert f.count(db, Certificate) == 5
    other = client.post(
        "/api/v1/developments/D/certificates", json={"certificates": _lots(2)}, headers=headers
    )
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"


def _routes(number, tracking, issue):
    inspection = {
        "inspected_on": "2026-11-01",
        "inspector": "x",
        "result": "repairs_required",
        "repairs": "屋根防水",
    }
    lease = {
        "certificate_number": number,
        "hlp_code": f.HLP,
        "contract_form": "lifetime",
        "planned_move_out": "2027-06-01",
        "applied_on": "2026-11-01",
    }
    return [
        ("GET", "/api/v1/reminders", None),
        ("POST", "/api/v1/certificates", _body(house=f.house(lot="99"))),
        (
            "POST",
            "/api/v1/developments/D/certificates",
            {"certificates": [_body(house=f.house(lot="98"))]},
        ),
        ("GET", "/api/v1/certificates", None),
        ("GET", f"/api/v1/certificates/{number}/certificate.pdf", None),
        ("POST", f"/api/v1/certificates/{number}/inspections", inspection),
        (
            "POST",
            f"/api/v1/certificates/{number}/repairs",
            {"completed_on": "2026-11-10", "description": "防水工事完了"},
        ),
        ("GET", "/api/v1/inspections/due", None),
        ("GET", "/api/v1/developments/テスト分譲地/guarantee.pdf", None),
        ("POST", "/api/v1/leases", lease),
        ("POST", f"/api/v1/endorsements/{tracking}/approve", {"version": 1}),
        ("GET", f"/api/v1/certificates/{number}/record", None),
        # After staff's approval above this issue is superseded; it still downloads.
        ("GET", f"/api/v1/certificates/{number}/issues/{issue}/certificate.pdf", None),
        ("GET", "/api/v1/endorsements", None),
        ("GET", "/api/v1/leases", None),
        ("POST", f"/api/v1/certificates/{number}/revoke", {"reason": "test"}),
    ]


# role → expected answer per route above: OK for success (2xx), "empty" for a list with
# nothing in it, else the status code of the refusal. Admins read what staff list and the
# certificates' records and PDFs, but decide nothing.
OK = None
TABLE = {
    "builder": [OK, OK, OK, OK, OK, OK, OK, OK, OK, 403, 403, OK, OK, 403, 403, 403],
    "other": [
        *["empty", 403, 403, "empty", 404, 404, 404, "empty", 404, 403, 403, 404, 404],
        *[403, 403, 403],
    ],
    "staff": [OK] * 16,
    "admin": [OK, 403, 403, OK, OK, 403, 403, 403, 403, 403, 403, OK, OK, OK, OK, 403],
    "none": [401] * 16,
    "bad": [401] * 16,
}


def _issue_number(db, number):
    """The number of the certificate's first (here: only) issue."""
    with db.reading() as session:
        certificate = services.find_certificate(session, f.STAFF, number)
        return session.exec(
            select(Issue.number).where(Issue.certificate_id == certificate.id)
        ).one()


@pytest.mark.parametrize("role", list(TABLE))
def test_authorization_table(db, settings, client, keys, role):
    number = f.issue(db, settings)
    with db.transaction() as session:
        tracking = services.request_endorsement(
            session, f.STAFF, settings, f.endorsement(number)
        ).tracking_number
    missing = "A0020000022015000001"  # another builder's series, never issued
    routes = _routes(number, tracking, _issue_number(db, number))
    for (method, path, body), expected in zip(routes, TABLE[role], strict=True):
        response = client.request(method, path, json=body, headers=keys[role])
        where = (role, method, path, response.status_code, response.text[:200])
        if expected is OK:
            assert 200 <= response.status_code < 300, where
        elif expected == "empty":
            assert response.status_code == 200 and response.json()["total"] == 0, where
        else:
            assert response.status_code == expected, where
            assert response.headers["content-type"].startswith("application/problem+json"), where
        if role == "other" and expected == 404:
            # Another builder's certificate answers exactly like one that does not exist.
            ghost = client.request(
                method, path.replace(number, missing), json=body, headers=keys[role]
            )
            assert (ghost.status_code, ghost.json()["detail"].replace(missing, "N")) == (
                response.status_code,
                response.json()["detail"].replace(number, "N"),
            ), where


def test_apikey_cli_prints_id_and_key_once(db, settings, capsys):
    from api.cli import main

    code = main(
        [
            "apikey",
            "create",
            "--role",
            "builder",
            "--builder",
            f.BUILDER,
            "--json",
            "--db",
            settings.database_url,
        ]
    )
    created = json.loads(capsys.readouterr().out)
    assert code == 0 and created["key"].startswith(f"ksr_{created['id']}_")
    with db.reading() as session:
        actor = access.authenticate(session, created["key"])
        assert actor is not None and actor.builder_code == f.BUILDER
        assert access.authenticate(session, created["key"][:-1] + "x") is None
        stored = session.get(ApiKey, created["id"])
        assert stored is not None and created["key"].split("_", 2)[2] not in stored.secret_sha256


def test_due_inspections_repairs_and_the_flyer_over_http(db, settings, client, keys):
    first = f.issue(db, settings)
    f.issue(db, settings, house=f.house(lot="02"))
    theirs = f.house(lot="03", builder_code=f.OTHER_BUILDER, development="別棟分譲地")
    f.issue(db, settings, house=theirs, actor=f.STAFF)
    due = client.get("/api/v1/inspections/due", headers=keys["builder"]).json()
    assert due["total"] == 2  # the other builder's lot is not listed
    assert {i["standing"] for i in due["items"]} == {"overdue"}
    assert (
        client.get(
            "/api/v1/inspections/due", params={"before": "2020-01-01"}, headers=keys["builder"]
        ).json()["total"]
        == 0
    )
    client.post(
        f"/api/v1/certificates/{first}/inspections",
        headers=keys["builder"],
        json={
            "inspected_on": "2026-11-01",
            "inspector": "大野",
            "result": "repairs_required",
            "repairs": "屋根防水",
        },
    )
    fixed = client.post(
        f"/api/v1/certificates/{first}/repairs",
        headers=keys["builder"],
        json={"completed_on": "2026-11-10", "description": "防水工事完了"},
    )
    assert fixed.status_code == 201
    assert fixed.json()["inspections"][0]["repairs_completed_on"] == "2026-11-10"
    flyer = client.get("/api/v1/developments/テスト分譲地/guarantee.pdf", headers=keys["builder"])
    assert flyer.headers["content-type"] == "application/pdf"
    assert "毎月金45,000円以上" in look.text(flyer.content)
    # Another builder's development answers like one never started (issue 13).
    hidden = client.get("/api/v1/developments/テスト分譲地/guarantee.pdf", headers=keys["other"])
    assert hidden.status_code == 404
    nowhere = client.get("/api/v1/developments/どこにもない/guarantee.pdf", headers=keys["builder"])
    assert nowhere.status_code == 404


def test_staff_import_areas_reject_leases_and_admins_revoke_keys(db, settings, client, keys):
    bad = client.post(
        "/api/v1/areas",
        headers=keys["staff"],
        json={"csv": "postal_code,category\n1000001,70000\n0000000,50000\n"},
    )
    assert bad.status_code == 422
    assert bad.json()["rejected"] == [{"line": 3, "reason": "postal code 000-0000 does not exist"}]
    good = client.post("/api/v1/areas", headers=keys["staff"], json={"csv": "1000001,70000\n"})
    assert good.status_code == 201 and good.json()["loaded"] == 1
    assert (
        client.post(
            "/api/v1/areas", headers=keys["builder"], json={"csv": "1000001,70000\n"}
        ).status_code
        == 403
    )

    number = f.issue(db, settings)
    case = client.post(
        "/api/v1/leases",
        headers=keys["staff"],
        json={
            "certificate_number": number,
            "hlp_code": f.HLP,
            "contract_form": "lifetime",
            "planned_move_out": "2027-06-01",
            "applied_on": "2026-11-01",
        },
    ).json()["case_number"]
    rejected = client.post(
        f"/api/v1/leases/{case}/reject", headers=keys["staff"], json={"reason": "書類不備"}
    )
    assert rejected.json()["status"] == "rejected"

    key_id = keys["builder"]["authorization"].split("_")[1]
    assert client.post(f"/api/v1/apikeys/{key_id}/revoke", headers=keys["staff"]).status_code == 403
    assert client.post(f"/api/v1/apikeys/{key_id}/revoke", headers=keys["admin"]).status_code == 201
    assert client.get("/api/v1/certificates", headers=keys["builder"]).status_code == 401


def test_the_record_adds_the_house_history_oldest_first(db, settings, client, keys):
    number = f.issue(db, settings)
    client.post(
        f"/api/v1/certificates/{number}/inspections",
        headers=keys["builder"],
        json={
            "inspected_on": "2026-11-01",
            "inspector": "大野",
            "result": "repairs_required",
            "repairs": "屋根防水",
        },
    )
    client.post(
        f"/api/v1/certificates/{number}/repairs",
        headers=keys["builder"],
        json={"completed_on": "2026-11-10", "description": "防水工事完了"},
    )
    response = client.get(f"/api/v1/certificates/{number}/record", headers=keys["builder"])
    assert response.status_code == 200, response.text
    record = response.json()
    assert [(h["kind"], h["on"]) for h in record["history"]] == [
        ("construction", "2015-10-16"),
        ("inspection", "2026-11-01"),
        ("repair", "2026-11-10"),
    ]
    assert record["history"][2]["description"] == "防水工事完了"
    # The full view is all there besides: the owner, the plan, the inspection.
    assert record["owner"] == "山本 一郎" and record["plan"]
    assert record["inspections"][0]["repairs_completed_on"] == "2026-11-10"
    assert (
        client.get(f"/api/v1/certificates/{number}/record", headers=keys["staff"]).json()["history"]
        == record["history"]
    )
    # The public verification by number and code is another route, and still answers.
    public = client.get(f"/api/v1/certificates/{number}", params={"code": "WRONG"})
    assert public.status_code == 404 and "history" not in public.text


def test_an_earlier_issue_still_downloads_signed_after_an_endorsement(db, settings, client, keys):
    number = f.issue(db, settings)
    first = client.get("/api/v1/certificates", headers=keys["builder"]).json()["items"][0]
    sold = client.post(
        "/api/v1/endorsements", json=f.public_endorsement(db, settings, number)
    ).json()
    approved = client.post(
        f"/api/v1/endorsements/{sold['tracking_number']}/approve",
        json={"version": sold["version"]},
        headers=keys["staff"],
    ).json()
    old_issue, new_issue = first["issue_number"], approved["issue_number"]
    assert old_issue != new_issue

    base = f"/api/v1/certificates/{number}/issues"
    old = client.get(f"{base}/{old_issue}/certificate.pdf", headers=keys["builder"])
    new = client.get(f"{base}/{new_issue}/certificate.pdf", headers=keys["builder"])
    assert old.status_code == new.status_code == 200
    assert old.headers["content-type"] == new.headers["content-type"] == "application/pdf"
    assert f"certificate-{old_issue}.pdf" in old.headers["content-disposition"]
    assert f"certificate-{new_issue}.pdf" in new.headers["content-disposition"]
    assert old.content != new.content
    assert "Signature is Valid" in look.poppler("pdfsig", old.content)
    assert "Signature is Valid" in look.poppler("pdfsig", new.content)
    # Each names its own owner: the seller on the earlier issue, the buyer on the new one.
    old_text, new_text = look.text(old.content), look.text(new.content)
    assert "一郎" in old_text and "陽介" not in old_text
    assert "陽介" in new_text and "一郎" not in new_text
    current = client.get(f"/api/v1/certificates/{number}/certificate.pdf", headers=keys["builder"])
    assert f"certificate-{new_issue}.pdf" in current.headers["content-disposition"]

    unknown = client.get(f"{base}/0000009999/certificate.pdf", headers=keys["builder"])
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    # Another certificate's issue is not this certificate's.
    other = f.issue(db, settings, house=f.house(lot="02"))
    crossed = client.get(
        f"/api/v1/certificates/{other}/issues/{old_issue}/certificate.pdf", headers=keys["builder"]
    )
    assert crossed.status_code == 404


@pytest.fixture
def statements():
    """The SQL the registry sends while the test runs, whichever engine sends it."""
    sent = []

    def remember(_connection, _cursor, statement, *_):
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", remember)
    yield sent
    event.remove(Engine, "before_cursor_execute", remember)


def test_certificates_are_paged_and_counted_by_the_database(db, settings, client, keys, statements):
    client.post(
        "/api/v1/developments/桑名和泉/certificates",
        json={"certificates": _lots(7)},
        headers=keys["builder"],
    )
    for lot in ("A", "B"):
        theirs = f.house(lot=lot, builder_code=f.OTHER_BUILDER, development=None)
        f.issue(db, settings, house=theirs, actor=f.STAFF)
    everything = client.get("/api/v1/certificates", params={"limit": 500}, headers=keys["staff"])
    every_number = [i["number"] for i in everything.json()["items"]]
    assert every_number == sorted(every_number) and len(every_number) == 9

    del statements[:]
    pages = [
        client.get(
            "/api/v1/certificates", params={"limit": 3, "offset": offset}, headers=keys["builder"]
        ).json()
        for offset in (0, 3, 6, 9)
    ]
    assert [p["total"] for p in pages] == [7] * 4
    assert [(p["limit"], p["offset"]) for p in pages] == [(3, 0), (3, 3), (3, 6), (3, 9)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1, 0]
    mine = [i["number"] for p in pages for i in p["items"]]
    assert mine == sorted(mine) and len(set(mine)) == 7
    assert {i["builder_code"] for p in pages for i in p["items"]} == {f.BUILDER}
    # The database counts and cuts: a COUNT and a LIMIT … OFFSET for each page.
    sql = [s.upper() for s in statements]
    assert sum("COUNT(" in s for s in sql) == 4
    assert sum("LIMIT" in s and "OFFSET" in s for s in sql) == 4

    # The filters apply to the total as to the items.
    by_development = client.get(
        "/api/v1/certificates",
        params={"development": "桑名和泉", "limit": 2, "offset": 6},
        headers=keys["staff"],
    ).json()
    assert by_development["total"] == 7 and len(by_development["items"]) == 1
    client.post(
        f"/api/v1/certificates/{mine[4]}/revoke", json={"reason": "x"}, headers=keys["staff"]
    )
    revoked = client.get(
        "/api/v1/certificates", params={"status": "revoked"}, headers=keys["builder"]
    ).json()
    assert revoked["total"] == 1 and [i["number"] for i in revoked["items"]] == [mine[4]]
    active = client.get(
        "/api/v1/certificates", params={"status": "active", "offset": 5}, headers=keys["builder"]
    ).json()
    assert active["total"] == 6 and len(active["items"]) == 1

    for params, field in [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        # Found by schemathesis: an offset past SQLite's integers was a 500.
        ({"offset": 2**80}, "offset"),
    ]:
        refused = client.get("/api/v1/certificates", params=params, headers=keys["builder"])
        assert refused.status_code == 422, params
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["field"] == field


def test_staff_list_endorsements_by_status_a_page_at_a_time(db, settings, client, keys):
    numbers = [f.issue(db, settings, house=f.house(lot=f"{n:02d}")) for n in range(1, 4)]
    tracking = [
        client.post("/api/v1/endorsements", json=f.public_endorsement(db, settings, number)).json()[
            "tracking_number"
        ]
        for number in numbers
    ]
    pending = client.get(
        "/api/v1/endorsements", params={"status": "pending"}, headers=keys["staff"]
    ).json()
    assert pending["total"] == 3
    first = pending["items"][0]
    assert first == {
        "tracking_number": tracking[0],
        "certificate_number": numbers[0],
        "status": "pending",
        "version": 1,
        "seller": "山本 一郎",
        "buyer": "森 陽介",
        "sale_date": "2026-11-01",
        "requested_on": "2026-11-23",  # the registry's day (TODAY), not the seller's
        "decided_on": None,
    }
    # What the list says is what a decision sends.
    approved = client.post(
        f"/api/v1/endorsements/{first['tracking_number']}/approve",
        json={"version": first["version"]},
        headers=keys["staff"],
    )
    assert approved.status_code == 201, approved.text
    client.post(
        f"/api/v1/endorsements/{tracking[1]}/reject",
        json={"reason": "書類不備", "version": 1},
        headers=keys["staff"],
    )

    def listed(**params):
        return client.get("/api/v1/endorsements", params=params, headers=keys["admin"]).json()

    assert [i["tracking_number"] for i in listed(status="pending")["items"]] == [tracking[2]]
    done = listed(status="approved")["items"]
    assert [(i["tracking_number"], i["version"]) for i in done] == [(tracking[0], 2)]
    assert done[0]["decided_on"] == settings.current_date().isoformat()
    assert [i["status"] for i in listed(status="rejected")["items"]] == ["rejected"]
    page = listed(limit=2, offset=1)
    assert page["total"] == 3
    assert [i["tracking_number"] for i in page["items"]] == tracking[1:]
    assert listed(limit=2, offset=3)["items"] == []
    assert client.get("/api/v1/endorsements", headers=keys["builder"]).status_code == 403
    assert (
        client.get("/api/v1/endorsements", params={"status": "lost"}, headers=keys["staff"])
    ).status_code == 400
    assert (
        client.get("/api/v1/endorsements", params={"offset": -1}, headers=keys["staff"])
    ).json()["field"] == "offset"
    # The public status of one request is still at its own path.
    code = tracking_code(settings.code_secret, tracking[2])
    public = client.get(f"/api/v1/endorsements/{tracking[2]}", params={"code": code})
    assert public.json()["status"] == "pending"


def test_staff_list_lease_applications_by_status_a_page_at_a_time(db, settings, client, keys):
    numbers = [f.issue(db, settings, house=f.house(lot=f"{n:02d}")) for n in range(1, 4)]
    cases = [
        client.post(
            "/api/v1/leases",
            headers=keys["staff"],
            json={
                "certificate_number": number,
                "hlp_code": f.HLP,
                "contract_form": "lifetime",
                "planned_move_out": "2027-06-01",
                "applied_on": "2026-11-01",
            },
        ).json()["case_number"]
        for number in numbers
    ]
    approved = client.post(
        f"/api/v1/leases/{cases[0]}/approve",
        headers=keys["staff"],
        json={"case_number": cases[0], "effective_date": "2027-06-01", "decided_on": "2026-11-20"},
    )
    assert approved.status_code == 201, approved.text
    client.post(f"/api/v1/leases/{cases[1]}/reject", headers=keys["staff"], json={"reason": "x"})

    def listed(**params):
        return client.get("/api/v1/leases", params=params, headers=keys["staff"]).json()

    applied = listed(status="applied")
    assert applied["total"] == 1
    item = applied["items"][0]
    assert (item["case_number"], item["certificate_number"]) == (cases[2], numbers[2])
    assert (item["status"], item["version"], item["decided_on"]) == ("applied", 1, None)
    assert (item["applied_on"], item["planned_move_out"]) == ("2026-11-01", "2027-06-01")
    done = listed(status="approved")["items"]
    assert [(i["case_number"], i["decided_on"]) for i in done] == [(cases[0], "2026-11-20")]
    assert done[0]["approval_number"] is not None
    assert [i["case_number"] for i in listed(status="rejected")["items"]] == [cases[1]]
    page = listed(limit=1, offset=1)
    assert (page["total"], [i["case_number"] for i in page["items"]]) == (3, [cases[1]])
    assert listed(limit=501)["field"] == "limit"
    assert client.get("/api/v1/leases", headers=keys["other"]).status_code == 403
    assert client.get("/api/v1/leases", headers=keys["admin"]).json()["total"] == 3


def test_reminders_coming_and_sent_over_http(db, settings, client, keys):
    from registry import reminders

    mine = f.issue(db, settings, owner_email="owner@example.jp")
    theirs = f.issue(
        db, settings, f.OTHER_ACTOR, house=f.house(builder_code=f.OTHER_BUILDER, development=None)
    )
    coming = client.get(
        "/api/v1/reminders", params={"as_of": "2025-10-16"}, headers=keys["builder"]
    ).json()
    assert [(r["number"], r["stage"], r["channel"]) for r in coming["items"]] == [
        (mine, "due", "letter+email")
    ]
    everyone = client.get(
        "/api/v1/reminders", params={"as_of": "2025-10-16"}, headers=keys["staff"]
    ).json()
    assert {r["number"] for r in everyone["items"]} == {mine, theirs}
    # Once a run has claimed them, they are listed as sent (here: a claim only).
    with db.transaction() as session:
        found = reminders.scan(session, settings, dt.date(2025, 10, 16))
    run = reminders.Run(db, settings, dt.date(2025, 10, 16))
    assert run._claim(found.owed[0], None)
    sent = client.get("/api/v1/reminders", params={"state": "sent"}, headers=keys["staff"])
    assert sent.json()["total"] == 1 and sent.json()["items"][0]["state"] == "claimed"
    bad = client.get("/api/v1/reminders", params={"limit": 0}, headers=keys["staff"])
    assert bad.status_code == 422 and bad.json()["field"] == "limit"


def test_counting_through_tracking_numbers_tells_nothing(db, settings, client):
    # Tracking numbers run in sequence; without the code given with one, its status
    # answers exactly like a number never given out.
    number = f.issue(db, settings)
    made = client.post(
        "/api/v1/endorsements", json=f.public_endorsement(db, settings, number)
    ).json()
    tracking, code = made["tracking_number"], made["code"]
    unknown = f"{int(tracking) + 1:010d}"
    answers = [
        client.get(f"/api/v1/endorsements/{tracking}"),
        client.get(f"/api/v1/endorsements/{tracking}", params={"code": "AAAA-AAAA"}),
        client.get(f"/api/v1/endorsements/{unknown}", params={"code": code}),
    ]
    assert [a.status_code for a in answers] == [404, 404, 404]
    details = {a.json()["detail"].replace(tracking, "N").replace(unknown, "N") for a in answers}
    assert len(details) == 1
    right = client.get(f"/api/v1/endorsements/{tracking}", params={"code": code.lower()})
    assert right.status_code == 200 and right.json()["status"] == "pending"


def test_a_nul_in_a_filter_is_refused_by_name(db, settings, client, keys):
    # Found by schemathesis on PostgreSQL, which stores no NUL in text: it was a 500.
    f.issue(db, settings)
    listed = client.get(
        "/api/v1/certificates", params={"development": "桑名\x00"}, headers=keys["staff"]
    )
    flyer = client.get("/api/v1/developments/%00x/guarantee.pdf", headers=keys["staff"])
    for answer in (listed, flyer):
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == "development"
