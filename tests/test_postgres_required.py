"""A run asked to use PostgreSQL stops loudly when the server is unreachable; it never
skips its database tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_unreachable_postgres_stops_the_run():
    env = {
        **os.environ,
        "KASERU_TEST_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/registry/test_migrations.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "PostgreSQL at" in done.stdout + done.stderr
    assert "unreachable" in done.stdout + done.stderr
    assert "skipped" not in done.stdout
