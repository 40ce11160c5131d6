"""The OpenAPI document (issue 14): valid OpenAPI by the reference validator, titled and
versioned as the package, a bearer scheme on the authenticated operations only, every
error status documented with the problem+json shape, every JSON answer typed, and
examples on the main operations."""

from __future__ import annotations

import importlib.metadata

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from openapi_spec_validator import validate

from api.app import create_app
from api.auth import ROLES

PUBLIC = {
    ("GET", "/v/{payload}"),
    ("POST", "/v/{payload}"),
    ("GET", "/api/v1/certificates/{number}"),
    ("POST", "/api/v1/verify/pdf"),
    ("GET", "/api/v1/keys"),
    ("POST", "/api/v1/endorsements"),
    ("GET", "/api/v1/endorsements/{tracking}"),
    ("GET", "/developments/{builder_code}/{name}"),
    ("GET", "/developments/{name}"),
    ("GET", "/healthz"),
}
"""The operations anyone may call (README, "The registry API"); every other is
authenticated."""
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def document(app):
    with TestClient(app) as client:
        answer = client.get("/schema/openapi.json")
    assert answer.status_code == 200
    return answer.json()


def _operations(document):
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def _resolve(document, schema):
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def test_the_reference_validator_accepts_the_document(document):
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_title_and_version_are_the_packages(document):
    assert document["info"]["title"] == "kaseru registry API"
    assert document["info"]["version"] == importlib.metadata.version("kaseru")


def test_the_security_schemes_are_declared(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKey"]["type"] == "apiKey"
    assert (schemes["apiKey"]["in"], schemes["apiKey"]["name"]) == ("header", "X-API-Key")
    assert "security" not in document  # no global requirement: public operations stay public


def test_authenticated_operations_and_only_they_declare_security(app, document):
    declared = {
        (method, route.path_format)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for method, (handler, _) in route.route_handler_map.items()
        if ROLES in handler.opt
    }
    operations = _operations(document)
    assert len(operations) >= 33
    for method, path, operation in operations:
        if (method, path) in PUBLIC:
            assert "security" not in operation, f"{method} {path} is public"
            assert (method, path) not in declared
        else:
            assert operation.get("security") == [{"bearer": []}, {"apiKey": []}], (method, path)
            assert (method, path) in declared, f"{method} {path}: the guard must know it"
            for status in ("401", "403"):
                assert status in operation["responses"], f"{method} {path} documents {status}"


def test_every_401_names_its_challenge_header(app, document):
    """The header a refused client reads to learn the scheme is documented where it is sent."""
    challenged = [
        (method, path)
        for method, path, operation in _operations(document)
        if "401" in operation["responses"]
    ]
    assert len(challenged) >= 23
    for method, path, operation in _operations(document):
        if (method, path) in challenged:
            header = operation["responses"]["401"]["headers"]["WWW-Authenticate"]
            assert header["required"] is True and header["schema"]["const"] == "Bearer"
    with TestClient(app) as client:
        refused = client.get("/api/v1/certificates")
    assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer")


def test_every_error_status_is_a_documented_problem(document):
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        # The rate limit and the database answer these anywhere.
        assert {"429", "503"} <= set(responses), f"{method} {path}"
        if "requestBody" in operation:
            assert {"400", "413"} <= set(responses), f"{method} {path}"
        for status, response in responses.items():
            if int(status) < 400:
                continue
            content = response.get("content") or {}
            assert list(content) == ["application/problem+json"], f"{method} {path} {status}"
            schema = _resolve(document, content["application/problem+json"]["schema"])
            assert set(schema["properties"]) >= PROBLEM_FIELDS, f"{method} {path} {status}"
            assert set(schema["required"]) >= PROBLEM_FIELDS, f"{method} {path} {status}"


def test_every_json_answer_is_typed(document):
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400 or "application/json" not in (response.get("content") or {}):
                continue
            schema = _resolve(document, response["content"]["application/json"]["schema"])
            assert schema.get("properties"), f"{method} {path} {status} says nothing"


def test_verifying_a_pdf_answers_200(document):
    responses = document["paths"]["/api/v1/verify/pdf"]["post"]["responses"]
    assert "200" in responses and "201" not in responses


@pytest.mark.parametrize(
    ("method", "path", "where"),
    [
        ("post", "/api/v1/certificates", "requestBody"),
        ("post", "/api/v1/certificates", "201"),
        ("post", "/api/v1/developments/{name}/certificates", "requestBody"),
        ("post", "/api/v1/developments/{name}/certificates", "201"),
        ("post", "/api/v1/developments", "requestBody"),
        ("get", "/api/v1/certificates/{number}", "200"),
        ("post", "/api/v1/endorsements", "requestBody"),
        ("post", "/api/v1/endorsements", "201"),
    ],
)
def test_the_main_operations_carry_examples(document, method, path, where):
    operation = document["paths"][path][method]
    holder = operation["requestBody"] if where == "requestBody" else operation["responses"][where]
    (media,) = holder["content"].values()
    # A body's examples are its schema's (JSON Schema `examples`), an answer's the media's.
    found = [e["value"] for e in (media.get("examples") or {}).values()]
    found += media["schema"].get("examples", [])
    assert found, f"{method} {path} {where}"
    for example in found:
        assert isinstance(example, dict) and example
