"""The one transaction rule (docs/architecture.md): the block of `Database.transaction()`
commits when it ends without an error and rolls back otherwise, services do not commit,
and a service that fails half-way leaves nothing, even when its caller catches the error
and its block goes on to commit."""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, select

from registry import access, areas, audit, developments, documents, services
from registry.actors import Role
from registry.database import Database, atomic, unit
from registry.inputs import LeaseApproval, LeaseInput
from registry.kinds import ContractForm, InspectionResult
from registry.models import Builder, Certificate, Issue
from registry.services.parties import builder_by_code
from registry.settings import Settings
from tests import factories as f

pytestmark = pytest.mark.usefixtures("parties")

ROOT = Path(__file__).resolve().parents[2]

COMMITS = {
    ("registry/database.py", "Database.transaction"): "the unit of work's own commit",
    ("registry/documents.py", "certificate_pdf"): "the hash before the file takes its name",
    ("registry/services/endorsements.py", "request_by_seller"): "a refusal's count",
}
"""The only commits in registry/, each for a reason its comment gives."""


def _rows(db: Database) -> dict[str, list[str]]:
    """Every row of every table, to show that a failed call left nothing behind."""
    with db.reading() as session:
        return {
            table.name: sorted(
                repr(tuple(row)) for row in session.execute(text(f"SELECT * FROM {table.name}"))
            )
            for table in SQLModel.metadata.sorted_tables
        }


def _lease(number: str) -> LeaseInput:
    return LeaseInput(
        certificate_number=number,
        hlp_code=f.HLP,
        contract_form=ContractForm.FIXED_PERIOD,
        planned_move_out=dt.date(2026, 10, 1),
        lease_years=15,
        applied_on=dt.date(2026, 3, 2),
        assessed_lower=88_000,
        assessed_upper=98_000,
    )


def _applied(db: Database, settings: Settings) -> str:
    number = f.issue(db, settings)
    with db.transaction() as session:
        return services.apply_lease(session, f.STAFF, settings, _lease(number)).case_number


def _requested(db: Database, settings: Settings) -> str:
    number = f.issue(db, settings)
    with db.transaction() as session:
        return services.request_endorsement(
            session, f.STAFF, settings, f.endorsement(number)
        ).tracking_number


def _inspected(db: Database, settings: Settings) -> str:
    number = f.issue(db, settings)
    with db.transaction() as session:
        services.record_inspection(
            session,
            f.BUILDER_ACTOR,
            settings,
            f.inspection(
                number, result=InspectionResult.REPAIRS_REQUIRED, repairs="土台の防腐補修"
            ),
        )
    return number


def _key(db: Database, settings: Settings) -> str:
    with db.transaction() as session:
        return access.create_api_key(session, f.ADMIN, Role.STAFF)[0]


def _lots(count: int) -> list[Any]:
    return [f.certificate(house=f.house(lot=f"{lot:02}")) for lot in range(1, count + 1)]


