"""A development is one builder's, and the database keeps it so (registry/developments.py,
registry/models.py): one development of a name per builder however writers interleave, and
no house in another builder's development whatever the code does."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, func, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from registry import developments
from registry.database import Database
from registry.errors import NameTaken
from registry.models import Builder, Development, House
from tests import factories as f
from tests.waiting import wait_until

pytestmark = pytest.mark.usefixtures("parties")

APP = "kaseru-development-test"
"""application_name of the second writer's session, to find it in pg_stat_activity."""


def _builder(session, code: str) -> Builder:
    return session.exec(select(Builder).where(Builder.code == code)).one()


@pytest.mark.postgres
def test_two_writers_starting_one_development_make_one(db, settings):
    """The second writer's insert waits for the first's uncommitted row, then does nothing
    and joins it: no duplicate, and no unique-violation error for the second request."""
    url = make_url(settings.url).update_query_dict({"application_name": APP})
    other = Database(replace(settings, database_url=url.render_as_string(hide_password=False)))
    watcher = create_engine(settings.url, isolation_level="AUTOCOMMIT")
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            with other.transaction() as session:
                found = developments.for_lot(
                    session, _builder(session, f.BUILDER), "同時分譲地", "house.development"
                )
                session.commit()
                outcome["id"] = found.id
        except Exception as error:  # reported by the assertion below
            outcome["error"] = error

    def waiting() -> bool:
        with watcher.connect() as connection:
            return bool(
                connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :app "
                        "AND wait_event_type = 'Lock'"
                    ),
                    {"app": APP},
                ).scalar_one()
            )

    try:
        with db.transaction() as first:
            mine = developments.for_lot(
                first, _builder(first, f.BUILDER), "同時分譲地", "house.development"
            )
            thread = threading.Thread(target=second)
            thread.start()
            wait_until(waiting, "the second writer to wait for the first's row")
            first.commit()
        thread.join(timeout=60)
        assert not thread.is_alive()
    finally:
        other.dispose()
        watcher.dispose()
    assert outcome == {"id": mine.id}
    with db.reading() as session:
        assert session.exec(select(func.count()).select_from(Development)).one() == 1


def test_a_lot_never_joins_another_builders_development(db, settings):
    f.issue(db, settings, house=f.house(development="桑名和泉ガーデンタウン"))
    with db.transaction() as session, pytest.raises(NameTaken) as refused:
        developments.for_lot(
            session,
            _builder(session, f.OTHER_BUILDER),
            " 桑名和泉ガーデンタウン ",  # trimmed like any name, so no way around
            "house.development",
        )
    assert refused.value.field == "house.development"
    # Below the services too: the composite key refuses builder 2's house in builder 1's.
    with db.transaction() as session:
        house = session.exec(select(House)).one()
        development_id = house.development_id
    f.issue(
        db, settings, f.OTHER_ACTOR, house=f.house(builder_code=f.OTHER_BUILDER, development=None)
    )
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.execute(
            text("UPDATE house SET development_id = :d WHERE development_id IS NULL"),
            {"d": development_id},
        )
        session.commit()
