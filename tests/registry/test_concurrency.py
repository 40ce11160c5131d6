"""Numbers stay unique under concurrent writers (ISSUE 2: 8 writers, 500 certificates)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func
from sqlmodel import select

from registry import audit
from registry.database import Database
from registry.models import Certificate, House, Issue
from tests import factories as f

pytestmark = pytest.mark.usefixtures("parties")

WRITERS = 8
TOTAL = 500


def test_eight_writers_issue_500_certificates_with_distinct_numbers(settings):
    databases = [Database(settings) for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)

    def writer(index: int) -> list[str]:
        database = databases[index]
        start.wait()
        numbers = []
        for n in range(index, TOTAL, WRITERS):
            numbers.append(f.issue(database, settings, house=f.house(lot=f"{n:03d}")))
        return numbers

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(writer, range(WRITERS)))
    for database in databases:
        database.dispose()

    numbers = [n for chunk in results for n in chunk]
    assert len(numbers) == TOTAL
    assert len(set(numbers)) == TOTAL
    db = Database(settings)
    with db.reading() as session:
        assert session.exec(select(func.count(func.distinct(Certificate.number)))).one() == TOTAL
        assert session.exec(select(func.count(func.distinct(Issue.number)))).one() == TOTAL
        assert (
            session.exec(select(func.count(func.distinct(House.management_number)))).one() == TOTAL
        )
        serials = sorted(int(n[-6:]) for n in numbers)
        assert serials == list(range(1, TOTAL + 1))
        report = audit.verify(session)
        assert report.intact
        assert report.events == TOTAL + 4  # + 2 builders, 1 HLP, 1 area import
    db.dispose()