Call = Callable[[Session, Settings, Any], object]
CASES: dict[str, tuple[Callable[[Database, Settings], Any], Call]] = {
    "issue_certificate": (
        lambda db, settings: None,
        lambda s, settings, _: services.issue_certificate(
            s, f.BUILDER_ACTOR, settings, f.certificate()
        ),
    ),
    "issue_development": (
        lambda db, settings: None,
        lambda s, settings, _: services.issue_development(s, f.STAFF, settings, _lots(3)),
    ),
    "revoke_certificate": (
        f.issue,
        lambda s, settings, number: services.revoke_certificate(
            s, f.STAFF, settings, number, "虚偽の申請"
        ),
    ),
    "record_inspection": (
        f.issue,
        lambda s, settings, number: services.record_inspection(
            s, f.BUILDER_ACTOR, settings, f.inspection(number)
        ),
    ),
    "complete_repairs": (
        _inspected,
        lambda s, settings, number: services.complete_repairs(
            s, f.BUILDER_ACTOR, settings, number, dt.date(2025, 10, 30), "土台交換"
        ),
    ),
    "request_endorsement": (
        f.issue,
        lambda s, settings, number: services.request_endorsement(
            s, f.STAFF, settings, f.endorsement(number)
        ),
    ),
    "approve_endorsement": (
        _requested,
        lambda s, settings, tracking: services.approve_endorsement(s, f.STAFF, settings, tracking),
    ),
    "reject_endorsement": (
        _requested,
        lambda s, settings, tracking: services.reject_endorsement(
            s, f.STAFF, settings, tracking, "書類不備"
        ),
    ),
    "apply_lease": (
        f.issue,
        lambda s, settings, number: services.apply_lease(s, f.STAFF, settings, _lease(number)),
    ),
    "approve_lease": (
        _applied,
        lambda s, settings, case: services.approve_lease(
            s,
            f.STAFF,
            settings,
            LeaseApproval(case_number=case, effective_date=dt.date(2026, 10, 1)),
        ),
    ),
    "reject_lease": (
        _applied,
        lambda s, settings, case: services.reject_lease(s, f.STAFF, settings, case, "取下げ"),
    ),
    "register_builder": (
        lambda db, settings: None,
        lambda s, settings, _: services.register_builder(s, f.ADMIN, "000003", "三棟目工務店"),
    ),
    "register_hlp": (
        lambda db, settings: None,
        lambda s, settings, _: services.register_hlp(s, f.ADMIN, "HLP-000002", "住替 花子"),
    ),
    "import_areas": (
        lambda db, settings: None,
        lambda s, settings, _: areas.import_areas(
            s, f.STAFF, areas.rows_for([("1000001", "70000"), ("5110838", "30000")])
        ),
    ),
    "record_manual_assessment": (
        lambda db, settings: None,
        lambda s, settings, _: areas.record_manual_assessment(
            s, f.STAFF, "1000001", "東京都千代田区千代田1", 70_000, dt.date(2015, 10, 1)
        ),
    ),
    "create_api_key": (
        lambda db, settings: None,
        lambda s, settings, _: access.create_api_key(s, f.ADMIN, Role.BUILDER, f.BUILDER),
    ),
    "revoke_api_key": (
        _key,
        lambda s, settings, key_id: access.revoke_api_key(s, f.ADMIN, key_id),
    ),
    "create_development": (
        lambda db, settings: None,
        lambda s, settings, _: developments.create(
            s, f.STAFF, builder_by_code(s, f.BUILDER), "新分譲地"
        ),
    ),
}


def _break_audit(monkeypatch: pytest.MonkeyPatch, after: int = 0) -> list[int]:
    """Make the audit trail fail on its (after + 1)th event: every service writes its
    rows before it records them, so the failure comes half-way."""
    record = audit.record
    calls: list[int] = []

    def broken(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) > after:
            raise RuntimeError("the audit trail failed")
        return record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", broken)
    return calls


@pytest.mark.parametrize("name", CASES)
def test_a_service_failing_half_way_leaves_nothing_though_its_caller_catches(
    db, settings, monkeypatch, name
):
    prepare, call = CASES[name]
    given = prepare(db, settings)
    before = _rows(db)
    # issue_development fails at its last lot, the first two issued whole, audit included.
    calls = _break_audit(monkeypatch, after=2 if name == "issue_development" else 0)
    with db.transaction() as session:
        with pytest.raises(RuntimeError, match="the audit trail failed"):
            call(session, settings, given)
        monkeypatch.undo()
        # The block goes on and ends without an error, so it commits what it holds.
        services.register_hlp(session, f.ADMIN, "HLP-000009", "後続 次郎")
    assert calls, "the service never reached the audit trail"
    after = _rows(db)
    assert any("HLP-000009" in row for row in after["hlp"])
    after["hlp"] = [row for row in after["hlp"] if "HLP-000009" not in row]
    # The HLP's own event moved the chain: compare all but the audit tables.
    for table in ("audit_event", "audit_head"):
        before.pop(table), after.pop(table)
    assert after == before
    with db.reading() as session:
        assert audit.verify(session).intact


@pytest.mark.parametrize("name", CASES)
def test_each_service_completes_when_nothing_fails(db, settings, name):
    """The other half of the case above: the same call, unbroken, writes (so the test
    above shows a rollback, not a call that writes nothing)."""
    prepare, call = CASES[name]
    given = prepare(db, settings)
    before = _rows(db)
    with db.transaction() as session:
        call(session, settings, given)
    assert _rows(db) != before


