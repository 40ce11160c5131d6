"""Authentication comes first (issue 14): every operation the OpenAPI document marks as
authenticated (not a hand-kept list) answers 401 problem+json with `WWW-Authenticate:
Bearer` to no key, a malformed header, an unknown key and a revoked key, and 403 to each
role it does not serve, with a valid body and with a malformed one alike; a builder key of
another builder is refused too. Nothing is written by any of these requests."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial

import msgspec
import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from api.app import create_app
from api.auth import ROLES
from api.problems import TITLES
from registry import access
from registry.actors import Role
from tests import factories as f

pytestmark = pytest.mark.usefixtures("parties")

MALFORMED = b'{"certificates": [{"house": '
"""A body no route can parse: cut off mid-object."""


def _key(db, role, builder=None) -> tuple[str, str]:
    with db.transaction() as session:
        return access.create_api_key(session, f.ADMIN, role, builder)


def _certificate_json(**changes) -> dict:
    return json.loads(msgspec.json.encode(f.certificate(**changes)))


@pytest.fixture
def world(db, settings, maker):
    """A registry with something for every path parameter to name: builder 000001's
    certificate in its development, a pending endorsement, an applied lease and a spare
    API key; the app over it without the rate limit."""
    app = create_app(replace(maker.settings, rate_limit=0))
    staff = _key(db, Role.STAFF)[1]
    revoked_id, revoked = _key(db, Role.STAFF)
    spare_id, _ = _key(db, Role.BUILDER, f.OTHER_BUILDER)
    keys = {
        Role.BUILDER: _key(db, Role.BUILDER, f.BUILDER)[1],
        Role.STAFF: staff,
        Role.ADMIN: _key(db, Role.ADMIN)[1],
    }
    other = _key(db, Role.BUILDER, f.OTHER_BUILDER)[1]
    with db.transaction() as session:
        access.revoke_api_key(session, f.ADMIN, revoked_id)
    number = f.issue(db, settings)
    with TestClient(app) as client:
        staff_headers = {"authorization": f"Bearer {staff}"}
        record = client.get(f"/api/v1/certificates/{number}/record", headers=staff_headers)
        assert record.status_code == 200, record.text
        endorsement = client.post(
            "/api/v1/endorsements", json=f.public_endorsement(db, settings, number)
        )
        assert endorsement.status_code == 201, endorsement.text
        lease = client.post("/api/v1/leases", headers=staff_headers, json=_lease(number))
        assert lease.status_code == 201, lease.text
        yield {
            "app": app,
            "client": client,
            "keys": keys,
            "other": other,
            "revoked": revoked,
            "params": {
                "number": number,
                "issue_number": record.json()["issue_number"],
                "name": record.json()["house"]["development"],
                "tracking": endorsement.json()["tracking_number"],
                "case": lease.json()["case_number"],
                "key_id": spare_id,
            },
        }


def _lease(number: str) -> dict:
    return {
        "certificate_number": number,
        "hlp_code": f.HLP,
        "contract_form": "fixed_period",
        "planned_move_out": "2027-06-01",
        "lease_years": 15,
        "applied_on": "2026-11-01",
        "assessed_lower": 88000,
        "assessed_upper": 98000,
    }


def _valid_bodies(params: dict[str, str]) -> dict[tuple[str, str], dict]:
    """A body each authenticated operation with a request body would accept from a role
    it serves (builder 000001's houses)."""
    return {
        ("POST", "/api/v1/certificates"): _certificate_json(house=f.house(lot="77")),
        ("POST", "/api/v1/developments"): {"name": "新しい分譲地", "builder_code": f.BUILDER},
        ("POST", "/api/v1/developments/{name}/certificates"): {
            "certificates": [_certificate_json(house=f.house(lot="78"))]
        },
        ("POST", "/api/v1/certificates/{number}/inspections"): {
            "inspected_on": "2026-11-01",
            "inspector": "検査員 大野",
            "result": "passed",
        },
        ("POST", "/api/v1/certificates/{number}/repairs"): {
            "completed_on": "2026-11-01",
            "description": "外壁補修",
        },
        ("POST", "/api/v1/certificates/{number}/revoke"): {"reason": "誤登録"},
        ("POST", "/api/v1/endorsements/{tracking}/approve"): {"version": 1},
        ("POST", "/api/v1/endorsements/{tracking}/reject"): {"reason": "書類不備", "version": 1},
        ("POST", "/api/v1/leases"): _lease(params["number"]),
        ("POST", "/api/v1/leases/{case}/approve"): {
            "case_number": params["case"],
            "effective_date": "2027-06-01",
            "decided_rent": 95000,
            "decided_on": "2026-11-20",
        },
        ("POST", "/api/v1/leases/{case}/reject"): {"reason": "要件不足", "version": 1},
        ("POST", "/api/v1/areas"): {"csv": "5110838,50000\n"},
    }


def _declared_roles(app) -> dict[tuple[str, str], frozenset[Role]]:
    """The roles each route declares (api/auth.py's `requires`), by method and path."""
    found = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method, (handler, _) in route.route_handler_map.items():
                if ROLES in handler.opt:
                    found[(method, route.path_format)] = handler.opt[ROLES]
    return found


def _authenticated_operations(client) -> list[tuple[str, str, dict]]:
    document = client.get("/schema/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    ]


def _refused(answer, status: int, what: str) -> None:
    assert answer.status_code == status, f"{what}: {answer.status_code} {answer.text[:300]}"
    assert answer.headers["content-type"].startswith("application/problem+json"), what
    assert answer.json()["status"] == status, what
    assert answer.json()["title"] == TITLES[status], what
    if status == 401:
        assert answer.headers.get("www-authenticate") == "Bearer", what


def test_every_authenticated_operation_refuses_before_reading_the_body(db, world):
    client, params = world["client"], world["params"]
    operations = _authenticated_operations(client)
    roles = _declared_roles(world["app"])
    bodies = _valid_bodies(params)
    # Every operation the document marks as authenticated declares its roles, and no
    # route declares roles without the document saying so.
    assert {(m, p) for m, p, _ in operations} == set(roles)
    assert len(operations) >= 23  # the 23 of issue 14; more as routes are added

    unauthenticated = {
        "no key": {},
        "a malformed header": {"authorization": "Basic c3RhZmY6c3RhZmY="},
        "an empty bearer": {"authorization": "Bearer "},
        "a key that is not one": {"x-api-key": "not-a-key"},
        "an unknown key": {"authorization": "Bearer ksr_000000000000_nope"},
        "an unknown X-API-Key": {"x-api-key": "ksr_000000000000_nope"},
        "a revoked key": {"authorization": f"Bearer {world['revoked']}"},
    }
    before = f.counts(db)
    cases = 0
    for method, path, operation in operations:
        unknown = [n for n in _path_names(path) if n not in params]
        assert not unknown, f"{method} {path}: give the test a value for {unknown}"
        url = path.format(**params)
        has_body = "requestBody" in operation
        assert not has_body or (method, path) in bodies, f"{method} {path}: give a valid body"
        valid = json.dumps(bodies.get((method, path), {}), ensure_ascii=False).encode()
        served = roles[(method, path)]
        for shape, content in (("a valid body", valid), ("a malformed body", MALFORMED)):
            call = partial(_call, client, method, url, content)
            for who, headers in unauthenticated.items():
                _refused(call(headers), 401, f"{method} {path} with {who} and {shape}")
                cases += 1
            for role, key in world["keys"].items():
                if role not in served:
                    answer = call({"authorization": f"Bearer {key}"})
                    _refused(answer, 403, f"{method} {path} as {role} with {shape}")
                    cases += 1
            if Role.BUILDER in served and _names_builder_data(method, path):
                # The guard lets a builder through; the service refuses another builder's
                # house (404, like a number never issued) or its lots (403). With a
                # malformed body the body is refused first: nothing is written either way.
                answer = call({"authorization": f"Bearer {world['other']}"})
                refusals = (403, 404) if shape == "a valid body" else (400, 403, 404)
                assert answer.status_code in refusals, f"{method} {path} as another builder"
                assert answer.headers["content-type"].startswith("application/problem+json")
                cases += 1
        assert f.counts(db) == before, f"{method} {path} wrote something"
    print(f"\n{len(operations)} authenticated operations, {cases} refused requests")
    assert cases >= len(operations) * 2 * len(unauthenticated)


def test_a_served_role_gets_past_the_guard_with_a_malformed_body(world):
    # The other side: a key the route serves reaches body parsing, so the 401s above are
    # the guard's and not a body refused some other way.
    client, params = world["client"], world["params"]
    headers = {
        "authorization": f"Bearer {world['keys'][Role.STAFF]}",
        "content-type": "application/json",
    }
    answer = client.post(
        f"/api/v1/certificates/{params['number']}/inspections", content=MALFORMED, headers=headers
    )
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_the_actor_reaches_the_handler(world):
    # X-API-Key works as the bearer header does, and the actor is the key's principal: a
    # builder's listing holds its own houses only.
    client, params = world["client"], world["params"]
    mine = client.get("/api/v1/certificates", headers={"x-api-key": world["keys"][Role.BUILDER]})
    theirs = client.get("/api/v1/certificates", headers={"x-api-key": world["other"]})
    assert [i["number"] for i in mine.json()["items"]] == [params["number"]]
    assert theirs.json()["total"] == 0


def _call(client, method: str, url: str, content: bytes, headers: dict[str, str]):
    return client.request(
        method, url, content=content, headers={"content-type": "application/json", **headers}
    )


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _names_builder_data(method: str, path: str) -> bool:
    """Whether a valid request names builder 000001's house, development or lots (rather
    than listing whatever the caller may see)."""
    return "{" in path or method == "POST"
