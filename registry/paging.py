"""Pages of a listing: one size rule for every listing, and the count and the page's rows
both worked out by the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, func
from sqlalchemy import select as sa_select
from sqlmodel import Session

from registry.errors import InvalidInput

MAX_PAGE = 500
MAX_OFFSET = 2**31 - 1
"""Beyond any registry's size, and within what every database takes as an OFFSET."""


@dataclass(frozen=True)
class Page:
    """One page of a listing: `total` rows match the filters, `items` are those from
    `offset`, at most `limit` of them."""

    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]


def check_page(limit: int, offset: int) -> None:
    """Refuse a page size outside 1..MAX_PAGE or a negative offset, naming the field."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit", f"limit is 1 to {MAX_PAGE}; got {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput("offset", f"offset is 0 to {MAX_OFFSET:,}; got {offset}")


def paged(
    session: Session, query: Select[*tuple[Any, ...]], limit: int, offset: int
) -> tuple[int, Sequence[Row[*tuple[Any, ...]]]]:
    """The number of rows `query` matches (one COUNT) and the rows of one page of it, both
    worked out by the database, so only the page's rows leave it."""
    check_page(limit, offset)
    total = session.execute(
        sa_select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    return total, session.execute(query.limit(limit).offset(offset)).all()
