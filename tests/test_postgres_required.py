"""A run asked to use PostgreSQL stops loudly, at start-up and whatever it collects, when
the server is unreachable: exit 3 and a one-line reason, never skipped tests. The SQLite
run never touches PostgreSQL (tests marked `postgres` are deselected there)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOBODY = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"


def _pytest(*arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    # Not the pass's database, nor the xdist worker this test may run in (the child is a
    # run of its own, and would otherwise take a worker's database name).
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "KASERU_TEST_DATABASE_URL" and not k.startswith("PYTEST_XDIST")
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *arguments],
        cwd=ROOT,
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize(
    "target",
    [
        "tests/registry/test_migrations.py",  # database tests
        "tests/registry/test_numbers.py",  # no database at all: still refused
        "tests/registry/test_backup.py::test_restore_never_holds_tables_while_waiting_for_another",
    ],
)
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "two workers"])
def test_unreachable_postgres_stops_the_run(target, workers):
    done = _pytest(target, *workers, KASERU_TEST_DATABASE_URL=NOBODY)
    out = done.stdout + done.stderr
    assert done.returncode == 3, out
    reasons = [line for line in done.stdout.splitlines() if "unreachable" in line]
    assert len(reasons) == 1, out  # the reason, on one line
    assert f"PostgreSQL at {NOBODY} is unreachable: " in reasons[0]
    assert "passed" not in out and "skipped" not in out and "Traceback" not in out


def test_the_sqlite_run_deselects_the_postgres_tests():
    done = _pytest("tests/registry/test_backup.py", "--collect-only")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(2 deselected)" in done.stdout
    assert "test_restore_never_holds_tables_while_waiting_for_another" not in done.stdout
    assert "test_a_restore_that_fails_part_way_changes_nothing" not in done.stdout


@pytest.mark.postgres
def test_the_postgres_run_keeps_only_the_tests_that_touch_a_database():
    from tests.conftest import PASS_URL

    done = _pytest(
        "tests/registry/test_numbers.py", "--collect-only", KASERU_TEST_DATABASE_URL=PASS_URL
    )
    assert done.returncode == 0, done.stdout + done.stderr
    kept = {line.strip() for line in done.stdout.splitlines() if "::" in line}
    # The number sequences live in the database (kept); parsing a number does not.
    assert "tests/registry/test_numbers.py::test_the_first_numbers_of_each_sequence" in kept
    assert "tests/registry/test_numbers.py::test_specimen_certificate_number_parses" not in kept
    assert len(kept) == 7, kept
    assert "deselected" in done.stdout
