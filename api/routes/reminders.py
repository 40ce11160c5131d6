"""Inspection reminders (builders their own, staff, admins): those coming and those sent."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from litestar import get
from litestar.params import FromQuery, QueryParameter

from api.auth import ActorDependency, requires
from api.problems import documented
from api.routes.answers import ItemPage, ReminderItem, typed
from api.routes.context import ContextDependency
from registry import reminders
from registry.actors import Role


class ReminderState(StrEnum):
    COMING = "coming"
    SENT = "sent"


@get(
    "/api/v1/reminders",
    sync_to_thread=True,
    responses=documented(400, 401, 403, 422),
    **requires(Role.BUILDER, Role.STAFF, Role.ADMIN),
)
def reminder_list(
    context: ContextDependency,
    actor: ActorDependency,
    which: Annotated[ReminderState, QueryParameter(name="state")] = ReminderState.COMING,
    as_of: FromQuery[dt.date | None] = None,
    limit: FromQuery[int] = 50,
    offset: FromQuery[int] = 0,
) -> ItemPage[ReminderItem]:
    """Inspection reminders of the caller's certificates: `coming` (owed on `as_of`,
    default today, and not sent yet) or `sent` (newest first)."""
    settings = context.settings
    with context.database.reading() as session:
        if which is ReminderState.SENT:
            return typed(reminders.sent(session, actor, limit, offset), ReminderItem)
        return typed(
            reminders.coming(
                session, actor, settings, as_of or settings.current_date(), limit, offset
            ),
            ReminderItem,
        )


HANDLERS = [reminder_list]
