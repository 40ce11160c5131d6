"""API keys (admins): revoke one at once. Keys are made with `kaseru apikey create`."""

from __future__ import annotations

from litestar import post
from litestar.params import FromPath

from api.auth import ActorDependency, requires
from api.problems import documented
from api.routes.answers import KeyRevoked
from api.routes.context import ContextDependency
from registry import access
from registry.actors import Role


@post(
    "/api/v1/apikeys/{key_id:str}/revoke",
    sync_to_thread=True,
    responses=documented(401, 403, 404),
    **requires(Role.ADMIN),
)
def revoke_key(
    context: ContextDependency, actor: ActorDependency, key_id: FromPath[str]
) -> KeyRevoked:
    """Revoke an API key at once (admin)."""
    with context.database.transaction() as session:
        access.revoke_api_key(session, actor, key_id)
    return KeyRevoked(id=key_id, revoked=True)


HANDLERS = [revoke_key]