def test_a_failing_certificate_pdf_records_no_hash_and_names_no_file(
    db, settings, maker, monkeypatch
):
    number = f.issue(db, settings)
    _break_audit(monkeypatch)
    with db.transaction() as session, pytest.raises(RuntimeError):
        documents.certificate_pdf(session, f.STAFF, maker, number)
    monkeypatch.undo()
    with db.reading() as session:
        assert session.exec(select(Issue.pdf_sha256)).all() == [None]
    assert not list(settings.documents_dir.glob("*.pdf"))
    with db.transaction() as session:
        pdf, issue = documents.certificate_pdf(session, f.STAFF, maker, number)
    assert (settings.documents_dir / f"certificate-{issue.number}.pdf").read_bytes() == pdf


def test_a_block_that_raises_after_a_service_rolls_the_service_back(db, settings):
    before = _rows(db)
    with pytest.raises(RuntimeError, match="after the service"), db.transaction() as session:
        services.issue_certificate(session, f.BUILDER_ACTOR, settings, f.certificate())
        assert session.exec(select(Certificate)).all()  # written, in the block
        raise RuntimeError("after the service")
    assert _rows(db) == before


def test_a_block_that_ends_normally_commits_and_the_service_alone_does_not(db, settings):
    with db.transaction() as session:
        number = services.issue_certificate(
            session, f.BUILDER_ACTOR, settings, f.certificate()
        ).number
        services.register_builder(session, f.ADMIN, "000003", "三棟目工務店")
        # Another connection sees nothing yet: no service committed on its own.
        with db.reading() as other:
            assert other.exec(select(Certificate)).all() == []
            assert other.exec(select(Builder).where(Builder.code == "000003")).first() is None
    assert f.load(db, number).number == number
    with db.reading() as session:
        assert session.exec(select(Builder).where(Builder.code == "000003")).one()


def test_a_database_error_in_a_service_leaves_the_callers_block_usable(db, settings, monkeypatch):
    """On PostgreSQL an error aborts the whole transaction; the service's savepoint is
    what lets the caller's block go on and commit."""

    def failing(session: Session, *args: Any, **kwargs: Any) -> None:
        session.execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr(audit, "record", failing)
    with db.transaction() as session:
        with pytest.raises(DBAPIError, match="no_such_table"):
            services.register_builder(session, f.ADMIN, "000003", "三棟目工務店")
        monkeypatch.undo()
        services.register_builder(session, f.ADMIN, "000004", "四棟目工務店")
    with db.reading() as session:
        codes = session.exec(select(Builder.code).order_by(Builder.code)).all()
    assert codes == [f.BUILDER, f.OTHER_BUILDER, "000004"]


def test_units_nest_and_undo_only_their_own_writes(db, settings):
    @atomic
    def outer(session: Session) -> None:
        services.register_builder(session, f.ADMIN, "000003", "三棟目工務店")
        with pytest.raises(RuntimeError), unit(session):
            services.register_builder(session, f.ADMIN, "000004", "四棟目工務店")
            raise RuntimeError

    with db.transaction() as session:
        outer(session)
    with db.reading() as session:
        codes = session.exec(select(Builder.code).order_by(Builder.code)).all()
    assert codes == [f.BUILDER, f.OTHER_BUILDER, "000003"]


def _commits(path: Path) -> list[tuple[str, int]]:
    """(the function, the line) of each `.commit()` call in a module."""
    found = []

    def walk(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = where
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                inner = f"{where}.{child.name}" if where else child.name
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr == "commit"
            ):
                found.append((where, child.lineno))
            walk(child, inner)

    walk(ast.parse(path.read_text()), "")
    return found


def test_no_registry_module_commits_but_the_named_exceptions():
    found = {}
    for path in sorted((ROOT / "registry").rglob("*.py")):
        for function, line in _commits(path):
            found[(path.relative_to(ROOT).as_posix(), function)] = line
    assert set(found) == set(COMMITS)
    for (module, _), line in found.items():
        if module == "registry/database.py":
            continue
        lines = (ROOT / module).read_text().splitlines()
        # Each exception says why, in a comment just above it.
        assert any(x.strip().startswith("#") for x in lines[line - 4 : line - 1]), module


def test_nothing_takes_a_commit_flag():
    for folder in ("registry", "api"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    names = [a.arg for a in (*node.args.args, *node.args.kwonlyargs)]
                    assert "commit" not in names, f"{path}:{node.lineno}"
                if isinstance(node, ast.Call):
                    keywords = [k.arg for k in node.keywords]
                    assert "commit" not in keywords, f"{path}:{node.lineno}"
