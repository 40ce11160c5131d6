"""Schemathesis over the OpenAPI schema: generated requests (bounded, with a staff key so the
routes run past authentication) get no 5xx, no status the operation does not document and
no answer that breaks the schema documented for its status."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from registry import access
from registry.actors import Role
from tests import factories as f


@pytest.fixture
def staff_key(db, parties):
    with db.transaction() as session:
        return access.create_api_key(session, f.ADMIN, Role.STAFF)[1]


@pytest.fixture
def api_schema(maker, db, parties, settings):
    f.issue(db, settings)  # something real for generated numbers to find
    app = create_app(replace(maker.settings, rate_limit=0))
    return schemathesis.openapi.from_asgi("/schema/openapi.json", app)


# CI draws 12 fixed (derandomized) examples per operation, so a red run names a real change;
# `KASERU_FUZZ_EXAMPLES=500` (bench/fuzz.sh) draws that many fresh random ones instead.
EXAMPLES = int(os.environ.get("KASERU_FUZZ_EXAMPLES") or 0)


def test_no_server_errors_and_answers_fit_the_schema(api_schema, staff_key):
    # Schemathesis' own pytest plugin does not load under pytest 9, so each operation's
    # cases are drawn here with hypothesis directly; a failure names the operation.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES or 12,
            derandomize=not EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(
                headers={"authorization": f"Bearer {staff_key}"},
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    response_headers_conformance,
                    response_schema_conformance,
                ],
            )

        run()
