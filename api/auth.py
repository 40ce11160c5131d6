"""Who a request comes from, decided before anything else of it is read (issue 14).

An authenticated route declares the roles it serves with `requires(...)`. One app-wide
guard (`Authentication.guard`) runs before Litestar resolves the handler's parameters,
so before the body is read or validated: a missing, malformed, unknown or revoked key
answers 401 with `WWW-Authenticate: Bearer`, a role the route does not serve 403, whatever
the body. The actor then reaches the handler as its `actor` parameter (`current_actor`).

The roles a route declares are the ones its service accepts; the services still check
roles and builders themselves and stay the authority (a builder asking for another
builder's house gets 404 from the service, like a number never issued). The guard only
refuses earlier what the service would refuse anyway, and the OpenAPI document and the
authentication test read the declaration.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Headers
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.params import SkipValidation

from registry import access
from registry.actors import Actor, Role
from registry.database import Database

ROLES = "kaseru_roles"
"""The handler `opt` key holding the roles an authenticated route serves."""
_ACTOR = "kaseru_actor"
"""Where the guard leaves the actor in the connection's state."""

BEARER = "bearer"
API_KEY = "apiKey"
SECURITY: list[dict[str, list[str]]] = [{BEARER: []}, {API_KEY: []}]
"""An authenticated operation's OpenAPI `security`: either scheme will do."""
CHALLENGE = {"WWW-Authenticate": "Bearer"}
MISSING = "a valid API key is required (Authorization: Bearer …)"


def presented_key(headers: Headers) -> str:
    """The key a request presents: `Authorization: Bearer <key>`, else `X-API-Key`."""
    header = headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:]
    return headers.get("x-api-key", "")


def requires(*roles: Role) -> dict[str, Any]:
    """The route decorator's arguments of a route only `roles` may call: the roles the guard
    enforces and the OpenAPI `security` that documents them."""
    assert roles, "an authenticated route serves at least one role"
    return {"opt": {ROLES: frozenset(roles)}, "security": SECURITY}


def roles_of(handler: BaseRouteHandler) -> frozenset[Role] | None:
    """The roles a route serves, or None for a public route."""
    found: frozenset[Role] | None = handler.opt.get(ROLES)
    return found


class Authentication:
    """The app-wide guard over one database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def actor(self, key: str) -> Actor | None:
        """The principal of `key`, or None for any unknown, malformed or revoked key."""
        with self.database.reading() as session:
            return access.authenticate(session, key)

    async def guard(self, connection: ASGIConnection[Any, Any, Any, Any], handler: Any) -> None:
        """Refuse the request before its parameters are resolved unless its key may call the
        route; public routes (no `requires`) pass untouched."""
        roles = roles_of(handler)
        if roles is None:
            return
        key = presented_key(connection.headers)
        # The key lookup is a database read: off the event loop, like the handlers'.
        found = await anyio.to_thread.run_sync(self.actor, key) if key else None
        if found is None:
            raise NotAuthorizedException(MISSING, headers=CHALLENGE)
        found.require(*roles)  # NotAllowed: 403, with the services' own wording
        connection.state[_ACTOR] = found


def current_actor(request: Request[Any, Any, Any]) -> Actor:
    """The actor the guard authenticated (the `actor` dependency)."""
    found = request.state.get(_ACTOR)
    if not isinstance(found, Actor):
        # A handler taking `actor` without `requires(...)`: refuse rather than act for no one.
        raise NotAuthorizedException(MISSING, headers=CHALLENGE)
    return found


ACTOR = Provide(current_actor, sync_to_thread=False)
"""The app-level dependency giving handlers their `actor` parameter."""
ActorDependency = NamedDependency[SkipValidation[Actor]]
"""A handler's `actor` parameter: the guard's actor, taken as it is (not validated)."""
